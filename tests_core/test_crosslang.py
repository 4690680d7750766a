"""Cross-language tests: the browser module (static/src/core/masterkey_phone.js), run by Node
through tests_js/crosslang_driver.mjs, against the Python core playing the server.

One driver process (shared by this module's tests, each using its own enrolment id) speaks
JSON lines, so the phone's ephemeral keys stay in memory between the steps of a login, as in
a browser tab. One more test runs the same module in headless Chromium (Playwright) on its real
IndexedDB, reloading the page between steps; it is skipped when no browser can be launched.
"""

import json
import os
import secrets
import select
import shutil
import subprocess

import pytest

from masterkey_core import challenge, codec, device, envelope, p256, shares
from masterkey_core.errors import (
    InvalidSignature,
    MalformedInput,
    MasterKeyError,
    StaleShare,
    VerificationFailed,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DRIVER = os.path.join(ROOT, "tests_js", "crosslang_driver.mjs")
NODE = shutil.which("node")
ORIGIN = "https://odoo.example.com"
TIMEOUT = 20

class PhoneError(Exception):
    """An error the JS module raised (MasterKeyError code), reported by the driver."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code


class Phone:
    """The JS PhoneVault in a Node process."""

    def __init__(self):
        self.proc = subprocess.Popen(
            [NODE, DRIVER], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, encoding="utf-8",
        )
        self._id = 0

    def call(self, cmd, **args):
        self._id += 1
        self.proc.stdin.write(json.dumps({"id": self._id, "cmd": cmd, **args}) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], TIMEOUT)
        if not ready:
            raise TimeoutError(f"node driver did not answer {cmd}")
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"node driver exited: {self.proc.stderr.read()}")
        reply = json.loads(line)
        assert reply["id"] == self._id
        if not reply["ok"]:
            raise PhoneError(reply["code"], reply["message"])
        return reply["result"]

    def close(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


class BrowserPhone:
    """The same PhoneVault in headless Chromium, on its real IndexedDB (indexedDbStore)."""

    ORIGIN = "http://localhost"  # a secure context, as https is
    DISPATCH = """async ([cmd, args]) => {
        const m = await import("/static/src/core/masterkey_phone.js");
        window.vault = window.vault || new m.PhoneVault(m.indexedDbStore("auth_masterkey_test"));
        window.logins = window.logins || new Map();
        try {
            let result;
            if (cmd === "startLogin") {
                const { finish, ...rest } = await vault.startLogin(args);
                const login = window.logins.size + 1;
                window.logins.set(login, finish);
                result = { ...rest, login };
            } else if (cmd === "finish") {
                result = await window.logins.get(args.login)(args.envelope);
            } else if (cmd === "rawRecord") {
                const record = await m.indexedDbStore("auth_masterkey_test").get(args.enrolmentId);
                const exportable = (key, format) =>
                    crypto.subtle.exportKey(format, key).then(() => true, () => false);
                result = {
                    keys: Object.keys(record).sort(),
                    wrapKeyExtractable: record.wrapKey.extractable || await exportable(record.wrapKey, "raw"),
                    deviceKeyExtractable: record.deviceKey.privateKey.extractable
                        || await exportable(record.deviceKey.privateKey, "pkcs8"),
                };
            } else if (cmd === "persist") {
                result = await m.requestPersistence();
            } else {
                result = await vault[cmd](args);
            }
            return { ok: true, result: result === undefined ? null : result };
        } catch (exc) {
            return { ok: false, code: exc.code || "internal_error", message: String(exc.message) };
        }
    }"""

    def __init__(self, page):
        self.page = page
        self.page.goto(self.ORIGIN + "/")

    def call(self, cmd, **args):
        reply = self.page.evaluate(self.DISPATCH, [cmd, args])
        if not reply["ok"]:
            raise PhoneError(reply["code"], reply["message"])
        return reply["result"]

    def reload(self):
        """A new page load: everything but IndexedDB is gone."""
        self.page.reload()

    def close(self):
        pass


def _launch_chromium(pw):
    """The system Chromium if there is one, else Playwright's own; skip when neither runs."""
    candidates = [{"executable_path": p} for p in map(shutil.which, ("chromium", "chromium-browser")) if p]
    errors = []
    for options in [*candidates, {}]:
        try:
            return pw.chromium.launch(headless=True, **options)
        except Exception as exc:  # noqa: BLE001 - any launch failure means "no usable browser"
            errors.append(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    pytest.skip(f"no Chromium that Playwright can launch: {'; '.join(errors)}")


def test_browser_indexeddb_round_trip():
    """Enrol and log in from a real browser, with page reloads between steps, so the share,
    the wrapping key and the device key come back from IndexedDB."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with open(os.path.join(ROOT, "static", "src", "core", "masterkey_phone.js"), encoding="utf-8") as f:
        module_source = f.read()
    with sync_api.sync_playwright() as pw:
        browser = _launch_chromium(pw)
        try:
            page = browser.new_page()

            def serve(route):
                if route.request.url.endswith("/static/src/core/masterkey_phone.js"):
                    route.fulfill(status=200, content_type="text/javascript", body=module_source)
                else:
                    route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>phone</title>")

            page.route(BrowserPhone.ORIGIN + "/**", serve)
            phone = BrowserPhone(page)
            server = Server(phone, BrowserPhone.ORIGIN)
            server.enrol()
            assert isinstance(phone.call("persist"), bool)
            phone.reload()
            assert server.info()["gen"] == 0
            record = phone.call("rawRecord", enrolmentId=server.enrolment_id)
            assert record == {"keys": ["deviceKey", "enrolmentId", "gen", "label", "origin", "wrapKey", "wrappedShare"],
                              "wrapKeyExtractable": False, "deviceKeyExtractable": False}

            # A tampered rotation is refused and the stored share stays current.
            req, out = server.start_login()
            _result, reply = server.check_login(req, out)
            with pytest.raises(PhoneError) as exc:
                phone.call("finish", login=out["login"], envelope={**reply, "ct": flip(reply["ct"], 9)})
            assert exc.value.code == "verification_failed"
            phone.reload()
            assert server.info()["gen"] == 0
            assert server.login().recovered  # applies the rotation to gen 2

            phone.reload()
            assert server.info()["gen"] == 2
            server.login(purpose="approve")
            assert server.state.current_gen == 2 and server.info()["gen"] == 3
        finally:
            browser.close()


@pytest.fixture(scope="module")
def phone():
    if NODE is None:
        pytest.skip("node is not installed: the browser module cannot be run in Node")
    p = Phone()
    try:
        yield p
    finally:
        p.close()


class Request:
    """One server request: a fresh ephemeral key and a single-use challenge."""

    def __init__(self, purpose, origin=ORIGIN):
        self.origin = origin
        self.key = p256.new_private_key()
        self.pub = p256.public_bytes(self.key.public_key())
        self.challenge = challenge.new_challenge(purpose, 60)
        self.request_id = self.challenge.request_id

    def phone_args(self, enrolment_id, **extra):
        return {"enrolmentId": enrolment_id, "requestId": self.request_id, "serverPub": codec.b64url_encode(self.pub),
                "challenge": self.challenge.b64, "origin": self.origin, **extra}

    def open(self, env, purpose, enrolment_id):
        return envelope.open_from_phone(env, server_private_key=self.key, purpose=purpose,
                                        request_id=self.request_id, enrolment_id=enrolment_id)

    def verify(self, device_pub, answer, purpose, enrolment_id):
        device.verify(device_pub, codec.b64url_decode(answer["signature"], "signature"), purpose=purpose,
                      request_id=self.request_id, enrolment_id=enrolment_id, challenge_b64=self.challenge.b64,
                      origin=self.origin, timestamp_ms=answer["timestampMs"])


class Server:
    """What the addon does with the core, for one enrolment."""

    def __init__(self, phone, origin=ORIGIN):
        self.phone, self.origin = phone, origin
        self.enrolment_id = "enr_" + secrets.token_hex(6)
        self.state = None
        self.device_pub = None

    def info(self):
        [info] = [i for i in self.phone.call("list") if i["enrolmentId"] == self.enrolment_id]
        return info

    def enrol(self):
        req = Request("enrol", self.origin)
        out = self.phone.call("enrol", **req.phone_args(self.enrolment_id, label="Test phone"))
        share, gen, epk = req.open(out["envelope"], "enrol", self.enrolment_id)
        assert gen == 0 and len(share) == 32 and len(epk) == 65
        self.device_pub = device.normalize_public_key(codec.b64url_decode(out["devicePublicKey"], "device key"))
        req.verify(self.device_pub, out, "enrol", self.enrolment_id)
        self.state = shares.enrol(self.enrolment_id, share)
        return out

    def start_login(self, purpose="login"):
        """The phone's half; returns (request, phone answer)."""
        req = Request(purpose, self.origin)
        out = self.phone.call("startLogin", **req.phone_args(self.enrolment_id, purpose=purpose))
        return req, out

    def check_login(self, req, out, purpose="login"):
        """The server's half: open, verify, rotate. Returns (LoginResult, rotation envelope)."""
        share, gen, epk = req.open(out["envelope"], "login", self.enrolment_id)
        req.verify(self.device_pub, out, purpose, self.enrolment_id)
        result = shares.login(self.state, share, gen)
        self.state = result.state
        reply = envelope.seal_for_phone(server_private_key=req.key, phone_pub=epk, request_id=req.request_id,
                                        enrolment_id=self.enrolment_id, gen=result.rotation_gen,
                                        plaintext=result.rotation_delta)
        return result, reply

    def login(self, purpose="login"):
        req, out = self.start_login(purpose)
        result, reply = self.check_login(req, out, purpose)
        assert self.phone.call("finish", login=out["login"], envelope=reply) == {"gen": result.rotation_gen}
        return result


def flip(value, index=0):
    data = bytearray(codec.b64url_decode(value, "test"))
    data[index] ^= 0x01
    return codec.b64url_encode(data)


# ---- codec ------------------------------------------------------------------------------


def test_canonical_matches(phone):
    cases = [
        ("envelope", ["login", "rid-1", "enr_1", 0, "AAA", "BBB"]),
        ("device-signature", ["approve", "r", "e", "Y2g", ORIGIN, 1700000000123]),
        ("verifier", []),
        ("x", ["", "é ü 漢字", 2**31, "a b\tc"]),
    ]
    for label, fields in cases:
        assert phone.call("canonical", label=label, fields=fields) == codec.canonical(label, *fields).hex()
    with pytest.raises(PhoneError) as exc:
        phone.call("canonical", label="x", fields=["a\nb"])
    assert exc.value.code == "malformed_input"


def test_base64url_matches(phone):
    for n in list(range(40)) + [64, 65, 255, 1000]:
        data = os.urandom(n)
        assert phone.call("b64encode", hex=data.hex()) == codec.b64url_encode(data)
    inputs = ["", "Zg", "Zh", "Zm8", "Zm9", "Zm9v", "Zg==", "Zg=", "Z", "Zm9vY", "-_8", "+/8", " Zg", "Zg\n",
              "____", "A" * 16384, "A" * 16388, "Zm9v.", "QUJD", "QUJDRA"]
    for value in inputs:
        try:
            expected = codec.b64url_decode(value, "v").hex()
        except MalformedInput:
            expected = None
        try:
            got = phone.call("b64decode", value=value)
        except PhoneError as exc:
            assert exc.code == "malformed_input"
            got = None
        assert got == expected, repr(value)


# ---- the protocol -------------------------------------------------------------------------


def test_enrol_login_rotation_round_trip(phone):
    server = Server(phone)
    server.enrol()
    assert server.info() == {"enrolmentId": server.enrolment_id, "origin": ORIGIN, "label": "Test phone", "gen": 0}

    # Login 1: gen 0 is current, the server answers with a rotation to gen 1.
    first = server.login()
    assert first.rotation_gen == 1 and not first.recovered
    assert server.state.pending_gen == 1
    assert server.info()["gen"] == 1

    # Login 2 with the new share: the server's pending share matches phone ^ D, so it is promoted.
    second = server.login()
    assert server.state.current_gen == 1 and server.state.superseded_gen == 0
    assert second.rotation_gen == 2 and not second.recovered

    # An approval (QR workstation login) is the same exchange with purpose "approve".
    third = server.login(purpose="approve")
    assert server.state.current_gen == 2 and third.rotation_gen == 3
    assert server.info()["gen"] == 3


def test_login_envelope_is_bound_to_request_and_enrolment(phone):
    server = Server(phone)
    server.enrol()
    req, out = server.start_login()
    with pytest.raises(VerificationFailed):
        req.open(out["envelope"], "login", "enr_other")
    with pytest.raises(MalformedInput):
        req.open(out["envelope"], "enrol", server.enrolment_id)
    other = Request("login")
    other.request_id = req.request_id  # same id, another server key
    with pytest.raises(VerificationFailed):
        other.open(out["envelope"], "login", server.enrolment_id)
    with pytest.raises(InvalidSignature):
        req.verify(server.device_pub, out, "approve", server.enrolment_id)
    # The untouched answer still passes.
    server.check_login(req, out)


@pytest.mark.parametrize("field,index", [("ct", 0), ("ct", 31), ("ct", 40), ("n", 0), ("n", 11),
                                         ("epk", 20), ("epk", 64)])
def test_tampered_phone_envelope_is_rejected(phone, field, index):
    server = Server(phone)
    server.enrol()
    req, out = server.start_login()
    env = dict(out["envelope"])
    env[field] = flip(env[field], index)
    with pytest.raises(MasterKeyError):
        req.open(env, "login", server.enrolment_id)


@pytest.mark.parametrize("patch", [{"gen": 1}, {"rid": "other"}, {"v": 2}, {"purpose": "enrol"}, {"ct": ""}])
def test_altered_phone_envelope_fields_are_rejected(phone, patch):
    server = Server(phone)
    server.enrol()
    req, out = server.start_login()
    with pytest.raises(MasterKeyError):
        req.open({**out["envelope"], **patch}, "login", server.enrolment_id)


def test_tampered_enrol_envelope_and_signature_are_rejected(phone):
    server = Server(phone)
    req = Request("enrol")
    out = phone.call("enrol", **req.phone_args(server.enrolment_id))
    with pytest.raises(VerificationFailed):
        req.open({**out["envelope"], "ct": flip(out["envelope"]["ct"], 5)}, "enrol", server.enrolment_id)
    device_pub = device.normalize_public_key(codec.b64url_decode(out["devicePublicKey"], "device key"))
    with pytest.raises(InvalidSignature):
        req.verify(device_pub, {**out, "signature": flip(out["signature"], 33)}, "enrol", server.enrolment_id)
    with pytest.raises(MasterKeyError):
        req.verify(device_pub, {**out, "timestampMs": out["timestampMs"] + 1}, "enrol", server.enrolment_id)
    with pytest.raises(MasterKeyError):
        bad_key = bytearray(codec.b64url_decode(out["devicePublicKey"], "device key"))
        bad_key[40] ^= 1
        device.normalize_public_key(bytes(bad_key))


@pytest.mark.parametrize("index", [0, 31, 32, 63])
def test_tampered_login_signature_is_rejected(phone, index):
    server = Server(phone)
    server.enrol()
    req, out = server.start_login()
    with pytest.raises(MasterKeyError):
        req.verify(server.device_pub, {**out, "signature": flip(out["signature"], index)}, "login", server.enrolment_id)


def test_deny_signature(phone):
    server = Server(phone)
    server.enrol()
    req = Request("deny")
    args = req.phone_args(server.enrolment_id, purpose="deny")
    del args["serverPub"]
    out = phone.call("sign", **args)
    req.verify(server.device_pub, out, "deny", server.enrolment_id)
    with pytest.raises(InvalidSignature):
        req.verify(server.device_pub, out, "approve", server.enrolment_id)


def test_tampered_rotation_is_rejected_and_old_share_stays_usable(phone):
    server = Server(phone)
    server.enrol()
    req, out = server.start_login()
    result, reply = server.check_login(req, out)
    assert result.rotation_gen == 1

    bad_replies = [
        {**reply, "ct": flip(reply["ct"], 3)},
        {**reply, "ct": flip(reply["ct"], 47)},
        {**reply, "n": flip(reply["n"])},
        {**reply, "gen": 2},
    ]
    for bad in bad_replies:
        with pytest.raises(PhoneError) as exc:
            phone.call("finish", login=out["login"], envelope=bad)
        assert exc.value.code == "verification_failed"
    other_key = codec.b64url_encode(Request("login").pub)
    for bad in [{**reply, "rid": "other"}, {**reply, "purpose": "login"}, {**reply, "epk": other_key},
                {**reply, "spk": other_key}, {**reply, "gen": 0}]:
        with pytest.raises(PhoneError) as exc:
            phone.call("finish", login=out["login"], envelope=bad)
        assert exc.value.code == "malformed_input"
    assert server.info()["gen"] == 0

    # The phone still holds gen 0, which is still current on the server: the login recovers.
    recovered = server.login()
    assert recovered.recovered
    assert server.state.current_gen == 0 and recovered.rotation_gen == 2
    # ...and the rotation it received this time works.
    after = server.login()
    assert server.state.current_gen == 2 and not after.recovered


def test_stale_generation_and_wrong_share_are_detected_by_python(phone):
    server = Server(phone)
    server.enrol()
    server.login()
    server.login()  # the server now has current 1, superseded 0, pending 2
    req, out = server.start_login()
    share, gen, _ = req.open(out["envelope"], "login", server.enrolment_id)
    assert gen == 2
    with pytest.raises(StaleShare):
        shares.login(server.state, share, 7)
    with pytest.raises(VerificationFailed):
        shares.login(server.state, bytes(32), gen)
    shares.login(server.state, share, gen)


def test_unknown_enrolment_and_origin_mismatch(phone):
    server = Server(phone)
    req = Request("login")
    with pytest.raises(PhoneError) as exc:
        phone.call("startLogin", **req.phone_args("enr_nobody"))
    assert exc.value.code == "not_enrolled"
    server.enrol()
    with pytest.raises(PhoneError) as exc:
        phone.call("startLogin", **req.phone_args(server.enrolment_id, origin="https://evil.example.com"))
    assert exc.value.code == "origin_mismatch"
    with pytest.raises(PhoneError) as exc:
        phone.call("enrol", **Request("enrol").phone_args(server.enrolment_id))
    assert exc.value.code == "already_enrolled"
    assert phone.call("has", enrolmentId=server.enrolment_id) is True
    phone.call("remove", enrolmentId=server.enrolment_id)
    assert phone.call("has", enrolmentId=server.enrolment_id) is False
    assert server.enrolment_id not in [i["enrolmentId"] for i in phone.call("list")]
