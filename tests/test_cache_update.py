"""``backends.cache_update``: change a cached value from what it holds now.

On every cache the change sees the current value and ``UNCHANGED`` writes
nothing. On django-redis the read and the write are one ``WATCH``/``MULTI``
transaction: a write landing in between (made here through another client,
from inside ``change``) aborts it, and it starts again from the new value.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches

from django_sessionguard.backends import cache_update

KEY = "sessionguard-tests:cache-update"


@pytest.fixture
def cache() -> Any:
    return caches[django_settings.SESSION_CACHE_ALIAS]


def test_the_change_sees_the_current_value_and_its_result_is_stored(
    cache: Any,
) -> None:
    cache.set(KEY, (1, "a"), 60)
    seen: list[Any] = []

    def change(current: Any) -> Any:
        seen.append(current)
        return (current[0] + 1, "b")

    assert cache_update.update(cache, KEY, change, 60) is True
    assert seen == [(1, "a")]
    assert cache.get(KEY) == (2, "b")


def test_an_absent_key_is_seen_as_none(cache: Any) -> None:
    assert cache_update.update(cache, KEY, lambda current: ("new", current), 60)
    assert cache.get(KEY) == ("new", None)


def test_unchanged_writes_nothing(cache: Any) -> None:
    cache.set(KEY, "kept", 60)
    assert cache_update.update(cache, KEY, lambda _: cache_update.UNCHANGED, 60) is (
        False
    )
    assert cache.get(KEY) == "kept"
    assert not cache_update.update(
        cache, KEY + ":absent", lambda _: cache_update.UNCHANGED, 60
    )
    assert cache.get(KEY + ":absent") is None


def test_the_value_expires_with_the_timeout(cache: Any) -> None:
    cache_update.update(cache, KEY, lambda _: "short", 1)
    if hasattr(cache, "ttl"):  # django-redis
        assert 0 < cache.ttl(KEY) <= 1


def test_async_twin(cache: Any) -> None:
    from asgiref.sync import async_to_sync

    cache.set(KEY, 1, 60)
    assert async_to_sync(cache_update.aupdate)(cache, KEY, lambda n: n + 1, 60)
    assert cache.get(KEY) == 2
    assert not async_to_sync(cache_update.aupdate)(
        cache, KEY, lambda _: cache_update.UNCHANGED, 60
    )
    assert cache.get(KEY) == 2


@pytest.mark.services("redis")
def test_a_write_in_between_aborts_and_the_change_starts_again(cache: Any) -> None:
    cache.set(KEY, {"counter": 1, "stamp": 0}, 60)
    seen: list[Any] = []

    def change(current: Any) -> Any:
        seen.append(current)
        if len(seen) == 1:
            # Another request saves while this change is being computed.
            cache.set(KEY, {"counter": 2, "stamp": 0}, 60)
        return {**current, "stamp": 9}

    assert cache_update.update(cache, KEY, change, 60) is True
    assert seen == [{"counter": 1, "stamp": 0}, {"counter": 2, "stamp": 0}]
    assert cache.get(KEY) == {"counter": 2, "stamp": 9}  # the save survived


@pytest.mark.services("redis")
def test_writes_that_keep_landing_in_between_raise_and_write_nothing(
    cache: Any,
) -> None:
    cache.set(KEY, 0, 60)

    def change(current: Any) -> Any:
        cache.set(KEY, current + 1, 60)  # always someone faster
        return -1

    with pytest.raises(cache_update.ConcurrentWrites):
        cache_update.update(cache, KEY, change, 60)
    assert cache.get(KEY) == cache_update.ATTEMPTS


@pytest.mark.services("redis")
def test_on_redis_it_is_one_transaction(cache: Any, redis_commands: Any) -> None:
    cache.set(KEY, 1, 60)
    with redis_commands() as counts:
        cache_update.update(cache, KEY, lambda n: n + 1, 60)
    assert counts == {"watch": 1, "get": 1, "multi": 1, "set": 1, "exec": 1}
    with redis_commands() as counts:
        cache_update.update(cache, KEY, lambda _: cache_update.UNCHANGED, 60)
    assert counts == {"watch": 1, "get": 1, "unwatch": 1}
