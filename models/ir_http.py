"""Enforces the idle timeout on every request of a logged-in session (between cron runs)."""

import logging
from urllib.parse import quote

import werkzeug.exceptions

import odoo.modules.module

from odoo import models
from odoo.http import SessionExpiredException, request, root

from ..masterkey_core import idle
from .masterkey_session_activity import delete_session_files

_logger = logging.getLogger(__name__)


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _authenticate(cls, endpoint):
        super()._authenticate(endpoint)
        session = request.session
        # Only cookie sessions: API keys and anonymous visitors are never idle-logged-out.
        if session.uid is None or not session.sid or not request.db:
            return
        if request.httprequest.path == "/auth_masterkey/idle_logout":
            return  # ends the session itself
        cls._masterkey_check_idle(endpoint)

    @classmethod
    def _masterkey_check_idle(cls, endpoint):
        env = request.env(su=True)
        Activity = env["auth.masterkey.session.activity"]
        identifier = request.session.sid[:42]
        uid = request.session.uid
        timeout = Activity._timeout_seconds(uid)
        if not timeout:
            return  # disabled (the default): no query and no write on every request
        state = Activity._state(identifier)
        if state and (state[1] or state[0] > timeout):
            cls._masterkey_end_session(identifier, uid, endpoint)
        httpreq = request.httprequest
        page_load = idle.is_page_load(httpreq.method, httpreq.path, endpoint.routing.get("type"),
                                      httpreq.headers.get("Sec-Fetch-Mode"))
        if state is None or page_load:
            cls._masterkey_write(lambda e: e["auth.masterkey.session.activity"]._touch(identifier, uid))

    @classmethod
    def _post_dispatch(cls, response):
        super()._post_dispatch(response)
        cls._masterkey_audit_totp()

    @classmethod
    def _masterkey_audit_totp(cls):
        """Odoo's TOTP step (auth_totp, when installed) is a login attempt too: audit it and
        count its failures in the shared limiter. Read from the session, so no dependency."""
        httpreq = request.httprequest
        if httpreq.method != "POST" or httpreq.path != "/web/login/totp" or not request.params.get("totp_token"):
            return
        uid = request.session.uid or request.session.pre_uid
        if not uid:
            return
        env = request.env(su=True)
        user = env["res.users"].browse(uid)
        passed = bool(request.session.uid)
        env["auth.masterkey.audit"]._record("login", user=user, method="totp", result="success" if passed else "failure",
                                            reason="" if passed else "wrong or invalid code")
        if not passed:
            cls._masterkey_write(lambda e: e["auth.masterkey.ratelimit"]._failure(httpreq.remote_addr, user.login))

    @classmethod
    def _masterkey_write(cls, fn):
        """Writes on a cursor of their own, committed even if the request later fails or
        runs on a read-only cursor (background RPCs: not activity, but they are tracked)."""
        if request.env.cr.readonly and odoo.modules.module.current_test:
            return  # a test's read-only cursor cannot open a writable one; production can
        with request.env.registry.cursor() as cr:
            fn(request.env(cr=cr, su=True))

    @classmethod
    def _masterkey_end_session_now(cls, identifier, uid):
        delete_session_files(root.session_store.path, [identifier])
        cls._masterkey_write(lambda e: e["auth.masterkey.session.activity"]._end_sessions([(identifier, uid)]))
        request.session.logout(keep_db=True)
        _logger.info("auth_masterkey: session of user #%s ended after inactivity", uid)

    @classmethod
    def _masterkey_end_session(cls, identifier, uid, endpoint):
        cls._masterkey_end_session_now(identifier, uid)
        httpreq = request.httprequest
        if endpoint.routing.get("type") == "http" and httpreq.method == "GET":
            target = "/web/login?masterkey_idle=1"
            if not httpreq.path.startswith(("/web/login", "/auth_masterkey/")):
                target += "&redirect=" + quote(httpreq.full_path, safe="")
            werkzeug.exceptions.abort(request.redirect(target, 303))
        raise SessionExpiredException("Session ended after inactivity")
