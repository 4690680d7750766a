"""Starts odoo-bin for the HTTP benchmarks (also re-executed by Odoo as its gevent worker).

Works around an environment defect seen on the bench machine: gevent's monkey.patch_all()
loads its plugins through pkg_resources, and the venv's setuptools 65 pkg_resources does not
find zope.interface 8.x (installed as zope_interface-*.dist-info), so Odoo's gevent worker
dies at start and the prefork master respawns it in a loop, burning CPU during the bench.
Here the plugins are resolved without pkg_resources' requirement check; nothing else changes.
"""

import os
import sys


def _patch_gevent_plugins():
    import gevent.events

    def notify_and_call_entry_points(event):
        gevent.events.notify(event)
        for plugin in gevent.events.iter_entry_points(event.ENTRY_POINT_NAME):
            plugin.resolve()(event)

    gevent.events.notify_and_call_entry_points = notify_and_call_entry_points


if __name__ == "__main__":
    if sys.argv[1:2] == ["gevent"]:
        _patch_gevent_plugins()
    odoo_bin = os.path.join(os.environ["BENCH_ODOO_ROOT"], "odoo-bin")
    with open(odoo_bin) as fh:
        code = compile(fh.read(), odoo_bin, "exec")
    # sys.argv[0] stays this file (runpy would change it): Odoo re-runs sys.argv[0] for its
    # gevent worker, which then gets the same fix
    sys.path.insert(0, os.environ["BENCH_ODOO_ROOT"])
    exec(code, {"__name__": "__main__", "__file__": odoo_bin})  # noqa: S102 - Odoo's own launcher
