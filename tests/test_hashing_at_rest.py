"""The cookie value is a bearer credential: it is stored nowhere, and nothing stored
works as a cookie.

A test signs in, uses the session, then reads the session table, the audit
trail, the cache (every Redis key and value on the Redis leg, the local-memory
store otherwise) and the log records, looking for the cookie value.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.db import connection
from django.test import Client

from django_sessionguard.keys import hash_key, is_well_formed, reference_for
from django_sessionguard.models import Session
from tests.conftest import redis_url, uses_redis

pytestmark = pytest.mark.django_db

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)


def browser() -> Client:
    return Client(REMOTE_ADDR="198.51.100.23", HTTP_USER_AGENT=CHROME)


def use_a_session(client: Client, clock: Any) -> str:
    """Everything a session goes through that writes: returns the cookie value."""
    client.get("/write/?value=1")  # anonymous session
    response = client.post("/login/", {"username": "alice", "password": "pw"})
    assert response.status_code == 302
    client.get("/write/?value=2")  # data save
    clock.advance(61)
    client.get("/read/")  # activity touch
    client.get("/read/", REMOTE_ADDR="203.0.113.50")  # IP change: an event
    assert client.get("/read/").json()["user"] == "alice"
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


def table_rows(table: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
        return list(cursor.fetchall())


def as_text(value: Any) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("latin-1")
    return str(value)


def redis_items() -> Iterator[tuple[bytes, bytes]]:
    """Every key of the test Redis database with its serialized value (``DUMP``)."""
    import redis

    client = redis.Redis.from_url(redis_url())
    try:
        for key in client.scan_iter(count=1000):
            dumped = client.dump(key)
            yield key, dumped or b""
    finally:
        client.close()


def local_memory_items() -> Iterator[tuple[bytes, bytes]]:
    """Every entry of the local-memory session cache (keys and pickled values)."""
    store = caches[django_settings.SESSION_CACHE_ALIAS]._cache  # type: ignore[attr-defined]
    for key, value in list(store.items()):
        yield key.encode(), value


def cache_items() -> list[tuple[bytes, bytes]]:
    return list(redis_items() if uses_redis() else local_memory_items())


@pytest.fixture
def logged_in(engine: str, user: Any, clock: Any) -> tuple[Client, str]:
    client = browser()
    return client, use_a_session(client, clock)


def test_cookie_is_not_in_the_session_table(logged_in: tuple[Client, str]) -> None:
    _, key = logged_in
    rows = table_rows(Session._meta.db_table)
    assert len(rows) == 1
    for row in rows:
        for value in row:
            assert key not in as_text(value)
    stored = Session.objects.get()
    assert stored.key_hash == hash_key(key)
    assert key not in repr(stored.get_decoded())


def test_cookie_is_not_in_the_audit_trail(logged_in: tuple[Client, str]) -> None:
    _, key = logged_in
    rows = table_rows("sessionguard_event")
    assert rows, "signing in and changing IP should have recorded events"
    for row in rows:
        for value in row:
            assert key not in as_text(value)


def test_cookie_is_not_in_the_cache(logged_in: tuple[Client, str]) -> None:
    _, key = logged_in
    items = cache_items()
    for name, value in items:
        assert key.encode() not in name
        assert key.encode() not in value
    if django_settings.SESSION_ENGINE.endswith("cached_db"):
        # The scan is not vacuous: the session is in the cache, under its hash.
        assert any(hash_key(key).encode() in name for name, _ in items)


def test_cookie_is_not_logged(
    engine: str, user: Any, clock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key = use_a_session(browser(), clock)
    assert caplog.records, "events are logged"
    for record in caplog.records:
        assert key not in record.getMessage()
        assert key not in repr(record.__dict__)


def test_nothing_stored_works_as_a_cookie(logged_in: tuple[Client, str]) -> None:
    client, key = logged_in
    stored = Session.objects.get()
    candidates = {stored.reference, stored.key_hash}
    for row in table_rows(Session._meta.db_table):
        candidates.update(as_text(value) for value in row if value is not None)
    for name, _ in cache_items():
        candidates.update(name.decode("latin-1").split(":"))
    candidates.discard(key)
    for candidate in sorted(candidates):
        thief = browser()
        thief.cookies[django_settings.SESSION_COOKIE_NAME] = candidate
        assert thief.get("/read/").json()["user"] is None, candidate
    assert client.get("/read/").json()["user"] == "alice"  # the real cookie works


def test_reference_cannot_be_used_as_a_cookie(logged_in: tuple[Client, str]) -> None:
    _, key = logged_in
    reference = reference_for(hash_key(key))
    assert Session.objects.get().reference == reference
    assert is_well_formed(reference)  # it has a key's shape, and still fails
    thief = browser()
    thief.cookies[django_settings.SESSION_COOKIE_NAME] = reference
    response = thief.get("/read/")
    assert response.status_code == 200
    assert response.json() == {"user": None, "counter": None}
    assert Session.objects.count() == 1
