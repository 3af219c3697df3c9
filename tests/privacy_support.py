"""Shared by the ``test_privacy_*`` modules: where a client's data could end up.

Each function returns text to search for an IP address or a User-Agent: every
column of every session and event row (session data decoded), every entry of
every configured cache (Redis itself on the Redis leg, keys and values), and
captured log records and SQL statements.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from contextlib import ExitStack
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import connections

from django_sessionguard.models import Session, SessionEvent
from tests.conftest import redis_url, uses_redis

#: A client whose address and browser are easy to find anywhere.
IP = "198.51.100.77"
IP_NETWORK = "198.51.100.0"
#: Nothing else in the suite sends this User-Agent; "Firefox" and "Linux" are
#: what parsing it would store.
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0 "
    "PrivacyProbe/7.7"
)
DERIVED = ("Firefox", "Linux")


def table_text() -> str:
    """Every column of every session and event row, session data decoded."""
    parts: list[str] = []
    for session in Session.objects.all():
        parts.append(repr(Session.objects.filter(pk=session.pk).values().get()))
        parts.append(repr(session.get_decoded()))
    parts.extend(repr(row) for row in SessionEvent.objects.values())
    return "\n".join(parts)


def cache_blobs() -> list[bytes]:
    """Every key and raw (pickled) value held by every configured cache."""
    blobs: list[bytes] = []
    if uses_redis():
        import redis

        client = redis.Redis.from_url(redis_url())
        try:
            for config in settings.CACHES.values():
                for key in client.scan_iter(match=f"{config['KEY_PREFIX']}:*"):
                    blobs.append(key)
                    if client.type(key) == b"string":
                        blobs.append(client.get(key) or b"")
        finally:
            client.close()
        return blobs
    for alias in settings.CACHES:
        store: dict[str, Any] = caches[alias]._cache  # type: ignore[attr-defined]
        for key, value in list(store.items()):
            blobs.append(key.encode())
            blobs.append(value if isinstance(value, bytes) else repr(value).encode())
    return blobs


def cache_text() -> str:
    return "\n".join(blob.decode("latin-1") for blob in cache_blobs())


def log_text(records: Iterable[logging.LogRecord]) -> str:
    """Messages, arguments and extra fields of log records."""
    return "\n".join(f"{record.getMessage()} {record.__dict__!r}" for record in records)


class SQLRecorder:
    """Every SQL statement run in the block, with its parameters.

    Uses Django's ``execute_wrapper`` hook, so it spans several requests
    (``CaptureQueriesContext`` is reset by each request's ``request_started``).
    """

    def __init__(self) -> None:
        self.statements: list[str] = []
        self._stack = ExitStack()

    def __call__(
        self, execute: Any, sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        self.statements.append(f"{sql} {params!r}")
        return execute(sql, params, many, context)

    def __enter__(self) -> SQLRecorder:
        for connection in connections.all():
            self._stack.enter_context(connection.execute_wrapper(self))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    @property
    def text(self) -> str:
        return "\n".join(self.statements)
