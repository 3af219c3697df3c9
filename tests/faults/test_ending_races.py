"""A request racing with an ending cannot put the session back into the cache.

The endings: a revocation, Django's sign-out (``LogoutView``, ``alogout``) and a
sign-in over the session, which replaces its key (``LoginView``, ``alogin``).

Two real threads, each with its own database connection, against a real
PostgreSQL (or MySQL) and a real Redis: the request is held at the exact point
of the race while the ending runs to its commit (or the other way round), then
let go.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.db import connections

from django_sessionguard import services
from django_sessionguard.backends.cached_db import TOMBSTONE, SessionStore
from django_sessionguard.base_session import SessionQuerySet
from django_sessionguard.keys import hash_key
from django_sessionguard.models import Session
from tests.faults.conftest import cookie, log_in
from tests.faults.redis_server import RedisServer, wait_until

pytestmark = [
    pytest.mark.faults,
    pytest.mark.services(),  # Redis and a server database (real row locks)
    pytest.mark.django_db(transaction=True),
]

Browser = Callable[..., Any]

#: Generous bounds for each hand-over between the threads.
WAIT = 30.0

RACER = "racing-request"


class Racer:
    """Runs one request in its own thread; it stops at :meth:`hold` until let go."""

    def __init__(self) -> None:
        self.at_race_point = threading.Event()
        self.go = threading.Event()
        self.response: Any = None
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None

    def hold(self) -> None:
        """Called from inside the request, at the point of the race."""
        if threading.current_thread().name == RACER and not self.at_race_point.is_set():
            self.at_race_point.set()
            assert self.go.wait(WAIT), "never let go"

    def start(self, request: Callable[[], Any]) -> None:
        def run() -> None:
            try:
                self.response = request()
            except BaseException as exc:  # re-raised in the test's thread
                self.error = exc
            finally:
                connections.close_all()

        self.thread = threading.Thread(target=run, name=RACER, daemon=True)
        self.thread.start()
        assert self.at_race_point.wait(WAIT), "the request never reached the race"

    def finish(self) -> Any:
        self.go.set()
        assert self.thread is not None
        self.thread.join(WAIT)
        assert not self.thread.is_alive(), "the request did not finish"
        if self.error is not None:
            raise self.error
        return self.response


@pytest.fixture
def racer() -> Iterator[Racer]:
    racer = Racer()
    yield racer
    racer.go.set()  # never leave a thread waiting


@pytest.fixture
def phone(redis: RedisServer, browser: Browser, user: Any) -> Any:
    client = browser()
    log_in(client)
    assert client.get("/read/").json()["user"] == "alice"
    return client


def data_entry(client: Any) -> Any:
    cache = caches[django_settings.SESSION_CACHE_ALIAS]
    return cache.get(SessionStore.data_cache_key(hash_key(cookie(client))))


def revoke(client: Any, user: Any) -> None:
    reference = Session.objects.get(key_hash=hash_key(cookie(client))).reference
    assert services.revoke_session(user, reference, actor=user) is True


def test_a_miss_that_read_the_row_before_the_revocation_does_not_cache_it(
    phone: Any, user: Any, racer: Racer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The phone's copy is gone from the cache (evicted, or Redis restarted):
    # its next request reads the row and repopulates the cache with `add`.
    caches[django_settings.SESSION_CACHE_ALIAS].delete(
        SessionStore.data_cache_key(hash_key(cookie(phone)))
    )
    read_row = SessionStore._get_session_from_db

    def read_then_hold(self: SessionStore) -> Any:
        row = read_row(self)
        racer.hold()  # the row is read; the `add` comes next
        return row

    monkeypatch.setattr(SessionStore, "_get_session_from_db", read_then_hold)
    racer.start(lambda: phone.get("/read/"))
    revoke(phone, user)  # committed while the request holds the old row
    response = racer.finish()

    # The racing request was served from what it read before the revocation,
    assert response.json()["user"] == "alice"
    # but its `add` found the tombstone: nothing usable was cached again.
    assert data_entry(phone) == TOMBSTONE
    assert phone.get("/read/").json()["user"] is None


@pytest.mark.parametrize(
    "hold_at", ["before the cache write", "between the cache write and the update"]
)
def test_a_save_racing_with_the_revocation_does_not_bring_it_back(
    phone: Any,
    user: Any,
    racer: Racer,
    monkeypatch: pytest.MonkeyPatch,
    hold_at: str,
) -> None:
    write_entry, write_row = SessionStore._write_entry, SessionStore._write_row

    def hold_then_write_entry(self: SessionStore, entry: Any) -> None:
        if hold_at == "before the cache write":
            racer.hold()
        write_entry(self, entry)

    def hold_then_write_row(self: SessionStore, *args: Any) -> None:
        if hold_at != "before the cache write":
            racer.hold()
        write_row(self, *args)

    monkeypatch.setattr(SessionStore, "_write_entry", hold_then_write_entry)
    monkeypatch.setattr(SessionStore, "_write_row", hold_then_write_row)
    racer.start(lambda: phone.get("/faults/write/?value=9"))
    revoke(phone, user)
    response = racer.finish()

    # Its update found no row: Django's "session was deleted" answer, a 400.
    assert response.status_code == 400
    assert data_entry(phone) == TOMBSTONE
    assert phone.get("/read/").json()["user"] is None
    assert not Session.objects.exists()


# -- sign-out and sign-in racing with a save from another tab -------------------------

#: Django's views and its async API, each ending the session it was called with:
#: sign-out flushes it (``delete``/``adelete``), sign-in over it gives it a new
#: key (``cycle_key``/``acycle_key``, then the old key's ``delete``/``adelete``).
ENDINGS = {
    "LogoutView": ("/logout/", {}, 302),
    "alogout": ("/faults/async-logout/", {}, 200),
    "LoginView over the session": (
        "/login/",
        {"username": "alice", "password": "pw"},
        302,
    ),
    "alogin over the session": (
        "/faults/async-login/",
        {"username": "alice", "password": "pw"},
        200,
    ),
}


def other_tab(browser: Browser, key: str) -> Any:
    """A second client sending the same session cookie (another tab)."""
    tab = browser()
    tab.cookies[django_settings.SESSION_COOKIE_NAME] = key
    return tab


def hold_before_the_row_goes(racer: Racer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold the racing request just before it deletes the session's row."""
    delete_rows = SessionQuerySet.delete_rows

    def hold_then_delete(self: SessionQuerySet) -> int:
        racer.hold()
        return delete_rows(self)

    monkeypatch.setattr(SessionQuerySet, "delete_rows", hold_then_delete)


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_a_save_from_another_tab_cannot_outlive_the_ending_in_the_cache(
    phone: Any,
    browser: Browser,
    racer: Racer,
    monkeypatch: pytest.MonkeyPatch,
    ending: str,
) -> None:
    path, form, status = ENDINGS[ending]
    key = cookie(phone)
    hold_before_the_row_goes(racer, monkeypatch)
    racer.start(lambda: phone.post(path, form))

    # The sign-out has sealed the cached copy (or the sign-in has its new
    # key); the old key's row is still there. Another tab saves now: its
    # cache write replaces the tombstone, its UPDATE finds the row.
    saved = other_tab(browser, key).get("/faults/write/?value=5")
    assert saved.status_code == 200
    assert saved.json() == {"user": "alice", "counter": 5}

    assert racer.finish().status_code == status
    assert not Session.objects.filter(key_hash=hash_key(key)).exists()
    # The ending wrote its tombstones after the row went: the tab's copy is
    # gone, and the old cookie is anonymous from the cache and the database.
    assert data_entry(other_tab(browser, key)) == TOMBSTONE
    assert other_tab(browser, key).get("/read/").json()["user"] is None


