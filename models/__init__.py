from . import (
    ir_http, masterkey_audit, masterkey_enrolment, masterkey_request, masterkey_enrolment_flow, masterkey_ratelimit,
    masterkey_session_activity, res_config_settings, res_users,
)
