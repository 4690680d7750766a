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

    @api.constrains("masterkey_qr_ttl")
    def _check_masterkey_qr_ttl(self):
        from odoo.exceptions import ValidationError
        for rec in self:
            if not 15 <= rec.masterkey_qr_ttl <= 120:
                raise ValidationError("The QR code lifetime must be between 15 and 120 seconds.")
