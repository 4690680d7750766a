"""res.users: the 'masterkey' credential type, password policy and session invalidation."""

import logging

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessDenied
from odoo.http import request

from odoo.addons.base.models.res_users import check_identity

from ..masterkey_core import errors, policy
from . import masterkey_settings as settings

_logger = logging.getLogger(__name__)


class ResUsers(models.Model):
    _inherit = "res.users"

    masterkey_enrolment_ids = fields.One2many("auth.masterkey.enrolment", "user_id", string="MasterKey phones",
                                              domain=[("state", "=", "active")])
    # Bumped when phones are added, revoked or reset: it is part of the session token, so the
    # user's other sessions end, the way Odoo does when passkeys change.
    masterkey_session_epoch = fields.Integer(default=0, groups="base.group_system", copy=False)

    @property
    def SELF_READABLE_FIELDS(self):
        return super().SELF_READABLE_FIELDS + ["masterkey_enrolment_ids"]

    def _get_session_token_fields(self):
        return super()._get_session_token_fields() | {"masterkey_session_epoch"}

    def _masterkey_bump_session_epoch(self):
        for user in self.sudo():
            user.masterkey_session_epoch += 1
        if request and self.env.user in self:
            # keep the acting session alive, as auth_totp and auth_passkey do
            self.env.flush_all()
            request.session.session_token = self.env.user._compute_session_token(request.session.sid)

    @check_identity
    def action_masterkey_add_phone(self):
        self.ensure_one()
        return {"type": "ir.actions.act_url", "url": "/auth_masterkey/enrol", "target": "self"}

    def action_masterkey_reset(self):
        """Admin recovery: revoke every phone of these users (they log in by password, if the
        policy allows it, or an admin lifts the policy, and enrol again)."""
        if not self.env.user.has_group("base.group_system"):
            raise AccessDenied(_("Only administrators can reset MasterKey enrolments."))
        self.sudo().masterkey_enrolment_ids.action_revoke()
        return True

    # -- authentication ------------------------------------------------------------------
    @classmethod
    def _login(cls, db, credential, user_agent_env):
        """Every login attempt, whatever its method, is rate-limited in PostgreSQL and audited."""
        if credential.get("type") == "masterkey":
            with cls.pool.cursor() as cr:
                env = api.Environment(cr, 1, {})
                rec = env["auth.masterkey.request"].search(
                    [("public_id", "=", str(credential.get("masterkey_request", ""))[:64]), ("purpose", "=", "login")],
                    limit=1)
                if not rec or not rec.user_id:
                    raise AccessDenied()
                credential["login"] = rec.user_id.login
        if "\x00" in str(credential.get("login") or ""):
            raise AccessDenied()
        if credential.get("type") == "password":
            credential["masterkey_is_login"] = True  # the password policy applies to logins
        method = str(credential.get("type") or "password")[:32]
        login = str(credential.get("login") or "")[:128]
        ip = request.httprequest.remote_addr if request else None
        with cls.pool.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            try:
                env["auth.masterkey.ratelimit"]._check(ip, login)
                limited = None
            except errors.RateLimited as exc:
                limited = exc
                env["auth.masterkey.audit"]._record("login", login=login, method=method, result="failure",
                                                    reason=exc.code)
        if limited:
            raise AccessDenied(limited.message)
        try:
            auth_info = super()._login(db, credential, user_agent_env=user_agent_env)
        except AccessDenied as exc:
            with cls.pool.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["auth.masterkey.ratelimit"]._failure(ip, login)
                env["auth.masterkey.audit"]._record("login", login=login, method=method, result="failure",
                                                    reason=str(exc.args[0] if exc.args else "denied")[:120])
            raise
        with cls.pool.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["auth.masterkey.audit"]._record(
                "login", user=env["res.users"].browse(auth_info["uid"]), login=login,
                method=auth_info.get("auth_method", method), result="success",
                reason="",
                factors_passed=auth_info.get("masterkey_factors", 0))
        return auth_info

    def _check_credentials(self, credential, env):
        if credential.get("type") == "masterkey":
            rec = self.env["auth.masterkey.request"].sudo()._consume_for_login(
                credential.get("masterkey_request"), credential.get("masterkey_browser_secret"))
            if rec.user_id != self.env.user:
                raise AccessDenied()
            # Two or more factors are a strong login: Odoo's TOTP step is skipped. One factor
            # (the split credential alone) leaves Odoo's MFA in force.
            return {"uid": self.env.user.id, "auth_method": "masterkey", "masterkey_factors": rec.passed_factors,
                    "mfa": "skip" if rec.passed_factors >= 2 else "default"}
        rpc_password = credential.get("type") == "password" and not (env or {}).get("interactive", True)
        if rpc_password:
            # XML-RPC/JSON-RPC calls check the password here, without _login: same limiter.
            ip = request.httprequest.remote_addr if request else None
            try:
                self.env["auth.masterkey.ratelimit"].sudo()._check(ip, self.env.user.login)
            except errors.RateLimited:
                raise AccessDenied() from None
            try:
                auth_info = super()._check_credentials(credential, env)
            except AccessDenied:
                with self.env.registry.cursor() as cr:  # the caller's cursor is not committed
                    self.env(cr=cr, su=True)["auth.masterkey.ratelimit"]._failure(ip, self.env.user.login)
                raise
        else:
            auth_info = super()._check_credentials(credential, env)
        # The password policy governs logging in (interactive) and password RPC (non-interactive);
        # Odoo's identity check before sensitive actions still takes the password.
        is_login = credential.get("masterkey_is_login") or not (env or {}).get("interactive", True)
        if credential.get("type") == "password" and is_login:
            # Checked after the password itself, so a wrong guess learns nothing about the account.
            has_phone = bool(self.env["auth.masterkey.enrolment"].sudo().search_count(
                [("user_id", "=", self.env.user.id), ("state", "=", "active")], limit=1))
            if not policy.password_login_allowed(settings.password_policy(self.env), has_phone,
                                                 settings.recovery_override()):
                # A distinct message would tell a guesser the password was right: the reason
                # goes to the audit log (its own cursor, kept when this login rolls back).
                self.env["auth.masterkey.audit"].sudo()._record(
                    "login", user=self.env.user, method="password", result="failure",
                    reason="password login disabled by the MasterKey policy")
                raise AccessDenied()
        return auth_info
