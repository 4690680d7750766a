from . import test_audit_ratelimit, test_http, test_idle, test_login_flow
