"""System check ``W080``: the session limit's lock on MySQL/MariaDB.

:func:`~django_sessionguard.limits.bind_login` locks the user's row, then
counts the user's other sessions. That is atomic only if the count sees every
session committed by whoever held the lock before. It does on PostgreSQL, and
on MySQL/MariaDB in ``READ COMMITTED`` (Django's default there): each
statement reads a fresh snapshot. In ``REPEATABLE READ`` (the server's own
default, which a project gets with ``OPTIONS["isolation_level"]`` set to
``"repeatable read"`` or ``None``) a plain ``SELECT`` reads the snapshot of
the transaction's first read. Without an outer transaction that first read is
the count itself, made under the lock, and all is well. Inside one
(``ATOMIC_REQUESTS``) the snapshot was taken before the lock: 20 simultaneous
sign-ins with a limit of 3 leave 20 sessions (``SERIALIZABLE`` deadlocks
them instead). A locking count (``FOR UPDATE``) would read the latest rows,
but in ``REPEATABLE READ`` it keeps a lock on every row it scans (a whole
table when the optimiser scans it) until the request ends, and deadlocks with
the sessions other requests are creating; so the configuration is reported
instead.
"""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Tags, Warning, register

from django_sessionguard.conf import conf

#: Isolation levels in which every statement reads the latest committed rows.
STATEMENT_SNAPSHOT_LEVELS = ("read committed", "read uncommitted")


def isolation_messages(
    alias: str, vendor: str, settings_dict: dict[str, Any]
) -> list[CheckMessage]:
    """W080 for one database: MySQL/MariaDB whose requests run in a transaction
    (``ATOMIC_REQUESTS``) at an isolation level above ``READ COMMITTED``."""
    if vendor != "mysql" or not settings_dict.get("ATOMIC_REQUESTS"):
        return []
    options = settings_dict.get("OPTIONS") or {}
    level = options.get("isolation_level", "read committed")
    if isinstance(level, str) and level.lower() in STATEMENT_SNAPSHOT_LEVELS:
        return []
    named = repr(level) if level else "unset, so the server's default"
    return [
        Warning(
            f"Database {alias!r} runs every request in a transaction "
            f"(ATOMIC_REQUESTS) with isolation_level {named}: "
            "SESSIONGUARD_MAX_SESSIONS is counted from a snapshot taken before "
            "the sign-in's lock, so simultaneous sign-ins can exceed the limit.",
            hint=f'Use DATABASES[{alias!r}]["OPTIONS"]["isolation_level"] = '
            '"read committed" (Django\'s default on MySQL), or turn '
            "ATOMIC_REQUESTS off; see docs/deployment.md.",
            id="django_sessionguard.W080",
        )
    ]


@register(Tags.compatibility)
def check_limit_isolation(**kwargs: Any) -> list[CheckMessage]:
    """The session limit is atomic on the database that records sessions.

    Reads the settings only: no connection is opened.
    """
    from django.db import connections, router

    from django_sessionguard.models import Session

    try:
        if conf.MAX_SESSIONS is None:
            return []
    except ValueError:
        return []  # reported by E006
    alias = router.db_for_write(Session)
    connection = connections[alias]
    return isolation_messages(alias, connection.vendor, connection.settings_dict)
