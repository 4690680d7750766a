"""HTTP endpoints of MasterKey. Thin: parse, call the models, map typed errors to 4xx.

JSON endpoints are plain POST routes answering JSON with a real HTTP status (not JSON-RPC),
and they require Content-Type: application/json, which a cross-site form cannot send.
"""

import io
import json
from urllib.parse import quote
import logging
import secrets
import time

import qrcode
import qrcode.image.svg
from markupsafe import Markup
from werkzeug.exceptions import BadRequest

from odoo import http
from odoo.exceptions import AccessDenied
from odoo.http import request
from odoo.tools._vendor.useragents import UserAgent  # werkzeug 2.2 no longer parses user agents

from odoo.addons.web.controllers.utils import _get_login_redirect_url, ensure_db

from ..masterkey_core import errors, idle
from ..masterkey_core.codec import require_token
from ..models import masterkey_settings as settings

_logger = logging.getLogger(__name__)
BROWSER_COOKIE = "masterkey_browser_"  # + request id: one secret per request, minted here
MAX_BODY = 64 * 1024
STATUS = {errors.RateLimited: 429, errors.MalformedInput: 400, errors.Expired: 410, errors.Replayed: 409,
          errors.KeyUnavailable: 503, errors.PolicyError: 412, errors.VerificationFailed: 403}


