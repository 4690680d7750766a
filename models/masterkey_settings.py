"""Reads the MasterKey settings and server configuration; turns them into core objects."""

import logging
from urllib.parse import urlsplit

from odoo.tools import config

from ..masterkey_core import errors, kek, policy, webauthn

_logger = logging.getLogger(__name__)
PREFIX = "auth_masterkey."
DEFAULT_QR_TTL = 120
MAX_QR_TTL = 120
ENROL_TTL = 300
_WARNED_FALLBACK = set()  # only decides whether to log; no login state lives in memory


def param(env, name, default=None):
    return env["ir.config_parameter"].sudo().get_param(PREFIX + name, default)


def keyring(env):
    """KEKs from the configuration file (masterkey_kek), else derived from database.secret."""
    try:
        ring = kek.KeyRing.from_config(config.get("masterkey_kek"),
                                       env["ir.config_parameter"].sudo().get_param("database.secret"))
    except errors.MalformedInput as exc:  # a broken server configuration is an outage, not bad input
        _logger.error("auth_masterkey: masterkey_kek in the configuration file is invalid: %s", exc.message)
        raise errors.KeyUnavailable("The server's MasterKey key configuration is invalid.") from exc
    if ring.is_fallback and env.cr.dbname not in _WARNED_FALLBACK:
        # once per process and database: loud at start, not a line per login
        _WARNED_FALLBACK.add(env.cr.dbname)
        _logger.warning(kek.FALLBACK_WARNING)
    return ring


def origin_of(url):
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def relying_party(env):
    """RP ID and allowed origins: the settings, else web.base.url (which Odoo keeps in line
    with X-Forwarded-Host/Proto when proxy_mode is on)."""
    base = env["ir.config_parameter"].sudo().get_param("web.base.url") or ""
    rp_id = (param(env, "rp_id") or urlsplit(base).hostname or "localhost").strip()
    origins = [o.strip().rstrip("/") for o in (param(env, "origins") or "").split(",") if o.strip()]
    if not origins and origin_of(base):
        origins = [origin_of(base)]
    return webauthn.RelyingParty(rp_id=rp_id, origins=tuple(origins), name=env.company.name or "Odoo")


def qr_ttl(env):
    try:
        value = int(param(env, "qr_ttl", DEFAULT_QR_TTL))
    except (TypeError, ValueError):
        value = DEFAULT_QR_TTL
    return max(15, min(value, MAX_QR_TTL))


def required_factors(env, user):
    group_id = param(env, "strict_group_id")
    in_group = False
    if group_id and str(group_id).isdigit():
        in_group = int(group_id) in user.sudo().groups_id.ids
    try:
        return policy.required_factors(param(env, "required_factors", "2"),
                                       param(env, "strict_group_factors"), in_group)
    except policy.PolicyError:
        _logger.error("auth_masterkey: invalid required factor setting; requiring 3 factors")
        return 3


def password_policy(env):
    value = param(env, "password_policy", policy.PASSWORD_ALWAYS)
    return value if value in policy.PASSWORD_POLICIES else policy.PASSWORD_NEVER


def recovery_override():
    """Server-configuration switch that re-opens password login for a locked-out admin."""
    return str(config.get("masterkey_allow_password_login", "")).lower() in ("1", "true", "yes")
