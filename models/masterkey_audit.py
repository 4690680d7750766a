"""Append-only login audit log with a hash chain.

Rows are inserted by the code (sudo) only; the ORM refuses write and unlink to everyone.
Each row stores the hash of the previous one, so a row changed or deleted in SQL breaks the
chain at that point, which "Verify integrity" reports.
"""

import hashlib
import json
import logging
from contextlib import contextmanager

from psycopg2.extras import execute_values

import odoo.modules.module

from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.http import request

from ..masterkey_core.audit_chain import GENESIS, row_hash, verify_chain
from . import masterkey_settings as settings

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
        return self._record_many([{
            "event": event, "user_id": user.id if user else False,
            "login": login or (user.login if user else ""), "method": method, "result": result, "reason": reason,
            "factors_required": factors_required, "factors_passed": factors_passed,
            "request_ref": req.public_id if req else "", "enrolment_ref": enrolment.public_id if enrolment else "",
        }])

    @api.model
    def _record_many(self, events):
        """Append events in one INSERT (the idle cron ends thousands of sessions at once).

        Each event may name ``session_ref`` (a session identifier); by default the current
        request's session, IP and user agent are recorded.
        """
        httpreq = request.httprequest if request else None
        sid = (request.session.sid or "")[:42] if request and request.session else ""
        now = fields.Datetime.now()
        rows = []
        for event in events:
            session = event.get("session_ref", sid)
            rows.append({**self._blank_row(now),
                "event": event["event"], "event_time": now, "user_id": event.get("user_id") or False,
                "login": (event.get("login") or "")[:128], "method": event.get("method") or "",
                "factors_required": event.get("factors_required") or 0, "factors_passed": event.get("factors_passed") or 0,
                "result": event.get("result") or "info", "reason": (event.get("reason") or "")[:256],
                "ip": event.get("ip", httpreq.remote_addr if httpreq else "") or "",
                "user_agent": (event.get("user_agent", httpreq.user_agent.string if httpreq else "") or "")[:256],
                "session_hash": hashlib.sha256(session.encode()).hexdigest()[:32] if session else "",
                "request_ref": event.get("request_ref") or "", "enrolment_ref": event.get("enrolment_ref") or "",
            })
        with self._chain_cursor() as cr:
            ids = self._append(cr, rows, now)
        return self.browse(ids)

    @staticmethod
    def _blank_row(now):
        return {"event": "", "event_time": now, "user_id": False, "login": "", "method": "", "factors_required": 0,
                "factors_passed": 0, "result": "info", "reason": "", "ip": "", "user_agent": "", "session_hash": "",
                "request_ref": "", "enrolment_ref": ""}

    @contextmanager
    def _chain_cursor(self):
        """A cursor of its own, READ COMMITTED, holding the chain lock, committed on its own.

        Odoo's transactions are REPEATABLE READ: their snapshot predates the lock, so two
        concurrent writers would both read the same 'last' row and fork the chain. A failed
        request still leaves its audit event, which is what an audit log is for.
        """
        if odoo.modules.module.current_test:  # tests run in one transaction that is rolled back
            self.env.cr.execute("SELECT pg_advisory_xact_lock(%s)", (CHAIN_LOCK,))
            yield self.env.cr
            return
        with self.env.registry.cursor() as cr:
            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            cr.execute("SELECT pg_advisory_xact_lock(%s)", (CHAIN_LOCK,))
            yield cr

    def _append(self, cr, rows, now):
        """Chains and inserts ``rows`` on ``cr``, which holds the chain lock."""
        cr.execute("SELECT row_hash FROM auth_masterkey_audit ORDER BY id DESC LIMIT 1")
        last = cr.fetchone()
        prev = last[0] if last else GENESIS
        for row in rows:
            row["prev_hash"] = prev
            row["row_hash"] = prev = row_hash(prev, self._hash_payload(row))
        columns = list(rows[0])
        inserted = execute_values(cr._obj, f"""
            INSERT INTO auth_masterkey_audit ({", ".join(columns)}, create_uid, write_uid, create_date, write_date)
            VALUES %s RETURNING id""",  # noqa: S608 - constant column names
            [[(row[c] or None) if c == "user_id" else row[c] for c in columns] + [self.env.uid, self.env.uid, now, now]
             for row in rows], page_size=len(rows) or 1, fetch=True)
        return [r[0] for r in inserted]

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

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise AccessError(_("Audit events cannot be deleted."))

    def action_verify_integrity(self):
        """Checks the whole chain, whichever rows are selected (a list header button)."""
        rows = self._iter_rows()
        start, _last_id, checkpoint_problem = self._checkpoint()
        problems = ([checkpoint_problem] if checkpoint_problem else []) + verify_chain(rows, start=start)
        message = (_("Audit log intact.") if not problems
                   else _("Audit log tampering detected: %s", "; ".join(problems[:20])))
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"title": _("Integrity check"), "message": message,
                           "type": "success" if not problems else "danger", "sticky": bool(problems)}}

    def _iter_rows(self, batch=10000):
        """All rows in id order, a batch at a time (keyset pagination keeps memory flat)."""
        last_id = 0
        while True:
            self.env.cr.execute(f"SELECT id, prev_hash, row_hash, {', '.join(HASHED_FIELDS)} "  # noqa: S608
                                "FROM auth_masterkey_audit WHERE id > %s ORDER BY id LIMIT %s", (last_id, batch))
            chunk = self.env.cr.fetchall()
            if not chunk:
                return
            for r in chunk:
                yield {"id": r[0], "prev_hash": r[1], "row_hash": r[2],
                       "payload": self._hash_payload(dict(zip(HASHED_FIELDS, r[3:])))}
            last_id = chunk[-1][0]

    def init(self):
        super().init()
        # Auditors filter by address, user and failures, newest first; the pivot groups by month.
        for column in ("ip", "user_id", "result", "method"):
            self.env.cr.execute(f"CREATE INDEX IF NOT EXISTS auth_masterkey_audit_{column}_id_idx "  # noqa: S608
                                f"ON auth_masterkey_audit ({column}, id)")
        self.env.cr.execute("SELECT 1 FROM pg_statistic_ext WHERE stxname = 'auth_masterkey_audit_month'")
        if not self.env.cr.fetchone():
            self.env.cr.execute("CREATE STATISTICS auth_masterkey_audit_month ON "
                                "(date_trunc('month', event_time::timestamp)), result FROM auth_masterkey_audit")

    # -- retention ----------------------------------------------------------------------
    CHECKPOINT_PARAM = "auth_masterkey.audit_checkpoint"

    @api.model
    def _checkpoint(self):
        """(hash the remaining chain starts from, last purged id, problem or None)."""
        raw = self.env["ir.config_parameter"].sudo().get_param(self.CHECKPOINT_PARAM)
        if not raw:
            return GENESIS, 0, None
        try:
            data = json.loads(raw)
            message = f"{data['hash']}:{data['last_id']}"
            ok = settings.keyring(self.env).verify_signature(message, "audit-checkpoint", data["sig"])
        except (ValueError, KeyError, TypeError):
            ok, data = False, {"hash": GENESIS, "last_id": 0}
        return data["hash"], data["last_id"], None if ok else "the retention checkpoint is not signed by this server"

    @api.model
    def _checkpoint_hash(self):
        return self._checkpoint()[0]

    @api.model
    def _cron_purge(self):
        """Deletes events past the retention period; a signed checkpoint keeps the rest verifiable."""
        days = int(self.env["ir.config_parameter"].sudo().get_param("auth_masterkey.audit_retention_days", 365) or 0)
        if days <= 0:
            return 0
        with self._chain_cursor() as cr:
            cr.execute("""SELECT id, row_hash FROM auth_masterkey_audit
                           WHERE event_time < (now() at time zone 'UTC') - make_interval(days => %s)
                           ORDER BY id DESC LIMIT 1""", (days,))
            last = cr.fetchone()
            if not last:
                return 0
            cr.execute("DELETE FROM auth_masterkey_audit WHERE id <= %s", (last[0],))
            purged = cr.rowcount
            message = f"{last[1]}:{last[0]}"
            self.env(cr=cr)["ir.config_parameter"].sudo().set_param(self.CHECKPOINT_PARAM, json.dumps({
                "hash": last[1], "last_id": last[0],
                "sig": settings.keyring(self.env).sign(message, "audit-checkpoint")}))
            now = fields.Datetime.now()
            self._append(cr, [{**self._blank_row(now), "event": "audit_purged", "result": "info",
                               "reason": f"{purged} event(s) older than {days} days"}], now)
        return purged
