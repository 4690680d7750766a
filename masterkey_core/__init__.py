"""Framework-free security core of auth_masterkey.

Nothing in this package imports Odoo: the addon's models and controllers call it, and the
tests in ``tests_core/`` run it on a machine without Odoo. Every public function either
returns a result or raises a subclass of :class:`errors.MasterKeyError`.
"""

PROTOCOL_VERSION = 1
