import pytest

from masterkey_core import idle


@pytest.mark.parametrize("glob,group,in_group,expected", [
    (30, None, False, 1800), (0, None, False, 0), (30, 5, True, 300), (30, 5, False, 1800),
    (0, 5, True, 300), (5, 30, True, 300), ("x", None, False, 0), (-3, None, False, 0),
])
def test_effective_timeout(glob, group, in_group, expected):
    assert idle.effective_timeout_seconds(glob, group, in_group) == expected


@pytest.mark.parametrize("method,path,kind,expected", [
    ("GET", "/odoo", "http", True), ("GET", "/odoo/action-12", "http", True),
    ("POST", "/web/dataset/call_kw", "json", False), ("GET", "/web/assets/1/web.js", "http", False),
    ("GET", "/websocket", "http", False), ("POST", "/odoo", "http", False), ("GET", "/web/image/1", "http", False),
])
def test_page_loads(method, path, kind, expected):
    assert idle.is_page_load(method, path, kind) is expected


@pytest.mark.parametrize("mode,expected", [("navigate", True), ("cors", False), ("no-cors", False),
                                           ("same-origin", False)])
def test_browser_says_what_a_navigation_is(mode, expected):
    assert idle.is_page_load("GET", "/web/manifest.webmanifest", "http", mode) is expected

