"""Append-only login audit log with a hash chain.

Rows are inserted by the code (sudo) only; the ORM refuses write and unlink to everyone.
Each row stores the hash of the previous one, so a row changed or deleted in SQL breaks the
chain at that point, which "Verify integrity" reports.
"""

import hashlib
import json
import logging

from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.http import request

from ..masterkey_core.audit_chain import GENESIS, row_hash, verify_chain

_logger = logging.getLogger(__name__)
CHAIN_LOCK = 7_311_805_519  # pg_advisory_xact_lock key: one writer of the chain at a time
HASHED_FIELDS = ("event", "event_time", "user_id", "login", "method", "factors_required", "factors_passed",
                 "result", "reason", "ip", "user_agent", "session_hash", "request_ref", "enrolment_ref")


class MasterKeyAudit(models.Model):
    _name = "auth.masterkey.audit"
    _description = "MasterKey login audit event"
    _order = "id desc"
    _rec_name = "event"

    event = fields.Char(required=True, readonly=True, index=True)
    event_time = fields.Datetime(required=True, readonly=True, index=True, default=fields.Datetime.now)
    user_id = fields.Many2one("res.users", readonly=True, index=True, ondelete="set null")
    login = fields.Char("Attempted login", readonly=True)
    method = fields.Char(readonly=True, index=True)
    factors_required = fields.Integer(readonly=True)
    factors_passed = fields.Integer(readonly=True)
    result = fields.Selection([("success", "Success"), ("failure", "Failure"), ("info", "Info")],
                              readonly=True, index=True)
    reason = fields.Char(readonly=True)
    ip = fields.Char("IP address", readonly=True, index=True)
    user_agent = fields.Char(readonly=True)
    session_hash = fields.Char(readonly=True)
    request_ref = fields.Char("Request", readonly=True)
    enrolment_ref = fields.Char("Enrolment", readonly=True)
    prev_hash = fields.Char(readonly=True)
    row_hash = fields.Char(readonly=True)

    @api.model
    def _record(self, event, *, user=None, login=None, method=None, result="info", reason=None,
                factors_required=0, factors_passed=0, req=None, enrolment=None):
        """Append an event. Never takes secrets: callers pass codes and references only."""
        httpreq = request.httprequest if request else None
        sid = request.session.sid if request and request.session else ""
        values = {
            "event": event, "event_time": fields.Datetime.now(), "user_id": user.id if user else False,
            "login": (login or (user.login if user else "") or "")[:128], "method": method or "",
            "factors_required": factors_required or 0, "factors_passed": factors_passed or 0,
            "result": result, "reason": (reason or "")[:256],
            "ip": (httpreq.remote_addr if httpreq else "") or "",
            "user_agent": ((httpreq.user_agent.string if httpreq else "") or "")[:256],
            "session_hash": hashlib.sha256(sid.encode()).hexdigest()[:32] if sid else "",
            "request_ref": req.public_id if req else "", "enrolment_ref": enrolment.public_id if enrolment else "",
        }
        self.env.cr.execute("SELECT pg_advisory_xact_lock(%s)", (CHAIN_LOCK,))
        self.env.cr.execute("SELECT row_hash FROM auth_masterkey_audit ORDER BY id DESC LIMIT 1")
        row = self.env.cr.fetchone()
        values["prev_hash"] = row[0] if row else GENESIS
        values["row_hash"] = row_hash(values["prev_hash"], self._hash_payload(values))
        return super(MasterKeyAudit, self.sudo().with_context(masterkey_audit_insert=True)).create(values)

    @staticmethod
    def _hash_payload(values):
        def norm(name, value):
            if name == "event_time":
                return fields.Datetime.to_string(value)
            if hasattr(value, "id"):
                return value.id or False
            return value or (0 if name.startswith("factors") else "")
        return json.dumps({name: norm(name, values.get(name)) for name in HASHED_FIELDS},
                          sort_keys=True, separators=(",", ":"))

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.context.get("masterkey_audit_insert"):
            raise AccessError(_("Audit events are written by the system only."))
        return super().create(vals_list)

    def write(self, vals):
        raise AccessError(_("Audit events cannot be changed."))

    def unlink(self):
        if not self.env.context.get("masterkey_audit_purge"):
            raise AccessError(_("Audit events cannot be deleted."))
        return super().unlink()

    @api.model
    def action_verify_integrity(self):
        self.env.cr.execute(f"SELECT id, prev_hash, row_hash, {', '.join(HASHED_FIELDS)} "  # noqa: S608 - constant names
                            "FROM auth_masterkey_audit ORDER BY id")
        rows = ({"id": r[0], "prev_hash": r[1], "row_hash": r[2],
                 "payload": self._hash_payload(dict(zip(HASHED_FIELDS, r[3:])))}
                for r in self.env.cr.fetchall())
        problems = verify_chain(rows, start=self._checkpoint_hash())
        message = (_("Audit log intact.") if not problems
                   else _("Audit log tampering detected: %s", "; ".join(problems[:20])))
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"title": _("Integrity check"), "message": message,
                           "type": "success" if not problems else "danger", "sticky": bool(problems)}}

    @api.model
    def _checkpoint_hash(self):
        return self.env["ir.config_parameter"].sudo().get_param("auth_masterkey.audit_checkpoint") or GENESIS
