"""``cached_db`` specifics: the cache is a copy, the database the record.

A cache miss, a malformed entry or a cache outage falls back to the database;
repopulating after a miss never overwrites a newer save; evicting a revoked
session from the cache fails loudly rather than leaving it usable.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches

from django_sessionguard.backends.cached_db import SessionStore
from django_sessionguard.keys import hash_key
from django_sessionguard.models import Session

pytestmark = pytest.mark.django_db

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)


@pytest.fixture(autouse=True)
def cached_db(settings: Any) -> None:
    settings.SESSION_ENGINE = "django_sessionguard.backends.cached_db"


@pytest.fixture
def cache() -> Any:
    return caches[django_settings.SESSION_CACHE_ALIAS]


def saved(**data: Any) -> SessionStore:
    session = SessionStore()
    session.bind_request(ip_address="198.51.100.1", user_agent=CHROME)
    session.update(data)
    session.save()
    return session


def test_cache_entries_are_named_by_the_hash(cache: Any) -> None:
    session = saved(a=1)
    key_hash = hash_key(session.session_key)
    assert session.cache_key == SessionStore.data_cache_key(key_hash)
    assert session.session_key not in session.cache_key
    assert cache.get(SessionStore.data_cache_key(key_hash)) is not None


def test_a_miss_reads_the_database_once_and_repopulates(
    cache: Any, django_assert_num_queries: Any, cache_calls: Any
) -> None:
    key = saved(a=1).session_key
    cache.clear()
    with django_assert_num_queries(1), cache_calls() as calls:
        assert SessionStore(key)["a"] == 1
    assert calls == ["get_many", "add"]
    with django_assert_num_queries(0), cache_calls() as calls:
        assert SessionStore(key)["a"] == 1
    assert calls == ["get_many"]


def test_repopulating_never_overwrites_a_newer_save(
    cache: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = saved(counter=1).session_key
    cache.clear()
    slow = SessionStore(key)
    real_read = SessionStore._get_session_from_db

    def read_then_lose_the_race(self: SessionStore) -> Any:
        row = real_read(self)
        if self is slow:  # the slow request has read counter=1 ...
            newer = SessionStore(key)  # ... when another one saves counter=2
            newer["counter"] = 2
            newer.save()
        return row

    monkeypatch.setattr(SessionStore, "_get_session_from_db", read_then_lose_the_race)
    assert slow["counter"] == 1
    monkeypatch.undo()
    assert SessionStore(key)["counter"] == 2  # the cache kept the newer save
    stored = Session.objects.get(key_hash=hash_key(key))
    assert stored.get_decoded()["counter"] == 2


@pytest.mark.parametrize(
    "entry",
    ["garbage", None, ("not", "a", "pair"), ("not a dict", None), b"\x00\x01"],
)
def test_a_malformed_entry_reads_the_database(cache: Any, entry: Any) -> None:
    key = saved(a=1).session_key
    cache.set(SessionStore.data_cache_key(hash_key(key)), entry)
    assert SessionStore(key)["a"] == 1


def test_a_malformed_activity_entry_is_ignored(cache: Any) -> None:
    key = saved(a=1).session_key
    cache.set(SessionStore.activity_cache_key(hash_key(key)), ("bad", 1, None))
    loaded = SessionStore(key)
    assert loaded["a"] == 1
    assert loaded.activity is not None
    assert loaded.activity.ip_address == "198.51.100.1"


def failing(*args: Any, **kwargs: Any) -> Any:
    raise ConnectionError("cache down")


def test_cache_outage_on_load_reads_the_database(
    cache: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    key = saved(a=1).session_key
    for name in ("get_many", "add"):
        monkeypatch.setattr(cache, name, failing)
    assert SessionStore(key)["a"] == 1
    assert "Session cache unavailable" in caplog.text


def test_cache_outage_on_save_still_writes_the_database(
    cache: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    session = saved(a=1)
    monkeypatch.setattr(cache, "set", failing)
    session["a"] = 2
    session.save()
    assert "Error saving the session to the cache" in caplog.text
    stored = Session.objects.get(key_hash=hash_key(session.session_key))
    assert stored.get_decoded()["a"] == 2


def test_eviction_that_keeps_failing_raises(
    cache: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = saved(a=1)
    key = session.session_key
    attempts: list[Any] = []

    def failing_delete_many(keys: Any) -> None:
        attempts.append(keys)
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "delete_many", failing_delete_many)
    with pytest.raises(ConnectionError):
        session.delete()
    assert len(attempts) == SessionStore.eviction_attempts
    assert attempts[0] == [
        SessionStore.data_cache_key(hash_key(key)),
        SessionStore.activity_cache_key(hash_key(key)),
    ]


def test_eviction_retries_a_transient_failure(
    cache: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = saved(a=1)
    key = session.session_key
    real_delete_many = cache.delete_many
    failures = [ConnectionError("blip")]

    def flaky_delete_many(keys: Any) -> Any:
        if failures:
            raise failures.pop()
        return real_delete_many(keys)

    monkeypatch.setattr(cache, "delete_many", flaky_delete_many)
    session.delete()
    monkeypatch.undo()
    assert SessionStore(key).load() == {}
    assert not Session.objects.filter(key_hash=hash_key(key)).exists()


def test_queryset_delete_evicts_the_cache() -> None:
    key = saved(a=1).session_key
    assert SessionStore(key)["a"] == 1
    Session.objects.filter(key_hash=hash_key(key)).delete()
    assert SessionStore(key).load() == {}
