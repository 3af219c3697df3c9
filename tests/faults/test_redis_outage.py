"""Redis killed, restarted and hung mid-request: no 500, nobody signed out.

Reads fall back to the database, writes (saves and activity) still reach it,
a hung Redis costs a request one socket timeout, and the cache heals by
itself when Redis is back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from django_sessionguard.events import EventKind
from django_sessionguard.models import Session, SessionEvent
from tests.faults.conftest import (
    FAULT_TIMEOUT,
    cached,
    cookie,
    log_in,
    reminder,
    stored,
    warnings_logged,
)
from tests.faults.redis_server import RedisServer
from tests.faults.views import during_next_request

pytestmark = [pytest.mark.faults, pytest.mark.services("redis"), pytest.mark.django_db]

#: A request that waits for Redis at most once: one timeout, plus slack for a
#: loaded machine. Without a socket timeout it would never return.
ONE_TIMEOUT = FAULT_TIMEOUT + 3.0

Browser = Callable[..., Any]


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_redis_killed_mid_request_the_write_reaches_the_database(
    redis: RedisServer, browser: Browser, user: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client = browser()
    log_in(client)
    assert client.get("/faults/write/?value=1").json()["counter"] == 1

    during_next_request(redis.kill)  # loaded from Redis, then Redis dies
    response = client.get("/faults/write/?value=2")

    assert response.status_code == 200
    assert response.json() == {"user": "alice", "counter": 2}
    assert stored(client)["counter"] == 2
    assert reminder(client)  # told to have the cached copy checked
    assert warnings_logged(caplog, "Session cache unavailable") == 1

    # While Redis is down every request reads and writes the database.
    for value in (3, 4):
        response = client.get(f"/faults/write/?value={value}")
        assert response.status_code == 200
        assert response.json() == {"user": "alice", "counter": value}
        assert client.get("/read/").json() == {"user": "alice", "counter": value}
    assert stored(client)["counter"] == 4


def test_the_cache_heals_when_redis_comes_back(
    redis: RedisServer, browser: Browser, user: Any
) -> None:
    client = browser()
    log_in(client)
    redis.kill()
    response = client.get("/faults/write/?value=7")
    assert response.json() == {"user": "alice", "counter": 7}
    assert reminder(client)

    redis.restart()  # empty: no persistence
    assert client.get("/read/").json() == {"user": "alice", "counter": 7}

    entry = cached(client)
    assert isinstance(entry, tuple)
    assert entry[0]["counter"] == 7  # repopulated from the row
    assert not reminder(client)  # checked: the reminder is dropped
    assert client.get("/faults/write/?value=8").status_code == 200
    assert cached(client)[0]["counter"] == 8


def test_a_restart_between_requests_costs_nothing(
    redis: RedisServer, browser: Browser, user: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client = browser()
    log_in(client)
    assert client.get("/faults/write/?value=1").status_code == 200
    redis.restart()
    # The pool notices the closed connection when it hands it out and
    # reconnects: no failed call, a cache miss served from the row.
    assert client.get("/read/").json() == {"user": "alice", "counter": 1}
    assert warnings_logged(caplog, "Session cache unavailable") == 0
    assert cached(client)[0]["counter"] == 1


def test_activity_reaches_the_database_while_redis_is_down(
    redis: RedisServer, browser: Browser, user: Any, settings: Any
) -> None:
    settings.SESSIONGUARD_ACTIVITY_INTERVAL = 0  # every request is activity
    client = browser()
    log_in(client)
    before = Session.objects.get().last_activity

    during_next_request(redis.kill)
    assert client.get("/faults/read/").json()["user"] == "alice"

    assert Session.objects.get().last_activity > before
    assert reminder(client)


def test_a_hung_redis_costs_a_request_one_socket_timeout(
    redis: RedisServer, browser: Browser, user: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client = browser()
    log_in(client)
    assert client.get("/faults/write/?value=1").status_code == 200

    during_next_request(redis.pause)  # hangs after the session was loaded
    response, elapsed = timed(lambda: client.get("/faults/write/?value=2"))
    assert response.status_code == 200
    assert response.json() == {"user": "alice", "counter": 2}
    assert elapsed < ONE_TIMEOUT
    assert stored(client)["counter"] == 2

    # Still hung: the load waits one timeout, then the row answers. The
    # store makes no further call to a cache it has seen fail.
    caplog.clear()
    response, elapsed = timed(lambda: client.get("/read/"))
    assert response.status_code == 200
    assert response.json() == {"user": "alice", "counter": 2}
    assert FAULT_TIMEOUT * 0.9 < elapsed < ONE_TIMEOUT
    assert warnings_logged(caplog, "Session cache unavailable") == 1
    redis.resume()


def test_a_copy_redis_kept_through_a_hang_does_not_undo_a_write(
    redis: RedisServer, browser: Browser, user: Any
) -> None:
    client = browser()
    log_in(client)
    assert client.get("/faults/write/?value=1").status_code == 200

    with redis.paused():
        assert client.get("/faults/write/?value=2").status_code == 200
        assert stored(client)["counter"] == 2
    # Redis is back with what it held before the hang.
    assert cached(client)[0]["counter"] == 1
    assert reminder(client)

    assert client.get("/read/").json() == {"user": "alice", "counter": 2}
    assert cached(client)[0]["counter"] == 2  # the old copy was replaced
    assert not reminder(client)
    # And a write from here builds on the row, not on the old copy.
    assert client.get("/faults/write/?value=3").status_code == 200
    assert stored(client)["counter"] == 3
    assert client.get("/read/").json() == {"user": "alice", "counter": 3}


def test_an_old_activity_time_kept_through_a_hang_does_not_sign_anyone_out(
    redis: RedisServer,
    browser: Browser,
    user: Any,
    settings: Any,
    clock: Any,
) -> None:
    settings.SESSIONGUARD_IDLE_TIMEOUT = 600
    settings.SESSIONGUARD_ACTIVITY_INTERVAL = 60
    client = browser()
    log_in(client)  # activity now: t0, in the row and in the cache

    with redis.paused():
        clock.advance(500)
        # Active at t0 + 500: the row records it, the cache cannot.
        assert client.get("/read/").json()["user"] == "alice"
    assert reminder(client)

    clock.advance(200)  # t0 + 700: idle by the cached copy, not by the row
    response = client.get("/read/")
    assert response.status_code == 200
    assert response.json()["user"] == "alice"
    assert not SessionEvent.objects.filter(kind=EventKind.EXPIRED_IDLE).exists()


def test_sign_in_works_while_redis_is_down(
    redis: RedisServer, browser: Browser, user: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client = browser()
    assert client.get("/write/?value=5").status_code == 200  # an anonymous session
    anonymous_key = cookie(client)
    redis.kill()

    assert client.get("/login/").status_code == 200
    log_in(client)
    assert cookie(client) != anonymous_key  # a new key, as always at sign-in
    assert client.get("/read/").json() == {"user": "alice", "counter": 5}
    # The old key could not be sealed in the cache, so its row stays rather
    # than leaving a cached copy nothing records.
    assert Session.objects.filter(user__isnull=True).count() == 1
    assert warnings_logged(caplog, "previous key") == 1

    redis.restart()
    assert client.get("/read/").json() == {"user": "alice", "counter": 5}


def test_sign_out_while_redis_is_down_is_refused_with_nothing_done(
    redis: RedisServer, browser: Browser, user: Any, settings: Any
) -> None:
    client = browser()
    log_in(client)
    key = cookie(client)
    redis.kill()

    response = client.post("/logout/")
    assert response.status_code == 503
    assert response["Retry-After"]
    assert b"Nothing was changed" in response.content
    assert cookie(client) == key
    assert client.get("/read/").json()["user"] == "alice"
    assert not SessionEvent.objects.filter(kind=EventKind.LOGOUT).exists()

    redis.restart()
    assert client.post("/logout/").status_code == 302
    assert client.get("/read/").json()["user"] is None
    assert SessionEvent.objects.filter(kind=EventKind.LOGOUT).count() == 1
    # The old cookie, replayed, is dead.
    replay = browser()
    replay.cookies[settings.SESSION_COOKIE_NAME] = key
    assert replay.get("/read/").json()["user"] is None


def test_the_async_store_goes_around_the_outage_too(
    redis: RedisServer, session_keys: set[str]
) -> None:
    from asgiref.sync import async_to_sync

    from django_sessionguard.backends.cached_db import SessionStore
    from django_sessionguard.faults import SessionCacheUnavailable

    store = SessionStore()
    store.bind_request(ip_address="203.0.113.7", user_agent="Firefox")
    async_to_sync(store.aset)("counter", 1)
    async_to_sync(store.asave)()
    key = store.session_key
    assert key is not None
    session_keys.add(key)
    redis.kill()

    during = SessionStore(key)
    during.bind_request(ip_address="203.0.113.7", user_agent="Firefox")
    assert async_to_sync(during.aget)("counter") == 1  # from the row
    async_to_sync(during.aset)("counter", 2)
    async_to_sync(during.asave)()
    assert during.cache_behind
    assert async_to_sync(during.atouch)(force=True) is True
    with pytest.raises(SessionCacheUnavailable):
        async_to_sync(during.adelete)()
    assert Session.objects.get().get_decoded()["counter"] == 2  # nothing ended

    redis.restart()
    after = SessionStore(key)
    after.distrust_cache()
    assert async_to_sync(after.aget)("counter") == 2
    assert after.cache_repaired
    async_to_sync(after.adelete)()
    assert not Session.objects.exists()
    assert async_to_sync(SessionStore(key).aload)() == {}
