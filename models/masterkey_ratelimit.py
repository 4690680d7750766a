"""Failed-attempt counters in PostgreSQL, per IP and per login, shared by every worker.

One row per key ('ip:…' or 'login:…'); an UPSERT makes each failure atomic across workers
and servers (Odoo's own login cooldown counts per process).
"""

import logging

from odoo import api, fields, models

from ..masterkey_core import errors, ratelimit

_logger = logging.getLogger(__name__)


class MasterKeyRateLimit(models.Model):
    _name = "auth.masterkey.ratelimit"
    _description = "MasterKey failed-attempt counter"

    key = fields.Char(required=True, index=True, readonly=True)
    failures = fields.Integer(readonly=True)
    window_start = fields.Datetime(readonly=True)
    locked_until = fields.Datetime(readonly=True)
    lockouts = fields.Integer(readonly=True)

    _sql_constraints = [("key_unique", "UNIQUE(key)", "One counter per key.")]

    @api.model
    def _policy(self):
        get = self.env["ir.config_parameter"].sudo().get_param

        def num(name, default):
            try:
                return max(1, int(get(f"auth_masterkey.{name}", default)))
            except (TypeError, ValueError):
                return default
        return ratelimit.LimitPolicy(num("lockout_failures", 5), num("lockout_window", 300),
                                     num("lockout_base", 60), num("lockout_max", 3600))

    @staticmethod
    def _keys(ip, login):
        keys = [f"ip:{ip}"] if ip else []
        if login:
            keys.append(f"login:{login.strip().lower()[:128]}")
        return keys

    @api.model
    def _check(self, ip, login=None):
        keys = self._keys(ip, login)
        if not keys:
            return
        self.env.cr.execute("SELECT 1 FROM auth_masterkey_ratelimit WHERE key = ANY(%s) "
                            "AND locked_until > (now() at time zone 'UTC') LIMIT 1", (keys,))
        if self.env.cr.fetchone():
            raise errors.RateLimited()

    @api.model
    def _failure(self, ip, login=None):
        """Count one failure; returns True when this failure started a lockout."""
        policy = self._policy()
        locked = False
        for key in self._keys(ip, login):
            self.env.cr.execute("""
                INSERT INTO auth_masterkey_ratelimit (key, failures, window_start, lockouts, create_date, write_date)
                VALUES (%(key)s, 1, now() at time zone 'UTC', 0, now() at time zone 'UTC', now() at time zone 'UTC')
                ON CONFLICT (key) DO UPDATE SET
                    failures = CASE WHEN auth_masterkey_ratelimit.window_start
                                         < (now() at time zone 'UTC') - make_interval(secs => %(window)s)
                                    THEN 1 ELSE auth_masterkey_ratelimit.failures + 1 END,
                    window_start = CASE WHEN auth_masterkey_ratelimit.window_start
                                         < (now() at time zone 'UTC') - make_interval(secs => %(window)s)
                                    THEN now() at time zone 'UTC' ELSE auth_masterkey_ratelimit.window_start END,
                    write_date = now() at time zone 'UTC'
                RETURNING id, failures, lockouts
            """, {"key": key, "window": policy.window_seconds})
            row_id, failures, lockouts = self.env.cr.fetchone()
            if failures >= policy.max_failures:
                seconds = ratelimit.lockout_seconds(policy, lockouts)
                self.env.cr.execute("""
                    UPDATE auth_masterkey_ratelimit SET failures = 0, lockouts = lockouts + 1,
                           locked_until = (now() at time zone 'UTC') + make_interval(secs => %s)
                     WHERE id = %s""", (seconds, row_id))
                locked = True
                self.env["auth.masterkey.audit"]._record("lockout", login=key, result="failure",
                                                        reason=f"locked for {seconds} s after {failures} failures")
        return locked

    @api.model
    def _gc(self):
        self.env.cr.execute("""DELETE FROM auth_masterkey_ratelimit
                                WHERE coalesce(locked_until, window_start) < (now() at time zone 'UTC') - interval '1 day'""")
