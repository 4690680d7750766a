{
    "name": "MasterKey: passwordless login with your phone",
    "version": "18.0.1.0.0",
    "summary": "Log in without a password: split credential, device signature and biometrics on your phone",
    "category": "Hidden/Tools",
    "author": "auth_masterkey developers",
    "license": "LGPL-3",
    "depends": ["base_setup", "web"],
    "external_dependencies": {"python": ["fido2", "qrcode", "cryptography"]},
    "data": [
        "security/security.xml",
        "security/ir.model.access.csv",
        "data/ir_cron.xml",
        "views/masterkey_enrolment_views.xml",
        "views/res_users_views.xml",
        "views/res_config_settings_views.xml",
        "views/login_templates.xml",
        "views/phone_templates.xml",
    ],
    "assets": {
        "web.assets_backend": ["auth_masterkey/static/src/idle/idle_service.js"],
    },
}
