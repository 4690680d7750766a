from . import (
    masterkey_audit, masterkey_enrolment, masterkey_request, masterkey_enrolment_flow, masterkey_ratelimit,
    res_config_settings, res_users,
)
