import json
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tests.common import TransactionCase

from ..masterkey_core import errors


@tagged("post_install", "-at_install")
class TestAudit(TransactionCase):

    def setUp(self):
        super().setUp()
        self.Audit = self.env["auth.masterkey.audit"]
        self.events = self.Audit.browse()
        for i in range(3):
            self.events |= self.Audit._record("login", login=f"user{i}", method="password", result="failure",
                                              reason="wrong password")

    def verify(self):
        return self.Audit.action_verify_integrity()["params"]

    def test_chain_is_intact(self):
        self.assertEqual(self.verify()["type"], "success")
        self.assertEqual(self.events[1].prev_hash, self.events[0].row_hash)

    def test_orm_cannot_change_or_delete(self):
        for user in (self.env.ref("base.user_admin"), self.env.user):
            with self.assertRaises(AccessError):
                self.events[0].with_user(user).write({"reason": "edited"})
            with self.assertRaises(AccessError):
                self.events[0].with_user(user).unlink()
            with self.assertRaises(AccessError):
                self.Audit.with_user(user).create({"event": "forged"})

    def test_sql_tampering_is_found(self):
        self.cr.execute("UPDATE auth_masterkey_audit SET reason = 'nothing happened' WHERE id = %s",
                        (self.events[1].id,))
        params = self.verify()
        self.assertEqual(params["type"], "danger")
        self.assertIn(f"row {self.events[1].id}: its content was changed", params["message"])

    def test_sql_deletion_is_found(self):
        self.cr.execute("DELETE FROM auth_masterkey_audit WHERE id = %s", (self.events[1].id,))
        params = self.verify()
        self.assertIn(f"row {self.events[2].id}: the row before it was changed or deleted", params["message"])

    def test_auditor_reads_but_cannot_write(self):
        auditor = self.env["res.users"].create({
            "name": "Auditor", "login": "auditor_mk",
            "groups_id": [(6, 0, [self.env.ref("auth_masterkey.group_masterkey_auditor").id])]})
        self.assertTrue(self.Audit.with_user(auditor).search([("id", "in", self.events.ids)]))
        with self.assertRaises(AccessError):
            self.events[0].with_user(auditor).write({"reason": "x"})
        self.assertIn("params", self.Audit.with_user(auditor).action_verify_integrity())


@tagged("post_install", "-at_install")
class TestRateLimit(TransactionCase):

    def setUp(self):
        super().setUp()
        self.Limit = self.env["auth.masterkey.ratelimit"]
        icp = self.env["ir.config_parameter"].sudo()
        icp.set_param("auth_masterkey.lockout_failures", "3")
        icp.set_param("auth_masterkey.lockout_base", "60")

    def test_lockout_after_threshold_and_growth(self):
        for _ in range(2):
            self.assertFalse(self.Limit._failure("10.0.0.1", "alice"))
        self.Limit._check("10.0.0.1", "alice")
        self.assertTrue(self.Limit._failure("10.0.0.1", "alice"))
        with self.assertRaises(errors.RateLimited):
            self.Limit._check("10.0.0.9", "alice")  # same login, another address
        with self.assertRaises(errors.RateLimited):
            self.Limit._check("10.0.0.1", "bob")  # same address, another login
        row = self.Limit.search([("key", "=", "login:alice")])
        first = row.locked_until
        # time travel: the lockout ran out; three more failures lock for twice as long
        self.cr.execute("UPDATE auth_masterkey_ratelimit SET locked_until = %s", (fields.Datetime.now() - timedelta(seconds=1),))
        self.Limit._check("10.0.0.1", "alice")
        for _ in range(3):
            self.Limit._failure("10.0.0.1", "alice")
        row.invalidate_recordset()
        self.assertGreater(row.locked_until - fields.Datetime.now(), timedelta(seconds=100))
        self.assertEqual(row.lockouts, 2)
        self.assertTrue(first)
        events = self.env["auth.masterkey.audit"].search([("event", "=", "lockout")])
        self.assertTrue(events)
        self.assertNotIn("alice-password", " ".join(events.mapped("reason")))


@tagged("post_install", "-at_install")
class TestRetention(TransactionCase):

    def test_purge_keeps_the_chain_verifiable_with_a_signed_checkpoint(self):
        Audit = self.env["auth.masterkey.audit"]
        events = Audit.browse()
        for i in range(4):
            events |= Audit._record("login", login=f"r{i}", result="success")
        self.cr.execute("UPDATE auth_masterkey_audit SET event_time = event_time - interval '400 days' "
                        "WHERE id <= %s", (events[1].id,))
        # moving rows in time is itself tampering; re-hash them to simulate genuinely old rows
        self.cr.execute("SELECT id FROM auth_masterkey_audit ORDER BY id")
        self._rehash_all(Audit)
        self.assertGreaterEqual(Audit._cron_purge(), 2)
        self.assertFalse(Audit.search([("id", "in", events[:2].ids)]))
        self.assertEqual(Audit.action_verify_integrity()["params"]["type"], "success")
        param = self.env["ir.config_parameter"].sudo()
        data = json.loads(param.get_param("auth_masterkey.audit_checkpoint"))
        data["hash"] = "0" * 64
        param.set_param("auth_masterkey.audit_checkpoint", json.dumps(data))
        params = Audit.action_verify_integrity()["params"]
        self.assertEqual(params["type"], "danger")
        self.assertIn("checkpoint", params["message"])

    def _rehash_all(self, Audit):
        from ..masterkey_core.audit_chain import GENESIS, row_hash
        from ..models.masterkey_audit import HASHED_FIELDS
        self.cr.execute(f"SELECT id, {', '.join(HASHED_FIELDS)} FROM auth_masterkey_audit ORDER BY id")
        prev = GENESIS
        for row in self.cr.fetchall():
            h = row_hash(prev, Audit._hash_payload(dict(zip(HASHED_FIELDS, row[1:]))))
            self.cr.execute("UPDATE auth_masterkey_audit SET prev_hash = %s, row_hash = %s WHERE id = %s", (prev, h, row[0]))
            prev = h