def status_of(exc):
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def json_response(data, status=200):
    response = request.make_json_response(data, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def error_response(exc):
    return json_response({"error": exc.code, "message": exc.message}, status_of(exc))


def read_json():
    httpreq = request.httprequest
    if httpreq.mimetype != "application/json":
        raise errors.MalformedInput("Send the request as application/json.")
    if (httpreq.content_length or 0) > MAX_BODY:
        raise errors.MalformedInput("The request is too large.")
    # Without a Content-Length (chunked), werkzeug still stops at Odoo's max_content_length.
    body = httpreq.get_data(cache=False)
    if len(body) > MAX_BODY:
        raise errors.MalformedInput("The request is too large.")
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise errors.MalformedInput("The request is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise errors.MalformedInput("The request must be a JSON object.")
    return data


def is_token(value):
    """Ids we mint are short base64url tokens; anything else (NUL bytes included) is not one."""
    try:
        require_token(value, "id")
        return True
    except errors.MalformedInput:
        return False


def request_origin():
    origin = request.httprequest.headers.get("Origin")
    if not origin:
        raise errors.MalformedInput("The browser did not send an Origin header.")
    return origin


def browser_secret(rid):
    """The secret cookie this browser got with request ``rid``. One cookie per request, so a
    new request in another tab never unbinds a pending one, and the value is always ours."""
    return request.httprequest.cookies.get(BROWSER_COOKIE + str(rid or "")[:64], "") if is_token(rid) else ""


def set_browser_cookie(response, rid, secret, ttl):
    response.set_cookie(BROWSER_COOKIE + rid, secret, max_age=ttl + 300, httponly=True, samesite="Strict",
                        secure=request.httprequest.scheme == "https", path="/auth_masterkey")


def qr_svg(url):
    # A fixed mask skips qrcode's search over eight masks: half the cost, still scannable.
    code = qrcode.QRCode(image_factory=qrcode.image.svg.SvgPathImage, box_size=12, border=2, mask_pattern=0)
    code.add_data(url)
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    return buffer.getvalue().decode("utf-8")


def requester_info():
    httpreq = request.httprequest
    ua = httpreq.user_agent
    return httpreq.remote_addr, (ua.string or "")[:512]


def describe_requester(rec):
    ua = UserAgent(rec.requester_agent or "")
    return {"browser": (getattr(ua, "browser", None) or "unknown browser").title(),
            "os": (getattr(ua, "platform", None) or "unknown system").title(),
            "ip": rec.requester_ip or "", "time": rec.create_date.strftime("%Y-%m-%d %H:%M:%S UTC")}


class MasterKeyController(http.Controller):

    def _run(self, fn, *, audit_event=None, req_lookup=None):
        """Run ``fn`` in the request's transaction; on a typed error roll it back, burn the
        challenge of the request it concerned, write the audit event, and answer 4xx."""
        try:
            return json_response(fn())
        except errors.MasterKeyError as exc:
            request.env.cr.rollback()
            rec = req_lookup() if req_lookup else None
            if rec:
                rec._burn_challenge()
                if isinstance(exc, errors.WrongMatchCode):
                    rec.state = "denied"  # one pick only: no guessing among the three
                if isinstance(exc, errors.ENROLMENT_COMPROMISED) and rec.enrolment_id:
                    request.env["auth.masterkey.audit"]._record(
                        "clone_suspected", user=rec.user_id, method="masterkey", result="failure", reason=exc.code,
                        req=rec, enrolment=rec.enrolment_id)
                    rec.enrolment_id.sudo().action_revoke()
            if audit_event:
                request.env["auth.masterkey.audit"]._record(
                    audit_event, user=rec.user_id if rec else None, method="masterkey", result="failure",
                    reason=exc.code, req=rec, enrolment=rec.enrolment_id if rec else None)
            # Counted: failed verifications and anything about a real request. Not counted:
            # malformed input with no request (a foreign page could send it from the victim's
            # browser to lock its address out) and our own outages.
            countable = rec is not None or isinstance(exc, errors.VerificationFailed)
            if countable and status_of(exc) not in (429, 503):
                request.env["auth.masterkey.ratelimit"]._failure(request.httprequest.remote_addr,
                                                                 rec.user_id.login if rec and rec.user_id else None)
            request.env.cr.commit()
            _logger.info("auth_masterkey: %s refused: %s", audit_event or "request", exc.code)
            return error_response(exc)

    def _answer(self, fn, *, purpose=None, audit_event=None, guard=True):
        """A JSON endpoint: parse the body, check the rate limit, run ``fn(data)``; a typed error
        is handled by _run against the request that ``data["rid"]`` names for ``purpose``."""
        data = {}

        def run():
            data.update(read_json())
            if guard:
                self._guard()
            return fn(data)
        lookup = (lambda: self._lookup(data, purpose)) if purpose else None
        return self._run(run, audit_event=audit_event, req_lookup=lookup)

    def _lookup(self, data, purpose):
        rid = data.get("rid") if isinstance(data, dict) else None
        if not is_token(rid):
            return None
        return request.env["auth.masterkey.request"].sudo().search(
            [("public_id", "=", rid), ("purpose", "=", purpose)], limit=1) or None

    def _own_enrol_request(self, data):
        """The enrolment request named in ``data``, if it is this user's and this browser's."""
        rec = self._lookup(data, "enrol")
        if not rec or rec.user_id != request.env.user or not rec._belongs_to_browser(browser_secret(rec.public_id)):
            raise errors.MalformedInput("Unknown or expired request.")
        return rec

    def _guard(self, login=None):
        request.env["auth.masterkey.ratelimit"]._check(request.httprequest.remote_addr, login)

    # -- workstation / phone: a login request -----------------------------------------------
    @http.route("/auth_masterkey/login/new", type="http", auth="public", methods=["POST"], csrf=False)
    def login_new(self):
        def run(data):
            want_qr = data.get("qr", True) is not False  # a phone logging itself in needs none
            secret = secrets.token_urlsafe(32)  # never the client's own value (no fixation)
            ip, agent = requester_info()
            ttl = settings.qr_ttl(request.env)
            rec = request.env["auth.masterkey.request"]._new("login", secret, ttl, ip=ip, agent=agent)
            request.env["auth.masterkey.audit"]._record("qr_created", method="masterkey", req=rec)
            base = request.httprequest.url_root.rstrip("/")
            url = f"{base}/auth_masterkey/phone/approve#rid={rec.public_id}"
            run.cookie = (rec.public_id, secret, ttl)
            return {"rid": rec.public_id, "match_code": rec.match_code, "expires_in": ttl,
                    "approve_url": url, "qr_svg": qr_svg(url) if want_qr else None}
        response = self._answer(run)
        if response.status_code == 200:
            set_browser_cookie(response, *run.cookie)
        return response

    @http.route("/auth_masterkey/login/status", type="http", auth="public", methods=["POST"], csrf=False)
    def login_status(self):
        def run(data):
            rec = self._lookup(data, "login")
            if not rec:
                raise errors.MalformedInput("Unknown or expired request.")
            return {"state": rec._status_for_browser(browser_secret(rec.public_id))}
        return self._answer(run, guard=False)

    @http.route("/auth_masterkey/login/session", type="http", auth="public", methods=["POST"], csrf=False)
    def login_session(self, rid=None, redirect=None, **kw):
        ensure_db()
        origin = request.httprequest.headers.get("Origin")
        if origin and origin != request.httprequest.host_url.rstrip("/"):
            raise BadRequest("Cross-origin login refused.")
        credential = {"type": "masterkey", "login": "", "masterkey_request": rid or "",
                      "masterkey_browser_secret": browser_secret(rid)}
        try:
            auth_info = request.session.authenticate(request.db, credential)
        except AccessDenied as exc:
            request.env.cr.rollback()
            request.env["auth.masterkey.audit"]._record("qr_consume", method="masterkey", result="failure",
                                                        reason=str(exc.args[0] if exc.args else "denied")[:200])
            request.env.cr.commit()
            return request.redirect("/web/login?masterkey_error=1", 303)
        safe_redirect = local_path(redirect)
        request.params["login_success"] = True
        return request.redirect(_get_login_redirect_url(auth_info["uid"], safe_redirect), 303)

    # -- phone: answering a login request -----------------------------------------------------
    @http.route("/auth_masterkey/phone/approve", type="http", auth="public", methods=["GET"], sitemap=False)
    def phone_approve_page(self, **kw):
        return request.render("auth_masterkey.phone_approve_page", {"insecure": _insecure_context()})

    @http.route("/auth_masterkey/phone/login/options", type="http", auth="public", methods=["POST"], csrf=False)
    def phone_login_options(self):
        def run(data):
            enrolment = request.env["auth.masterkey.enrolment"]._find_active(data.get("enrolment"))
            if not enrolment:
                raise errors.VerificationFailed("This phone is not enrolled (or was revoked) on this Odoo.")
            rec = request.env["auth.masterkey.request"]._locked(data.get("rid"), "login")
            options = rec._phone_options(enrolment, request_origin())
            same = rec._belongs_to_browser(browser_secret(rec.public_id))
            options.update(requester=describe_requester(rec), same_browser=same)
            if not same:
                options["match_choices"] = rec.match_choices.split(",")
            request.env["auth.masterkey.audit"]._record("qr_scanned", user=enrolment.user_id, method="masterkey",
                                                        req=rec, enrolment=enrolment)
            return options
        return self._answer(run, purpose="login", audit_event="qr_scanned")

    @http.route("/auth_masterkey/phone/login/answer", type="http", auth="public", methods=["POST"], csrf=False)
    def phone_login_answer(self):
        def run(data):
            rec = request.env["auth.masterkey.request"]._locked(data.get("rid"), "login")
            self._guard(rec.user_id.login if rec.user_id else None)
            approve = data.get("approve") is True
            reply, recovered = rec._phone_answer(data, request_origin(), approve=approve,
                                                 same_browser=rec._belongs_to_browser(browser_secret(rec.public_id)))
            request.env["auth.masterkey.audit"]._record(
                "qr_approved" if approve else "qr_denied", user=rec.user_id, method="masterkey",
                result="success" if approve else "info", reason="rotation reply lost before" if recovered else "",
                factors_required=rec.required_factors, factors_passed=rec.passed_factors, req=rec,
                enrolment=rec.enrolment_id)
            return {"state": rec.state, "rotation": reply}
        return self._answer(run, purpose="login", audit_event="qr_answer", guard=False)  # guarded per login

    # -- enrolment ---------------------------------------------------------------------------
    @http.route("/auth_masterkey/enrol", type="http", auth="user", methods=["GET"], sitemap=False)
    def enrol_page(self, **kw):
        if request.session.get("identity-check-last", 0) < time.time() - 10 * 60:
            return request.redirect("/odoo/action-base.action_res_users_my?masterkey=identity", 303)
        secret = secrets.token_urlsafe(32)
        ip, agent = requester_info()
        rec, token = request.env["auth.masterkey.request"]._enrol_start(request.env.user, secret, ip, agent)
        base = request.httprequest.url_root.rstrip("/")
        url = f"{base}/auth_masterkey/phone/enrol#rid={rec.public_id}&t={token}"
        response = request.render("auth_masterkey.enrol_page", {
            # the SVG is built by the qrcode package from our own URL
            "rid": rec.public_id, "qr_svg": Markup(qr_svg(url)),  # noqa: S704
            "enrol_url": url, "ttl": settings.ENROL_TTL,
            "insecure": _insecure_context()})
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        set_browser_cookie(response, rec.public_id, secret, settings.ENROL_TTL)
        return response

    @http.route("/auth_masterkey/enrol/status", type="http", auth="user", methods=["POST"], csrf=False)
    def enrol_status(self):
        def run(data):
            rec = self._own_enrol_request(data)
            result = {"state": rec.state, "phone": rec.enrolment_id.name if rec.enrolment_id else None}
            if rec.state == "confirm":
                result.update(code=rec.match_code, ip=rec.enrolment_id.enrolled_from_ip or "")
            return result
        return self._answer(run, guard=False)

    @http.route("/auth_masterkey/enrol/confirm", type="http", auth="user", methods=["POST"], csrf=False)
    def enrol_confirm(self):
        """The computer that showed the QR code accepts (or rejects) the phone that answered."""
        def run(data):
            rec = self._own_enrol_request(data)
            accept = data.get("accept") is True
            enrolment = rec._enrol_confirm(accept)
            request.env["auth.masterkey.audit"]._record(
                "enrolment_created" if accept else "enrolment_rejected", user=rec.user_id, method="masterkey",
                result="success" if accept else "info", req=rec, enrolment=enrolment,
                factors_passed=3 if enrolment.has_biometric else 2)
            return {"state": rec.state, "phone": enrolment.name}
        return self._answer(run, guard=False)

    @http.route("/auth_masterkey/phone/enrol", type="http", auth="public", methods=["GET"], sitemap=False)
    def phone_enrol_page(self, **kw):
        response = request.render("auth_masterkey.phone_enrol_page", {"insecure": _insecure_context()})
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @http.route("/auth_masterkey/phone/enrol/options", type="http", auth="public", methods=["POST"], csrf=False)
    def phone_enrol_options(self):
        def run(data):
            rec = request.env["auth.masterkey.request"]._locked(data.get("rid"), "enrol")
            return rec._enrol_options(data.get("token"))
        return self._answer(run, purpose="enrol", audit_event="enrolment")

    @http.route("/auth_masterkey/phone/enrol/finish", type="http", auth="public", methods=["POST"], csrf=False)
    def phone_enrol_finish(self):
        def run(data):
            rec = request.env["auth.masterkey.request"]._locked(data.get("rid"), "enrol")
            enrolment = rec._enrol_finish(data.get("token"), data, request_origin(), request.httprequest.remote_addr)
            request.env["auth.masterkey.audit"]._record("enrolment_answered", user=rec.user_id, method="masterkey",
                                                        result="info", req=rec, enrolment=enrolment)
            return {"enrolment": enrolment.public_id, "label": enrolment.name, "user": rec.user_id.name,
                    "biometric": enrolment.has_biometric, "confirm_code": rec.match_code}
        return self._answer(run, purpose="enrol", audit_event="enrolment")


def _insecure_context():
    """WebCrypto and WebAuthn need https, except on localhost."""
    httpreq = request.httprequest
    host = (httpreq.host or "").split(":")[0]
    return httpreq.scheme != "https" and host not in ("localhost", "127.0.0.1", "[::1]")


def local_path(value):
    """``value`` if it is a path on this site, else None (no open redirects)."""
    ok = isinstance(value, str) and value.startswith("/") and not value.startswith(("//", "/\\"))
    return value if ok else None


class MasterKeyActivityController(http.Controller):

    @http.route("/auth_masterkey/idle_logout", type="http", auth="public", methods=["GET"], sitemap=False)
    def idle_logout(self, redirect=None, **kw):
        """Where the web client goes at the timeout: ends the session here and now (the
        countdown may run a second ahead of the server), then shows the login page."""
        if request.session.uid:
            from ..models.ir_http import IrHttp
            IrHttp._masterkey_end_session_now(request.session.sid[:42], request.session.uid)
        target = "/web/login?masterkey_idle=1"
        if local_path(redirect):
            target += "&redirect=" + quote(redirect, safe="")
        return request.redirect(target, 303)

    @http.route("/auth_masterkey/activity", type="http", auth="user", methods=["POST"], csrf=False)
    def activity(self):
        """The web client's ping. ``active: true`` after keyboard/pointer/touch input records
        activity; ``active: false`` only asks how long is left (it is not activity)."""
        try:
            data = read_json()
        except errors.MasterKeyError as exc:
            return error_response(exc)
        Activity = request.env["auth.masterkey.session.activity"].sudo()
        identifier = request.session.sid[:42]
        if data.get("active") is True:
            Activity._touch(identifier, request.session.uid, force=True)
        timeout = Activity._timeout_seconds(request.session.uid)
        state = Activity._state(identifier)
        idle_for = state[0] if state else 0
        return json_response({"timeout": timeout, "remaining": (timeout - idle_for) if timeout else None,
                              "warning": idle.WARNING_SECONDS})
