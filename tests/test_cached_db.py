"""``cached_db`` specifics: the cache is a copy, the database the record.

A cache miss, a malformed entry or a cache outage falls back to the database;
repopulating after a miss never overwrites a newer save; ending a session
deletes the row and writes tombstones in one transaction and fails loudly
rather than leaving it usable (unless Django's own session check refuses it
for good); a copy that outlived its row is ended by its next touch. The same
behaviours against a real Redis that is killed, restarted and paused are
in ``tests/faults/``.
"""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings
from django.contrib.auth.hashers import make_password
from django.core.cache import caches

from django_sessionguard.backends.cached_db import TOMBSTONE, SessionStore
from django_sessionguard.faults import SessionCacheUnavailable
from django_sessionguard.keys import hash_key
from django_sessionguard.models import Session
from tests.conftest import Clock, empty_cache
from tests.lifecycle_support import browser, cookie, log_in, whoami

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
    empty_cache(cache)
    with django_assert_num_queries(1), cache_calls() as calls:
        assert SessionStore(key)["a"] == 1
    assert calls == ["get", "add"]
    with django_assert_num_queries(0), cache_calls() as calls:
        assert SessionStore(key)["a"] == 1
    assert calls == ["get"]


def test_repopulating_never_overwrites_a_newer_save(
    cache: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = saved(counter=1).session_key
    empty_cache(cache)
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


@pytest.mark.parametrize("activity", [None, ("bad", 1, None), (1.0, 2, "ua"), "x"])
def test_an_entry_without_usable_activity_reads_the_row_until_touched(
    cache: Any, clock: Any, activity: Any, django_assert_num_queries: Any
) -> None:
    key = saved(a=1).session_key
    data_key = SessionStore.data_cache_key(hash_key(key))
    cache.set(data_key, ({"a": 1}, activity))
    with django_assert_num_queries(1):
        loaded = SessionStore(key)
        loaded.bind_request(ip_address="198.51.100.1", user_agent=CHROME)
        assert loaded["a"] == 1
    # Timeouts and activity tracking work from the row's activity ...
    assert loaded.activity is not None
    assert loaded.activity.ip_address == "198.51.100.1"
    clock.advance(61)
    assert loaded.touch() is True
    # ... and the touch repaired the entry: the next load is a cache hit.
    with django_assert_num_queries(0):
        assert SessionStore(key)["a"] == 1
    assert cache.get(data_key)[1][1] == "198.51.100.1"


def failing(*args: Any, **kwargs: Any) -> Any:
    raise ConnectionError("cache down")


def test_cache_outage_on_load_reads_the_database(
    cache: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    key = saved(a=1).session_key
    for name in ("get", "add"):
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
    assert "Session cache unavailable (write" in caplog.text
    assert session.cache_behind
    stored = Session.objects.get(key_hash=hash_key(session.session_key))
    assert stored.get_decoded()["a"] == 2


def test_eviction_that_keeps_failing_raises(
    cache: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = saved(a=1)
    key = session.session_key
    attempts: list[Any] = []

    def failing_set_many(entries: Any, timeout: Any = None) -> None:
        attempts.append(entries)
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "set_many", failing_set_many)
    with pytest.raises(SessionCacheUnavailable):
        session.delete()
    assert len(attempts) == SessionStore.eviction_attempts
    assert attempts[0] == {SessionStore.data_cache_key(hash_key(key)): TOMBSTONE}
    # All or nothing: the row is still there, the session still works.
    monkeypatch.undo()
    assert Session.objects.filter(key_hash=hash_key(key)).exists()
    assert SessionStore(key)["a"] == 1


def test_eviction_retries_a_transient_failure(
    cache: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = saved(a=1)
    key = session.session_key
    real_set_many = cache.set_many
    failures = [ConnectionError("blip")]

    def flaky_set_many(entries: Any, timeout: Any = None) -> Any:
        if failures:
            raise failures.pop()
        return real_set_many(entries, timeout)

    monkeypatch.setattr(cache, "set_many", flaky_set_many)
    session.delete()
    monkeypatch.undo()
    assert SessionStore(key).load() == {}
    assert not Session.objects.filter(key_hash=hash_key(key)).exists()


def test_queryset_delete_evicts_the_cache() -> None:
    key = saved(a=1).session_key
    assert SessionStore(key)["a"] == 1
    Session.objects.filter(key_hash=hash_key(key)).delete()
    assert SessionStore(key).load() == {}


# -- tombstones -------------------------------------------------------------------


def test_ending_leaves_tombstones_that_a_late_add_cannot_replace(cache: Any) -> None:
    session = saved(a=1)
    key_hash = hash_key(session.session_key)
    data_key = SessionStore.data_cache_key(key_hash)
    session.delete()
    assert cache.get(data_key) == TOMBSTONE
    # What a request that read the row just before the ending would do next.
    assert cache.add(data_key, ({"a": 1}, None)) is False
    assert SessionStore(session.session_key).load() == {}


def test_a_tombstone_reads_the_database_and_is_not_repopulated(
    cache: Any, cache_calls: Any, django_assert_num_queries: Any
) -> None:
    # An ending whose transaction rolled back after writing its tombstone.
    key = saved(a=1).session_key
    data_key = SessionStore.data_cache_key(hash_key(key))
    cache.set(data_key, TOMBSTONE)
    with django_assert_num_queries(1), cache_calls() as calls:
        assert SessionStore(key)["a"] == 1
    assert calls == ["get"]
    assert cache.get(data_key) == TOMBSTONE


def test_exists_is_false_for_a_tombstone() -> None:
    session = saved(a=1)
    key = session.session_key
    assert SessionStore().exists(key) is True
    session.delete()
    assert SessionStore().exists(key) is False


def test_a_save_that_lost_its_row_puts_the_tombstone_back(cache: Any) -> None:
    from django.contrib.sessions.backends.base import UpdateError

    session = saved(a=1)
    key = session.session_key
    loaded = SessionStore(key)
    assert loaded["a"] == 1
    session.delete()  # ended while `loaded` was in flight
    loaded["a"] = 2
    with pytest.raises(UpdateError):
        loaded.save()  # cache first (over the tombstone), then no row to update
    assert cache.get(SessionStore.data_cache_key(hash_key(key))) == TOMBSTONE
    assert SessionStore(key).load() == {}


def test_a_cached_copy_that_outlived_its_row_is_ended_by_its_touch(
    user: Any, clock: Clock, cache: Any
) -> None:
    client = browser()
    log_in(client)
    key = cookie(client)
    # The row alone goes (what a save racing with an ending could once leave
    # behind): the cached copy is all that is left of the session.
    Session.objects.filter(key_hash=hash_key(key)).delete_rows()
    clock.advance(61)  # activity is due: this request touches the row

    assert whoami(client) == "alice"  # served from the copy, one last time
    # The touch found no row and wrote a tombstone over the copy.
    assert cache.get(SessionStore.data_cache_key(hash_key(key))) == TOMBSTONE
    assert whoami(client) is None


def test_an_async_touch_that_finds_no_row_ends_the_cached_copy(cache: Any) -> None:
    key = saved(a=1).session_key
    Session.objects.filter(key_hash=hash_key(key)).delete_rows()
    store = SessionStore(key)
    store.bind_request(ip_address="198.51.100.1", user_agent=CHROME)
    assert store["a"] == 1  # from the cache

    assert async_to_sync(store.atouch)(force=True) is False
    assert cache.get(SessionStore.data_cache_key(hash_key(key))) == TOMBSTONE
    assert SessionStore(key).load() == {}


# -- a session Django's own check refuses, with the cache down ---------------------


@pytest.mark.parametrize("path", ["/read/", "/async-read/"])
def test_a_session_refused_by_djangos_check_ends_without_the_cache(
    user: Any,
    cache: Any,
    django_user_model: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    path: str,
) -> None:
    client = browser()
    log_in(client)
    key = cookie(client)
    # A password changed without save() (no signal): the session stays until
    # Django's session check flushes it on its next request.
    django_user_model.objects.filter(pk=user.pk).update(
        password=make_password("a new password 1")
    )
    monkeypatch.setattr(cache, "set_many", failing)

    response = client.get(path)

    # The tombstone could not be written, yet the session is refused for good
    # (every copy carries the old password's hash): anonymous, not a 503.
    assert response.status_code == 200
    assert response.json()["user"] is None
    assert not Session.objects.filter(key_hash=hash_key(key)).exists()
    assert "ended in the database only" in caplog.text


def test_a_session_django_still_accepts_is_not_ended_without_the_cache(
    user: Any, cache: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = browser()
    log_in(client)
    key = cookie(client)
    monkeypatch.setattr(cache, "set_many", failing)
    with pytest.raises(SessionCacheUnavailable):
        SessionStore(key).delete()
    monkeypatch.undo()
    assert Session.objects.filter(key_hash=hash_key(key)).exists()
    assert whoami(client) == "alice"


# -- one failed call per request --------------------------------------------------


def test_after_one_failed_cache_call_a_store_makes_no_more(
    cache: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = saved(a=1)
    calls: list[str] = []

    def hung(name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            raise TimeoutError("Timeout reading from socket")

        return call

    for name in ("get", "add", "set", "set_many", "delete", "delete_many"):
        monkeypatch.setattr(cache, name, hung(name))
    store = SessionStore(session.session_key)
    store.bind_request(ip_address="198.51.100.1", user_agent=CHROME)
    store["a"] = 2
    store.save()
    store.touch(force=True)
    assert calls == ["get"]  # one timeout, then the database only
    assert store.cache_behind
    stored = Session.objects.get(key_hash=hash_key(session.session_key))
    assert stored.get_decoded()["a"] == 2


def test_a_timeout_is_not_retried_when_ending(
    cache: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = saved(a=1)
    attempts: list[Any] = []

    def hung(entries: Any, timeout: Any = None) -> None:
        attempts.append(entries)
        raise TimeoutError("Timeout reading from socket")

    monkeypatch.setattr(cache, "set_many", hung)
    with pytest.raises(SessionCacheUnavailable):
        session.delete()
    assert len(attempts) == 1


def test_a_new_key_at_sign_in_survives_a_cache_outage(
    cache: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    session = saved(a=1)
    old_key = session.session_key
    monkeypatch.setattr(cache, "set_many", failing)
    monkeypatch.setattr(cache, "set", failing)
    session.cycle_key()
    assert session.session_key != old_key
    assert session["a"] == 1
    # The old key could not be sealed, so its row stays: listed and revocable.
    assert Session.objects.filter(key_hash=hash_key(old_key)).exists()
    assert Session.objects.filter(key_hash=hash_key(session.session_key)).exists()
    assert "previous key" in caplog.text


# -- a client that saw a write miss the cache ------------------------------------


def test_a_distrusted_copy_is_dropped_and_the_row_read(cache: Any) -> None:
    key = saved(counter=1).session_key
    # The row moved on while the cache was away; the cache kept its old copy.
    newer = SessionStore(key)
    newer["counter"] = 2
    newer.save()
    cache.set(
        SessionStore.data_cache_key(hash_key(key)),
        ({"counter": 1}, (time.time(), "198.51.100.1", CHROME)),
    )
    assert SessionStore(key)["counter"] == 1  # what anyone else would be served

    store = SessionStore(key)
    store.distrust_cache()
    assert store["counter"] == 2
    assert store.cache_repaired
    assert SessionStore(key)["counter"] == 2  # the cache holds the row's copy now


def test_a_distrusted_copy_is_not_repaired_while_the_cache_is_down(
    cache: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = saved(counter=1).session_key
    monkeypatch.setattr(cache, "get", failing)
    store = SessionStore(key)
    store.distrust_cache()
    assert store["counter"] == 1
    assert not store.cache_repaired


# -- a touch changes the entry as it is then -------------------------------------


def touch_with(monkeypatch: pytest.MonkeyPatch, meanwhile: Any) -> None:
    """Run ``meanwhile`` once, inside the next touch, between its read and write."""
    real_restamp = SessionStore._restamp
    pending = [meanwhile]

    def restamp(self: SessionStore, activity: Any) -> Any:
        change = real_restamp(self, activity)

        def racing_change(current: Any) -> Any:
            if pending:
                pending.pop()()
            return change(current)

        return racing_change

    monkeypatch.setattr(SessionStore, "_restamp", restamp)


@pytest.mark.services("redis")
def test_a_save_landing_inside_a_touch_survives(
    cache: Any, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = saved(counter=1).session_key
    slow = SessionStore(key)
    slow.bind_request(ip_address="198.51.100.1", user_agent=CHROME)
    assert slow["counter"] == 1

    def concurrent_save() -> None:
        other = SessionStore(key)
        other["counter"] = 2
        other.save()

    touch_with(monkeypatch, concurrent_save)
    clock.advance(61)
    assert slow.touch() is True
    data, activity = cache.get(SessionStore.data_cache_key(hash_key(key)))
    assert data["counter"] == 2
    assert activity[0] == pytest.approx(time.time(), abs=5)


def test_an_ending_landing_inside_a_touch_stays_ended(
    cache: Any, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = saved(a=1)
    key = session.session_key
    slow = SessionStore(key)
    slow.bind_request(ip_address="198.51.100.1", user_agent=CHROME)
    assert slow["a"] == 1

    touch_with(monkeypatch, lambda: SessionStore(key).delete())
    clock.advance(61)
    assert slow.touch() is False
    assert cache.get(SessionStore.data_cache_key(hash_key(key))) == TOMBSTONE
    assert not Session.objects.filter(key_hash=hash_key(key)).exists()
    assert SessionStore(key).load() == {}


def test_a_touch_never_writes_over_a_tombstone_or_a_miss(
    cache: Any, clock: Any
) -> None:
    session = saved(a=1)
    key = session.session_key
    data_key = SessionStore.data_cache_key(hash_key(key))
    loaded = SessionStore(key)
    loaded.bind_request(ip_address="198.51.100.1", user_agent=CHROME)
    assert loaded["a"] == 1
    clock.advance(61)
    cache.delete(data_key)  # evicted by Redis meanwhile
    assert loaded.touch() is True  # the row is updated ...
    assert cache.get(data_key) is None  # ... and the next load caches it
    cache.set(data_key, TOMBSTONE)
    clock.advance(61)
    assert loaded.touch() is True
    assert cache.get(data_key) == TOMBSTONE


def test_a_touch_keeps_a_newer_cached_activity(cache: Any, clock: Any) -> None:
    key = saved(a=1).session_key
    data_key = SessionStore.data_cache_key(hash_key(key))
    slow = SessionStore(key)
    slow.bind_request(ip_address="198.51.100.1", user_agent=CHROME)
    assert slow["a"] == 1
    clock.advance(70)
    fast = SessionStore(key)
    fast.bind_request(ip_address="198.51.100.9", user_agent=CHROME)
    assert fast["a"] == 1
    assert fast.touch() is True
    newer = cache.get(data_key)[1]
    clock.advance(-9)  # the slow request's clock reading was taken earlier
    slow.touch(force=True)
    assert cache.get(data_key)[1] == newer


# -- caches that serialize with JSON (django-redis JSONSerializer, msgpack) ------


def test_an_entry_stored_as_lists_is_served_from_the_cache(
    cache: Any, clock: Any, django_assert_num_queries: Any
) -> None:
    """A JSON or msgpack serializer gives tuples back as lists."""
    key = saved(a=1).session_key
    data_key = SessionStore.data_cache_key(hash_key(key))
    data, activity = cache.get(data_key)
    cache.set(data_key, [data, list(activity)])
    with django_assert_num_queries(0):
        loaded = SessionStore(key)
        loaded.bind_request(ip_address="198.51.100.1", user_agent=CHROME)
        assert loaded["a"] == 1
    assert loaded.activity is not None
    clock.advance(61)
    assert loaded.touch() is True  # the touch changes a list entry too
    assert cache.get(data_key)[1][0] == pytest.approx(time.time(), abs=5)


@pytest.mark.services("redis")
def test_django_redis_json_serializer(settings: Any, client: Any) -> None:
    from tests.conftest import redis_url

    settings.CACHES = {
        **settings.CACHES,
        "json": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": redis_url(),
            "KEY_PREFIX": f"json-{os.getpid()}",
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SERIALIZER": "django_redis.serializers.json.JSONSerializer",
            },
        },
    }
    settings.SESSION_CACHE_ALIAS = "json"
    try:
        key = saved(a=1).session_key
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert SessionStore(key)["a"] == 1
        assert len(queries) == 0  # a cache hit, not a read of the row
    finally:
        empty_cache(caches["json"])
