"""A phone enrolled for MasterKey login: its factor-1 share state (encrypted), device key
and optional WebAuthn credential. Security checks live in masterkey_core."""

import logging

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..masterkey_core import challenge, shares, webauthn
from ..masterkey_core.codec import b64url_decode, b64url_encode

_logger = logging.getLogger(__name__)
SECRET_FIELDS = ("verifier", "share_current", "share_pending", "share_superseded", "device_public_key",
                 "webauthn_public_key")


class MasterKeyEnrolment(models.Model):
    _name = "auth.masterkey.enrolment"
    _description = "MasterKey phone enrolment"
    _order = "create_date desc, id desc"

    name = fields.Char("Phone", required=True)
    user_id = fields.Many2one("res.users", required=True, ondelete="cascade", index=True, readonly=True)
    public_id = fields.Char("Enrolment ID", required=True, readonly=True, index=True, copy=False,
                            default=lambda self: challenge.new_request_id())
    state = fields.Selection([("pending", "Waiting for confirmation"), ("active", "Active"), ("revoked", "Revoked")],
                             default="active", required=True,
                             readonly=True)
    has_biometric = fields.Boolean("Biometric factor", readonly=True)
    last_login = fields.Datetime(readonly=True)
    login_count = fields.Integer(readonly=True)
    revoked_on = fields.Datetime(readonly=True)
    enrolled_from_ip = fields.Char(readonly=True)
    # Secrets: encrypted (shares) or public-but-sensitive; only ever read with sudo by the code.
    verifier = fields.Char(groups="base.group_system", copy=False)
    current_gen = fields.Integer(groups="base.group_system", copy=False)
    share_current = fields.Char(groups="base.group_system", copy=False)
    pending_gen = fields.Integer(groups="base.group_system", copy=False)
    share_pending = fields.Char(groups="base.group_system", copy=False)
    superseded_gen = fields.Integer(groups="base.group_system", copy=False)
    share_superseded = fields.Char(groups="base.group_system", copy=False)
    device_public_key = fields.Char(groups="base.group_system", copy=False)
    webauthn_credential_id = fields.Char(groups="base.group_system", copy=False, index=True)
    webauthn_public_key = fields.Char(groups="base.group_system", copy=False)
    webauthn_sign_count = fields.Integer(groups="base.group_system", copy=False)
    webauthn_aaguid = fields.Char("Authenticator model (AAGUID)", readonly=True, copy=False)

    _sql_constraints = [("public_id_unique", "UNIQUE(public_id)", "Enrolment ids are unique.")]

    # -- share state ---------------------------------------------------------------------
    def _kek_context(self, field):
        return f"enrolment:{self.public_id}:{field}"

    def _load_share_state(self, ring):
        self.ensure_one()
        rec = self.sudo()

        def dec(field, gen):
            value = rec[field]
            return (gen, ring.open(value, self._kek_context(field))) if value else (None, None)

        pending_gen, pending = dec("share_pending", rec.pending_gen)
        superseded_gen, superseded = dec("share_superseded", rec.superseded_gen)
        return shares.ShareState(
            enrolment_id=rec.public_id, verifier=b64url_decode(rec.verifier, "verifier"),
            current_gen=rec.current_gen, current=ring.open(rec.share_current, self._kek_context("share_current")),
            pending_gen=pending_gen, pending=pending, superseded_gen=superseded_gen, superseded=superseded)

    def _share_values(self, state, ring):
        def enc(field, value):
            return ring.seal(value, self._kek_context(field)) if value is not None else False

        return {
            "verifier": b64url_encode(state.verifier),
            "current_gen": state.current_gen, "share_current": enc("share_current", state.current),
            "pending_gen": state.pending_gen or 0, "share_pending": enc("share_pending", state.pending),
            "superseded_gen": state.superseded_gen or 0,
            "share_superseded": enc("share_superseded", state.superseded),
        }

    # -- credentials for the core ---------------------------------------------------------
    def _webauthn_credential(self):
        rec = self.sudo()
        if not rec.webauthn_credential_id:
            return None
        return webauthn.Credential(
            credential_id=rec.webauthn_credential_id, public_key=b64url_decode(rec.webauthn_public_key, "key"),
            sign_count=rec.webauthn_sign_count, aaguid=rec.webauthn_aaguid or "", attestation_format="",
            backup_eligible=False)

    @api.model
    def _find_active(self, public_id):
        if not isinstance(public_id, str) or len(public_id) > 64 or "\x00" in public_id:
            return self.browse()
        return self.sudo().search([("public_id", "=", public_id), ("state", "=", "active")], limit=1)

    # -- user and admin actions -----------------------------------------------------------
    def _check_manage(self):
        user = self.env.user
        if not (self.env.su or user.has_group("base.group_system")) and any(e.user_id != user for e in self):
            raise AccessError(_("You can only manage your own phones."))

    def action_revoke(self):
        self._check_manage()
        active = self.filtered(lambda e: e.state in ("active", "pending"))
        wipe = {name: False for name in SECRET_FIELDS + ("share_pending", "share_superseded")}
        active.sudo().write({"state": "revoked", "revoked_on": fields.Datetime.now(), **wipe})
        for enrolment in active:
            _logger.info("auth_masterkey: enrolment %s of user #%s revoked by uid #%s",
                         enrolment.id, enrolment.user_id.id, self.env.uid)
            self.env["auth.masterkey.audit"]._record("enrolment_revoked", user=enrolment.user_id,
                                                    enrolment=enrolment, result="success")
        active.user_id._masterkey_bump_session_epoch()
        return True

    @api.ondelete(at_uninstall=False)
    def _unlink_if_revoked(self):
        if any(e.state == "active" for e in self):
            raise UserError(_("Revoke a phone before deleting it."))

    def write(self, vals):
        # Users may only rename; the rest is written by the code with sudo.
        if not self.env.su and set(vals) - {"name"}:
            raise AccessError(_("Only the phone's name can be changed."))
        return super().write(vals)
