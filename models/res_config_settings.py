from odoo import api, fields, models

from ..masterkey_core import policy

FACTOR_CHOICES = [("1", "1: split credential"), ("2", "2: + device signature"), ("3", "3: + biometrics")]


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    masterkey_required_factors = fields.Selection(
        FACTOR_CHOICES, string="MasterKey factors required", default="2",
        config_parameter="auth_masterkey.required_factors")
    masterkey_strict_group_id = fields.Many2one(
        "res.groups", string="Stricter group", config_parameter="auth_masterkey.strict_group_id")
    masterkey_strict_group_factors = fields.Selection(
        FACTOR_CHOICES, string="Factors for that group", config_parameter="auth_masterkey.strict_group_factors")
    masterkey_password_policy = fields.Selection(
        [(policy.PASSWORD_ALWAYS, "Always allowed"),
         (policy.PASSWORD_WITHOUT_PHONE, "Only for users without an enrolled phone"),
         (policy.PASSWORD_NEVER, "Never")],
        string="Password login", default=policy.PASSWORD_ALWAYS, config_parameter="auth_masterkey.password_policy")
    masterkey_qr_ttl = fields.Integer(
        "QR code lifetime (seconds)", default=120, config_parameter="auth_masterkey.qr_ttl")
    masterkey_rp_id = fields.Char("WebAuthn RP ID", config_parameter="auth_masterkey.rp_id",
                                  help="Host name the phones' biometric credentials are bound to. "
                                       "Empty: the host of web.base.url.")
    masterkey_origins = fields.Char("Allowed origins", config_parameter="auth_masterkey.origins",
                                    help="Comma-separated, e.g. https://odoo.example.com. Empty: web.base.url.")

    masterkey_idle_timeout = fields.Integer(
        "Idle timeout (minutes)", default=0, config_parameter="auth_masterkey.idle_timeout",
        help="Sessions without keyboard, pointer or touch activity for this long are ended. 0 disables.")
    masterkey_idle_group_id = fields.Many2one("res.groups", string="Shorter timeout for group",
                                              config_parameter="auth_masterkey.idle_group_id")
    masterkey_idle_group_timeout = fields.Integer("Group idle timeout (minutes)",
                                                  config_parameter="auth_masterkey.idle_group_timeout")
    masterkey_lockout_failures = fields.Integer("Failures before lockout", default=5,
                                                config_parameter="auth_masterkey.lockout_failures")
    masterkey_lockout_base = fields.Integer("First lockout (seconds)", default=60,
                                            config_parameter="auth_masterkey.lockout_base",
                                            help="Each further lockout of the same login or address lasts twice as long.")
    masterkey_audit_retention_days = fields.Integer("Keep login log (days)", default=365,
                                                    config_parameter="auth_masterkey.audit_retention_days",
                                                    help="0 keeps every event.")

    def set_values(self):
        """Every change of a MasterKey setting is an audit event (old and new value)."""
        icp = self.env["ir.config_parameter"].sudo()
        tracked = {name: f.config_parameter for name, f in self._fields.items()
                   if name.startswith("masterkey_") and f.config_parameter}
        before = {param: icp.get_param(param) for param in tracked.values()}
        super().set_values()
        for param, old in before.items():
            new = icp.get_param(param)
            if (old or False) != (new or False):
                self.env["auth.masterkey.audit"]._record(
                    "settings_changed", user=self.env.user, method="settings", result="info",
                    reason=f"{param}: {old or '-'} -> {new or '-'}")

    @api.constrains("masterkey_qr_ttl")
    def _check_masterkey_qr_ttl(self):
        from odoo.exceptions import ValidationError
        for rec in self:
            if not 15 <= rec.masterkey_qr_ttl <= 120:
                raise ValidationError(self.env._("The QR code lifetime must be between 15 and 120 seconds."))
