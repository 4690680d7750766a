from . import test_audit_ratelimit, test_http, test_login_flow
