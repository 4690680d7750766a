"""Idle-session auto-logout: last *user* activity per session, in PostgreSQL.

Activity is a page load or the web client's throttled ping after keyboard, pointer or touch
input; RPCs, the bus and polling never count, so an untouched tab goes idle. Every request
of a logged-in session checks the timeout, and a cron ends idle sessions every minute.
Ending a session deletes it from Odoo's session store and commits the device-log and audit
rows on their own cursor, so no later rollback can bring the session back.
"""

import contextlib
import logging
import os
import re

from odoo import api, fields, models
from odoo.http import root

from ..masterkey_core import idle

_logger = logging.getLogger(__name__)
TOUCH_EVERY_SECONDS = 20
# As Odoo checks before deleting session files.
SESSION_IDENTIFIER = re.compile(r"^[A-Za-z0-9_-]{42}$")  # activity is kept to the minute or finer, without a write per click


def delete_session_files(store_path, identifiers):
    """Odoo's FilesystemSessionStore.delete_from_identifiers, with one directory listing per
    folder instead of one glob per session (the cron may end 100,000 sessions at once)."""
    by_folder = {}
    for identifier in identifiers:
        if SESSION_IDENTIFIER.match(identifier):
            by_folder.setdefault(identifier[:2], []).append(identifier)
    for folder, wanted in by_folder.items():
        path = os.path.join(store_path, folder)
        try:
            names = os.listdir(path)
        except OSError:
            continue
        wanted = set(wanted)
        for name in names:
            if name[:42] in wanted:
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(path, name))


class MasterKeySessionActivity(models.Model):
    _name = "auth.masterkey.session.activity"
    _description = "MasterKey session activity"
    _log_access = False

    session_identifier = fields.Char(required=True, index=True)
    user_id = fields.Many2one("res.users", required=True, ondelete="cascade", index=True)
    last_activity = fields.Datetime(required=True, index=True)
    ended_at = fields.Datetime(index=True)

    _sql_constraints = [("session_unique", "UNIQUE(session_identifier)", "One row per session.")]

    # -- configuration -----------------------------------------------------------------
    @api.model
    def _timeout_seconds(self, user_id):
        get = self.env["ir.config_parameter"].sudo().get_param
        group = get("auth_masterkey.idle_group_id")
        in_group = bool(group and str(group).isdigit() and user_id
                        and int(group) in self.env["res.users"].sudo().browse(user_id).groups_id.ids)
        return idle.effective_timeout_seconds(get("auth_masterkey.idle_timeout", 0),
                                              get("auth_masterkey.idle_group_timeout", 0), in_group)

    # -- per request -----------------------------------------------------------------------
    @api.model
    def _state(self, identifier):
        """(seconds since last activity, ended?) of a session, or None if not tracked yet."""
        self.env.cr.execute("""SELECT extract(epoch FROM (now() at time zone 'UTC') - last_activity), ended_at IS NOT NULL
                                 FROM auth_masterkey_session_activity WHERE session_identifier = %s""", (identifier,))
        row = self.env.cr.fetchone()
        return (float(row[0]), row[1]) if row else None

    @api.model
    def _touch(self, identifier, user_id, force=False):
        """Record activity now (at most every TOUCH_EVERY_SECONDS unless ``force``)."""
        self.env.cr.execute("""
            INSERT INTO auth_masterkey_session_activity (session_identifier, user_id, last_activity)
            VALUES (%(sid)s, %(uid)s, now() at time zone 'UTC')
            ON CONFLICT (session_identifier) DO UPDATE SET last_activity = EXCLUDED.last_activity
             WHERE auth_masterkey_session_activity.ended_at IS NULL
               AND (%(force)s OR auth_masterkey_session_activity.last_activity
                    < (now() at time zone 'UTC') - make_interval(secs => %(every)s))
        """, {"sid": identifier, "uid": user_id, "force": force, "every": TOUCH_EVERY_SECONDS})

    # -- ending sessions --------------------------------------------------------------------
    @api.model
    def _end_sessions(self, rows, reason="idle"):
        """rows: [(session_identifier, user_id)]. A fixed number of queries whatever their count."""
        if not rows:
            return 0
        identifiers = [r[0] for r in rows]
        delete_session_files(root.session_store.path, identifiers)
        self.env.cr.execute("""UPDATE auth_masterkey_session_activity SET ended_at = now() at time zone 'UTC'
                                WHERE session_identifier = ANY(%s) AND ended_at IS NULL""", (identifiers,))
        self.env.cr.execute("UPDATE res_device_log SET revoked = true WHERE session_identifier = ANY(%s) AND revoked IS NOT TRUE",
                            (identifiers,))
        self.invalidate_model(["ended_at"])
        self.env["res.device.log"].invalidate_model(["revoked"])
        self.env["auth.masterkey.audit"]._record_many([
            {"event": "idle_logout", "user_id": uid, "method": "session", "result": "info",
             "reason": reason, "session_ref": identifier} for identifier, uid in rows])
        return len(rows)

    @api.model
    def _cron_end_idle_sessions(self):
        """Ends every session idle past its timeout. Query count does not grow with sessions."""
        get = self.env["ir.config_parameter"].sudo().get_param
        global_s = idle.effective_timeout_seconds(get("auth_masterkey.idle_timeout", 0))
        group = get("auth_masterkey.idle_group_id")
        group_s = idle.effective_timeout_seconds(get("auth_masterkey.idle_group_timeout", 0))
        group_id = int(group) if group and str(group).isdigit() else 0
        if not global_s and not (group_id and group_s):
            return 0
        self.env.cr.execute("""
            SELECT a.session_identifier, a.user_id
              FROM auth_masterkey_session_activity a
              LEFT JOIN res_groups_users_rel g ON g.uid = a.user_id AND g.gid = %(group)s
             WHERE a.ended_at IS NULL
               AND a.last_activity < (now() at time zone 'UTC') - make_interval(secs => CASE
                     WHEN g.uid IS NOT NULL AND %(group_s)s > 0 AND (%(global_s)s = 0 OR %(group_s)s < %(global_s)s)
                     THEN %(group_s)s ELSE %(global_s)s END)
               AND (g.uid IS NOT NULL AND %(group_s)s > 0 OR %(global_s)s > 0)
        """, {"group": group_id, "group_s": group_s, "global_s": global_s})
        ended = self._end_sessions(self.env.cr.fetchall())
        if ended:
            _logger.info("auth_masterkey: ended %d idle session(s)", ended)
        return ended

    @api.model
    def _gc(self):
        self.env.cr.execute("""DELETE FROM auth_masterkey_session_activity
                                WHERE ended_at < (now() at time zone 'UTC') - interval '7 days'""")