def lock_waits() -> int:
    """PostgreSQL backends of this database waiting for a lock."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        (count,) = cursor.fetchone()
    return int(count)


@pytest.mark.services("redis", "postgres")  # waits are read from pg_stat_activity
def test_a_save_waiting_for_the_sign_outs_row_lock_finds_no_row(
    phone: Any, browser: Browser, racer: Racer, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = cookie(phone)
    evict_cached = SessionStore.evict_cached.__func__

    def hold_inside_the_transaction(cls: type[SessionStore], hashes: Any) -> None:
        if connections["default"].in_atomic_block:  # not the receiver's seal()
            racer.hold()  # the row is deleted, not yet committed
        evict_cached(cls, hashes)

    monkeypatch.setattr(
        SessionStore, "evict_cached", classmethod(hold_inside_the_transaction)
    )
    racer.start(lambda: phone.post("/logout/"))

    tab: dict[str, Any] = {}

    def save_from_another_tab() -> None:
        try:
            tab["response"] = other_tab(browser, key).get("/faults/write/?value=5")
        finally:
            connections.close_all()

    tab_thread = threading.Thread(target=save_from_another_tab, daemon=True)
    tab_thread.start()
    wait_until(lambda: lock_waits() > 0, timeout=WAIT, what="the UPDATE to wait")

    assert racer.finish().status_code == 302
    tab_thread.join(WAIT)
    assert not tab_thread.is_alive()
    # Its UPDATE found no row once the sign-out committed: a 400, and the
    # tombstone put back over the copy it had written.
    assert tab["response"].status_code == 400
    assert data_entry(other_tab(browser, key)) == TOMBSTONE
    assert other_tab(browser, key).get("/read/").json()["user"] is None
