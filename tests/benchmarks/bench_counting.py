"""Exact per-request counts: SQL statements, writes among them, Redis commands."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import redis.connection
from django.db import connection
from django.test.utils import CaptureQueriesContext

WRITE_VERBS = ("INSERT", "UPDATE", "DELETE")
#: Transaction control Django logs too; counted apart from the statements.
TRANSACTION_VERBS = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def _verb(sql: str) -> str:
    return sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""


@dataclass
class Counts:
    """What one request cost, statement by statement."""

    sql: list[str] = field(default_factory=list)
    redis: list[str] = field(default_factory=list)
    redis_round_trips: int = 0

    @property
    def sql_count(self) -> int:
        """Statements other than transaction control."""
        return len(self.sql) - self.transaction_count

    @property
    def transaction_count(self) -> int:
        return sum(1 for sql in self.sql if _verb(sql) in TRANSACTION_VERBS)

    @property
    def writes(self) -> int:
        return sum(1 for sql in self.sql if _verb(sql) in WRITE_VERBS)

    def sql_summary_cell(self) -> str:
        """``"4"``, or ``"2 +2tx"`` when there were BEGIN/COMMIT statements too."""
        tx = self.transaction_count
        return f"{self.sql_count} +{tx}tx" if tx else str(self.sql_count)

    @property
    def redis_count(self) -> int:
        return len(self.redis)

    def redis_summary(self) -> str:
        """``"1 (MGET)"``, ``"2 (GET, SET)"``, ``"0"``; with the round trips when
        a pipeline sent several commands at once: ``"4 (MULTI, 2xSET, EXEC; 1
        round trip)"``."""
        if not self.redis:
            return "0"
        names = Counter(self.redis)
        parts = [f"{n}x{name}" if n > 1 else name for name, n in names.items()]
        trips = ""
        if self.redis_round_trips != len(self.redis):
            plural = "s" if self.redis_round_trips != 1 else ""
            trips = f"; {self.redis_round_trips} round trip{plural}"
        return f"{len(self.redis)} ({', '.join(parts)}{trips})"

    def sql_summary(self) -> list[str]:
        """One line per statement, shortened, for the detailed listing."""
        return [" ".join(sql.split())[:110] for sql in self.sql]

    def to_dict(self) -> dict[str, Any]:
        return {
            "sql": self.sql_count,
            "transaction": self.transaction_count,
            "sql_cell": self.sql_summary_cell(),
            "writes": self.writes,
            "redis": self.redis_count,
            "redis_round_trips": self.redis_round_trips,
            "redis_commands": self.redis_summary(),
        }


def _serializer_classes() -> list[type]:
    names = ("PythonRespSerializer", "HiredisRespSerializer")
    return [getattr(redis.connection, n) for n in names if hasattr(redis.connection, n)]


@contextmanager
def count_redis(counts: Counts) -> Iterator[None]:
    """Record every command redis-py packs, and every packet it sends, meanwhile.

    Counted in this process, so other clients of the same Redis server (a
    test run, say) cannot disturb the numbers, which ``INFO commandstats``
    would not guarantee.
    """
    patched: list[tuple[type, str, Any]] = []

    for cls in _serializer_classes():
        original_pack = cls.pack

        def pack(self: Any, *args: Any, _original: Any = original_pack) -> Any:
            name = args[0]
            if isinstance(name, bytes):
                name = name.decode()
            counts.redis.append(str(name).upper())
            return _original(self, *args)

        patched.append((cls, "pack", original_pack))
        cls.pack = pack  # type: ignore[method-assign]

    conn_cls = redis.connection.AbstractConnection
    original_send = conn_cls.send_packed_command

    def send_packed_command(self: Any, *args: Any, **kwargs: Any) -> Any:
        counts.redis_round_trips += 1
        return original_send(self, *args, **kwargs)

    patched.append((conn_cls, "send_packed_command", original_send))
    conn_cls.send_packed_command = send_packed_command  # type: ignore[method-assign]
    try:
        yield
    finally:
        for cls, name, original in reversed(patched):
            setattr(cls, name, original)


@contextmanager
def count_everything() -> Iterator[Counts]:
    counts = Counts()
    with CaptureQueriesContext(connection) as queries, count_redis(counts):
        yield counts
    counts.sql = [query["sql"] for query in queries.captured_queries]
