"""HTTP clients for the load benchmarks: a workstation and a phone per pair, each with its
own cookie jar (requests.Session), talking to the bench Odoo on 127.0.0.1 only.

Odoo 18 answers HTTP/1.0-style (one request per connection) in prefork mode, so every call
opens a new TCP connection, as a browser behind no proxy would.
"""

import contextlib
import os
import threading
import time

import requests

from common import HTTP, ORIGIN

JSON = {"Content-Type": "application/json"}
PHONE = {"Content-Type": "application/json", "Origin": ORIGIN}
TIMEOUT = 30


# Odoo's prefork server listens with a backlog of 8 x workers (16 here) and gives a worker 2 s
# to read a request it accepted; in production a reverse proxy queues the browsers' requests in
# front of it. The client models that queue: at most MAX_INFLIGHT requests in flight at once
# (0 = no cap: every thread connects directly, as with no proxy at all).
MAX_INFLIGHT = int(os.environ.get("BENCH_MAX_INFLIGHT", "16"))
_slots = threading.BoundedSemaphore(MAX_INFLIGHT) if MAX_INFLIGHT > 0 else None


def set_max_inflight(n):
    global MAX_INFLIGHT, _slots
    MAX_INFLIGHT = n
    _slots = threading.BoundedSemaphore(n) if n > 0 else None


@contextlib.contextmanager
def slot():
    if _slots is None:
        yield
        return
    with _slots:
        yield


class FlowError(Exception):
    pass


class Session(requests.Session):
    """requests.Session whose every request waits for a slot of the modelled proxy queue."""

    def request(self, *args, **kwargs):
        with slot():
            return super().request(*args, **kwargs)


def _json(resp, what):
    if resp.status_code != 200:
        raise FlowError(f"{what}: HTTP {resp.status_code} {resp.text[:200]}")
    return resp.json()


def ws_new(ws):
    return _json(ws.post(f"{HTTP}/auth_masterkey/login/new", json={}, headers=JSON, timeout=TIMEOUT), "login/new")


def ws_status(ws, rid):
    return _json(ws.post(f"{HTTP}/auth_masterkey/login/status", json={"rid": rid}, headers=JSON,
                         timeout=TIMEOUT), "login/status")["state"]


def ws_session(ws, rid):
    """POST the login form; True when Odoo logged the browser in (303 away from /web/login)."""
    resp = ws.post(f"{HTTP}/auth_masterkey/login/session", data={"rid": rid}, allow_redirects=False, timeout=TIMEOUT)
    location = resp.headers.get("Location", "")
    return resp.status_code == 303 and "masterkey_error" not in location and "/web/login" not in location


def session_info(ws):
    resp = ws.post(f"{HTTP}/web/session/get_session_info", json={"jsonrpc": "2.0", "method": "call", "params": {}},
                   headers=JSON, timeout=TIMEOUT)
    data = _json(resp, "get_session_info")
    if "error" in data:
        return None
    return data["result"]


def phone_answer(ph, phone, rid, match_code):
    """The phone's two calls; returns the time the approval came back (committed)."""
    options = _json(ph.post(f"{HTTP}/auth_masterkey/phone/login/options",
                            json={"rid": rid, "enrolment": phone.enrolment_id}, headers=PHONE, timeout=TIMEOUT),
                    "phone/login/options")
    if match_code not in options.get("match_choices", [match_code]):
        raise FlowError("the match code is not among the phone's choices")
    payload = phone.answer_payload(options, match_code=match_code)
    reply = _json(ph.post(f"{HTTP}/auth_masterkey/phone/login/answer", json=payload, headers=PHONE,
                          timeout=TIMEOUT), "phone/login/answer")
    approved_at = time.perf_counter()
    if reply.get("state") != "approved":
        raise FlowError(f"answer: state {reply.get('state')}")
    phone.apply_rotation(reply["rotation"], rid)
    return approved_at


def password_login(login, password, db):
    s = Session()
    resp = s.post(f"{HTTP}/web/session/authenticate", headers=JSON, timeout=TIMEOUT, json={
        "jsonrpc": "2.0", "method": "call", "params": {"db": db, "login": login, "password": password}})
    data = _json(resp, "session/authenticate")
    uid = (data.get("result") or {}).get("uid")
    if not uid:
        raise FlowError(f"password login refused: {str(data.get('error'))[:200]}")
    return uid


def masterkey_login(phone):
    """The whole QR flow, sequential (the phone answers at once, one status poll)."""
    ws, ph = Session(), Session()
    new = ws_new(ws)
    phone_answer(ph, phone, new["rid"], new["match_code"])
    if ws_status(ws, new["rid"]) != "approved":
        raise FlowError("status is not approved after the phone's approval")
    if not ws_session(ws, new["rid"]):
        raise FlowError("login/session refused")
    return True
