import json
import time

from odoo.tests import HttpCase, tagged
from odoo.tests.common import TransactionCase


def age(env, identifiers, seconds):
    """Time travel: these sessions were last active ``seconds`` ago."""
    env.cr.execute("""UPDATE auth_masterkey_session_activity
                         SET last_activity = (now() at time zone 'UTC') - make_interval(secs => %s)
                       WHERE session_identifier = ANY(%s)""", (seconds, list(identifiers)))


def ident(n):
    return f"{n:042d}"


@tagged("post_install", "-at_install")
class TestIdleCron(TransactionCase):

    def setUp(self):
        super().setUp()
        self.Activity = self.env["auth.masterkey.session.activity"]
        self.env["ir.config_parameter"].set_param("auth_masterkey.idle_timeout", "10")
        self.user = self.env.ref("base.user_demo")

    def track(self, identifiers, user=None):
        for identifier in identifiers:
            self.Activity._touch(identifier, (user or self.user).id)
            self.env["res.device.log"].create({"session_identifier": identifier, "user_id": (user or self.user).id,
                                               "first_activity": "2026-01-01", "last_activity": "2026-01-01"})

    def ended(self, identifier):
        return self.Activity.search([("session_identifier", "=", identifier)]).ended_at

    def test_only_the_idle_session_ends(self):
        self.track([ident(1), ident(2)])
        age(self.env, [ident(1)], 11 * 60)
        age(self.env, [ident(2)], 9 * 60)
        self.assertEqual(self.Activity._cron_end_idle_sessions(), 1)
        self.assertTrue(self.ended(ident(1)))
        self.assertFalse(self.ended(ident(2)))
        logs = self.env["res.device.log"].search([("session_identifier", "in", [ident(1), ident(2)])])
        self.assertEqual({log.session_identifier: log.revoked for log in logs}, {ident(1): True, ident(2): False})
        event = self.env["auth.masterkey.audit"].search([("event", "=", "idle_logout")], limit=1)
        self.assertEqual(event.user_id, self.user)
        # an ended session stays ended: later activity does not revive it
        self.Activity._touch(ident(1), self.user.id, force=True)
        self.assertTrue(self.ended(ident(1)))

    def test_zero_disables_and_group_timeout_only_shortens(self):
        self.track([ident(3)])
        age(self.env, [ident(3)], 3 * 3600)
        icp = self.env["ir.config_parameter"]
        icp.set_param("auth_masterkey.idle_timeout", "0")
        self.assertEqual(self.Activity._cron_end_idle_sessions(), 0)
        icp.set_param("auth_masterkey.idle_group_id", str(self.env.ref("base.group_user").id))
        icp.set_param("auth_masterkey.idle_group_timeout", "5")
        self.track([ident(4)])
        age(self.env, [ident(4)], 6 * 60)
        self.assertEqual(self.Activity._cron_end_idle_sessions(), 2)

    def test_cron_over_thousands_of_sessions_with_constant_queries(self):
        self.env.cr.execute("""
            INSERT INTO auth_masterkey_session_activity (session_identifier, user_id, last_activity)
            SELECT lpad(i::text, 42, '0'), %s, (now() at time zone 'UTC') - interval '1 hour'
              FROM generate_series(100, 5099) i""", (self.user.id,))
        self.env.flush_all()
        with self.assertQueryCount(__system__=12):
            ended = self.Activity._cron_end_idle_sessions()
        self.assertEqual(ended, 5000)


@tagged("post_install", "-at_install")
class TestIdleHttp(HttpCase):

    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param("auth_masterkey.idle_timeout", "10")

    def identifier(self):
        return self.session.sid[:42]

    def test_idle_session_is_refused_and_redirected_cleanly(self):
        self.authenticate("demo", "demo")
        self.assertEqual(self.url_open("/odoo").status_code, 200)  # a page load: tracked, active
        age(self.env, [self.identifier()], 11 * 60)
        response = self.url_open("/odoo/action-base.action_res_users_my", allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertIn("/web/login?masterkey_idle=1", response.headers["Location"])
        login_page = self.url_open(response.headers["Location"])  # no redirect loop, a message
        self.assertEqual(login_page.status_code, 200)
        self.assertIn("logged out after a period of inactivity", login_page.text)
        info = self.url_open("/web/session/get_session_info", data=json.dumps({"jsonrpc": "2.0", "params": {}}),
                             headers={"Content-Type": "application/json"}).json()
        self.assertTrue("error" in info or not info["result"].get("uid"))

    def test_rpc_of_idle_session_gets_session_expired(self):
        self.authenticate("demo", "demo")
        self.url_open("/odoo")
        age(self.env, [self.identifier()], 11 * 60)
        result = self.url_open("/web/dataset/call_kw", data=json.dumps({"jsonrpc": "2.0", "params": {
            "model": "res.partner", "method": "search_count", "args": [[]], "kwargs": {}}}),
            headers={"Content-Type": "application/json"}).json()
        self.assertEqual(result["error"]["code"], 100)

    def test_background_rpc_is_not_activity_but_the_ping_is(self):
        self.authenticate("demo", "demo")
        self.url_open("/odoo")
        age(self.env, [self.identifier()], 5 * 60)
        self.url_open("/web/dataset/call_kw", data=json.dumps({"jsonrpc": "2.0", "params": {
            "model": "res.partner", "method": "search_count", "args": [[]], "kwargs": {}}}),
            headers={"Content-Type": "application/json"})
        state = self.url_open("/auth_masterkey/activity", data=json.dumps({"active": False}),
                              headers={"Content-Type": "application/json"}).json()
        self.assertLess(state["remaining"], 5 * 60 + 5)
        state = self.url_open("/auth_masterkey/activity", data=json.dumps({"active": True}),
                              headers={"Content-Type": "application/json"}).json()
        self.assertGreater(state["remaining"], 9 * 60)
        self.assertEqual(state["timeout"], 600)

    def test_anonymous_visitor_never_expires(self):
        response = self.url_open("/web/login")
        self.assertEqual(response.status_code, 200)
        self.assertNotIn("inactivity", response.text)
        time.sleep(0)  # no session: nothing tracked
        self.env.cr.execute("SELECT count(*) FROM auth_masterkey_session_activity WHERE user_id IS NULL")
        self.assertEqual(self.env.cr.fetchone()[0], 0)


@tagged("post_install", "-at_install")
class TestSessionFiles(TransactionCase):

    def test_only_the_named_sessions_are_deleted(self):
        import os
        import tempfile

        from ..models.masterkey_session_activity import delete_session_files
        with tempfile.TemporaryDirectory() as store:
            sids = [ident(1) + "a" * 42, ident(2) + "b" * 42, "ab" + "c" * 82]
            for sid in sids:
                os.makedirs(os.path.join(store, sid[:2]), exist_ok=True)
                open(os.path.join(store, sid[:2], sid), "w").close()
            delete_session_files(store, [ident(1), "../../etc/passwd", "ab"])
            left = sorted(name for folder in os.listdir(store) for name in os.listdir(os.path.join(store, folder)))
            self.assertEqual(left, sorted(sids[1:]))
