"""Idle-session rule: which timeout applies, and which requests count as a person's activity."""

# Background traffic a web client makes by itself: never a sign that someone is there.
BACKGROUND_PREFIXES = ("/web/assets", "/web/static", "/web/image", "/web/content", "/websocket", "/longpolling",
                       "/bus/", "/web/webclient/", "/web/bundle", "/odoo/static", "/web/session/")
WARNING_SECONDS = 60  # the web client warns this long before the logout


def effective_timeout_seconds(global_minutes, group_minutes=None, in_group=False):
    """Minutes from the settings -> seconds; 0 disables. The group's timeout only shortens."""
    timeouts = [_minutes(global_minutes)]
    if in_group:
        timeouts.append(_minutes(group_minutes))
    active = [t for t in timeouts if t > 0]
    return min(active) * 60 if active else 0


def _minutes(value):
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


def is_page_load(method, path, route_type, fetch_mode=None):
    """A person loading a page. Browsers say so (Sec-Fetch-Mode: navigate); the web client's
    own background fetches (manifest, service worker, images) say otherwise. Without that
    header, a GET of an HTML route outside the background prefixes counts."""
    if method != "GET" or route_type != "http":
        return False
    if fetch_mode:
        return fetch_mode == "navigate"
    return not path.startswith(BACKGROUND_PREFIXES)

