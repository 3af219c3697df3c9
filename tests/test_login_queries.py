"""What a sign-in costs, with the session limit enforced and events on.

Measured in transactional tests, so the statements are those production
runs (no test-wrapping savepoints). The bar is Django's own ``cached_db``
sign-in on Django 5.2: 9 queries (user SELECT, session-key existence SELECT,
BEGIN/INSERT/COMMIT, last_login UPDATE, BEGIN/UPDATE/COMMIT).

Ours, on SQLite and PostgreSQL alike:

* no limit: 5 - user SELECT, session INSERT, last_login UPDATE, event
  INSERT, session UPDATE (the middleware's save, carrying the user);
* limit enforced, under it: 9 - user SELECT, session INSERT, last_login
  UPDATE, then BEGIN, user row SELECT ... FOR UPDATE, session UPDATE, count
  of the other sessions, event INSERT, COMMIT (the middleware does not write
  again);
* limit enforced, evicting one: 10 - the same plus one DELETE (the evicted
  session's event goes in the same INSERT);
* deny_new refusing: 10 - up to the count as above, ROLLBACK, then the
  discarded session's DELETE and the event INSERT; 12 on ``cached_db``, whose
  DELETE and tombstones share a transaction (BEGIN/COMMIT around the DELETE)
  so that a save racing with the ending cannot leave a cached copy behind.

With timeouts and a "not valid before" cut-off configured, the count reads
only live sessions at no extra cost (its WHERE clause and a CASE saying how
each other session ended), and ending sessions already past a timeout costs
what evicting does: one DELETE (for the dead and the evicted together), their
events in the same INSERT.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import Clock
from tests.lifecycle_support import CACHED_DB, browser, log_in

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in_queries(*, refused: bool = False) -> list[str]:
    client = browser()
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/login/", {"username": "alice", "password": "pw"})
    assert response.status_code == 302
    assert (response["Location"] == "/login/") is refused
    return [query["sql"] for query in queries.captured_queries]


def assert_count(queries: list[str], expected: int) -> None:
    listing = "\n".join(f"  {n}. {sql[:160]}" for n, sql in enumerate(queries, 1))
    assert len(queries) == expected, (
        f"{len(queries)} queries on {connection.vendor}, expected {expected}:\n"
        f"{listing}"
    )


def test_sign_in_without_a_limit(engine: str, user: Any) -> None:
    assert_count(sign_in_queries(), 5)


def test_sign_in_with_the_limit_enforced(engine: str, user: Any, settings: Any) -> None:
    settings.SESSIONGUARD_MAX_SESSIONS = 3
    log_in(browser())  # another session exists and is counted
    queries = sign_in_queries()
    assert_count(queries, 9)
    if connection.vendor == "postgresql":
        assert any(sql.endswith("FOR UPDATE") for sql in queries)


def test_sign_in_evicting_the_oldest(engine: str, user: Any, settings: Any) -> None:
    settings.SESSIONGUARD_MAX_SESSIONS = 1
    log_in(browser())
    queries = sign_in_queries()
    assert_count(queries, 10)
    assert sum(sql.startswith("DELETE") for sql in queries) == 1


def test_sign_in_with_the_limit_and_every_deadline(
    engine: str, user: Any, settings: Any
) -> None:
    settings.SESSIONGUARD_MAX_SESSIONS = 3
    settings.SESSIONGUARD_IDLE_TIMEOUT = 600
    settings.SESSIONGUARD_ABSOLUTE_TIMEOUT = 3600
    settings.SESSIONGUARD_NOT_VALID_BEFORE = "2020-01-01T00:00:00Z"
    log_in(browser())
    assert_count(sign_in_queries(), 9)


def test_sign_in_ending_sessions_past_the_idle_timeout(
    engine: str, user: Any, settings: Any, clock: Clock
) -> None:
    settings.SESSIONGUARD_MAX_SESSIONS = 1
    settings.SESSIONGUARD_LIMIT_POLICY = "deny_new"
    settings.SESSIONGUARD_IDLE_TIMEOUT = 600
    log_in(browser())
    clock.advance(601)  # the only other session is dead: no refusal, no eviction
    queries = sign_in_queries()
    assert_count(queries, 10)
    assert sum(sql.startswith("DELETE") for sql in queries) == 1


def test_sign_in_refused(engine: str, user: Any, settings: Any) -> None:
    settings.SESSIONGUARD_MAX_SESSIONS = 1
    settings.SESSIONGUARD_LIMIT_POLICY = "deny_new"
    log_in(browser())
    assert_count(sign_in_queries(refused=True), 12 if engine == CACHED_DB else 10)


def test_sign_in_cache_calls_with_the_limit_enforced(
    settings: Any,
    user: Any,
    cache_calls: Callable[[], AbstractContextManager[list[str]]],
) -> None:
    """cached_db: the new session is cached when created and once more when
    bound to the user under the lock; the middleware adds nothing."""
    settings.SESSION_ENGINE = CACHED_DB
    settings.SESSIONGUARD_MAX_SESSIONS = 3
    client = browser()
    with cache_calls() as calls:
        log_in(client)
    assert calls == ["set", "set"]
