"""Revocation through ``django_sessionguard.services``, on both engines.

After a revocation the revoked browser's next request is anonymous, no row
and no cache entry remain (on the Redis leg Redis itself is scanned for any
key naming the session), and the event names who did it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from importlib import import_module
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.core.cache import caches
from django.test import Client
from django.utils import timezone

from django_sessionguard import services
from django_sessionguard.events import EventKind
from django_sessionguard.faults import SessionCacheUnavailable
from django_sessionguard.keys import reference_for
from django_sessionguard.models import Session, SessionEvent
from django_sessionguard.signals import sessions_ended
from tests.conftest import Clock, CommandCounts
from tests.lifecycle_support import (
    CACHED_DB,
    browser,
    cached_entries,
    key_hash_of,
    log_in,
    reference_of,
    row_exists,
    signed_out_message,
    whoami,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(user: Any) -> Any:
    return user


@pytest.fixture
def staff(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("root", password="pw", is_staff=True)


@pytest.fixture
def phone(alice: Any) -> Client:
    client = browser(ip="203.0.113.50")
    log_in(client)
    return client


@pytest.fixture
def laptop(alice: Any) -> Client:
    client = browser()
    log_in(client)
    return client


def assert_revoked(client: Client, key_hash: str) -> Any:
    """Gone everywhere, and the browser is anonymous; returns that response."""
    assert not row_exists(key_hash)
    assert cached_entries(key_hash) == []
    response = client.get("/read/")
    assert response.json()["user"] is None
    return response


def make_sessions(user: Any, count: int) -> list[str]:
    """``count`` signed-in sessions of ``user``, made through the engine's API."""
    store_class = import_module(django_settings.SESSION_ENGINE).SessionStore
    references = []
    for _ in range(count):
        store = store_class()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        references.append(store.reference)
    return references


@pytest.fixture
def ended_signals() -> Any:
    received: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        received.append(kwargs)

    sessions_ended.connect(receiver)
    yield received
    sessions_ended.disconnect(receiver)


# -- one session ----------------------------------------------------------------


def test_owner_revokes_one_session(
    engine: str, alice: Any, phone: Client, laptop: Client, ended_signals: Any
) -> None:
    key_hash, reference = key_hash_of(phone), reference_of(phone)

    assert services.revoke_session(alice, reference, actor=alice) is True

    response = assert_revoked(phone, key_hash)
    assert signed_out_message(response) == (
        "You were signed out from another of your devices."
    )
    assert whoami(laptop) == "alice"
    event = SessionEvent.objects.get(kind=EventKind.REVOKED_BY_USER)
    assert (event.session_ref, event.user, event.actor) == (reference, alice, alice)
    assert event.ip_address == "203.0.113.50"
    assert event.device == "Chrome 120.0.0 on Windows 10"
    assert [
        (s["user_id"], s["references"], s["kind"], s["actor"]) for s in ended_signals
    ] == [(alice.pk, [reference], EventKind.REVOKED_BY_USER, alice)]


def test_staff_revocation_names_the_staff_member(
    engine: str, alice: Any, staff: Any, phone: Client
) -> None:
    key_hash, reference = key_hash_of(phone), reference_of(phone)

    services.revoke_session(alice, reference, actor=staff, reason="lost phone")

    response = assert_revoked(phone, key_hash)
    assert signed_out_message(response) == (
        "Your session was ended by an administrator."
    )
    event = SessionEvent.objects.get(kind=EventKind.REVOKED_BY_STAFF)
    assert (event.user, event.actor) == (alice, staff)
    assert event.detail == {"reason": "lost phone"}


def test_system_revocation_has_no_actor(engine: str, alice: Any, phone: Client) -> None:
    key_hash = key_hash_of(phone)
    services.revoke_session(alice, reference_of(phone))
    response = assert_revoked(phone, key_hash)
    assert signed_out_message(response) == (
        "Your session was ended for security reasons."
    )
    event = SessionEvent.objects.get(kind=EventKind.REVOKED_BY_SYSTEM)
    assert event.actor is None


def test_someone_elses_reference_is_like_no_reference(
    engine: str, alice: Any, staff: Any, phone: Client
) -> None:
    assert services.revoke_session(staff, reference_of(phone), actor=staff) is False
    assert services.revoke_session(alice, "0" * 32, actor=alice) is False
    assert whoami(phone) == "alice"
    assert not SessionEvent.objects.filter(
        kind__in=[EventKind.REVOKED_BY_USER, EventKind.REVOKED_BY_STAFF]
    ).exists()


def test_async_twin(engine: str, alice: Any, phone: Client) -> None:
    key_hash = key_hash_of(phone)
    revoked = async_to_sync(services.arevoke_session)(
        alice, reference_of(phone), actor=alice
    )
    assert revoked is True
    assert_revoked(phone, key_hash)


# -- many -----------------------------------------------------------------------


def test_revoke_other_sessions_keeps_the_named_one(
    engine: str, alice: Any, phone: Client, laptop: Client
) -> None:
    tablet = browser()
    log_in(tablet)
    hashes = [key_hash_of(phone), key_hash_of(tablet)]

    count = services.revoke_other_sessions(alice, reference_of(laptop), actor=alice)

    assert count == 2
    for client, key_hash in zip([phone, tablet], hashes, strict=True):
        assert_revoked(client, key_hash)
    assert whoami(laptop) == "alice"
    assert SessionEvent.objects.filter(kind=EventKind.REVOKED_BY_USER).count() == 2


def test_revoke_all_sessions(
    engine: str, alice: Any, staff: Any, phone: Client, laptop: Client
) -> None:
    hashes = [key_hash_of(phone), key_hash_of(laptop)]
    assert services.revoke_all_sessions(alice, actor=staff) == 2
    for client, key_hash in zip([phone, laptop], hashes, strict=True):
        assert_revoked(client, key_hash)
    assert set(
        SessionEvent.objects.filter(kind=EventKind.REVOKED_BY_STAFF).values_list(
            "actor__username", flat=True
        )
    ) == {"root"}


def test_revoke_sessions_before_is_a_per_user_cutoff(
    engine: str, alice: Any, clock: Clock, django_user_model: Any
) -> None:
    bob = django_user_model.objects.create_user("bob", password="pw")
    old, bobs = browser(), browser()
    log_in(old)
    log_in(bobs, "bob")
    old_hash = key_hash_of(old)
    clock.advance(60)
    cutoff = timezone.now()
    clock.advance(1)
    new = browser()
    log_in(new)

    assert services.revoke_sessions_before(alice, cutoff, actor=alice) == 1

    assert_revoked(old, old_hash)
    assert whoami(new) == "alice"
    assert whoami(bobs) == "bob"
    assert bob.sessionguard_sessions.count() == 1


# -- cost -----------------------------------------------------------------------


@pytest.mark.parametrize("count", [10, 50])
def test_revoking_the_others_of_many_sessions_costs_the_same(
    engine: str,
    alice: Any,
    count: int,
    django_assert_num_queries: Any,
    cache_calls: Callable[[], AbstractContextManager[list[str]]],
) -> None:
    references = make_sessions(alice, count)

    # SAVEPOINT, SELECT ... FOR UPDATE, DELETE, INSERT (events), RELEASE.
    with django_assert_num_queries(5), cache_calls() as calls:
        ended = services.revoke_other_sessions(alice, references[0], actor=alice)

    assert ended == count - 1
    # One call writing tombstones over every ended session's entries.
    assert calls == (["set_many"] if engine == CACHED_DB else [])
    assert list(Session.objects.values_list("reference", flat=True)) == [references[0]]
    assert SessionEvent.objects.filter(kind=EventKind.REVOKED_BY_USER).count() == (
        count - 1
    )


def test_revoking_50_sessions_is_one_redis_round_trip(
    settings: Any,
    alice: Any,
    redis_commands: Callable[[], AbstractContextManager[CommandCounts]],
) -> None:
    settings.SESSION_ENGINE = CACHED_DB
    references = make_sessions(alice, 50)
    hashes = list(Session.objects.values_list("key_hash", flat=True))

    with redis_commands() as counts:
        services.revoke_other_sessions(alice, references[0], actor=alice)

    # One pipeline: a tombstone over the entry of each of the 49 sessions.
    assert counts == {"multi": 1, "set": 49, "exec": 1}
    for key_hash in hashes:
        if reference_for(key_hash) != references[0]:
            assert cached_entries(key_hash) == []


# -- fail-safe ------------------------------------------------------------------


def test_a_cache_failure_revokes_nothing_and_can_be_retried(
    settings: Any, alice: Any, phone: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SESSION_ENGINE = CACHED_DB
    log_in(phone)  # re-sign-in under the cached_db engine
    key_hash, reference = key_hash_of(phone), reference_of(phone)
    cache = caches[django_settings.SESSION_CACHE_ALIAS]

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("cache down")

    with monkeypatch.context() as patch:
        patch.setattr(cache, "set_many", broken)
        with pytest.raises(SessionCacheUnavailable):
            services.revoke_session(alice, reference, actor=alice)

    # Loud, and nothing half-done: the session is intact, nothing recorded.
    assert row_exists(key_hash)
    assert whoami(phone) == "alice"
    assert not SessionEvent.objects.filter(kind=EventKind.REVOKED_BY_USER).exists()

    assert services.revoke_session(alice, reference, actor=alice) is True
    assert_revoked(phone, key_hash)


# -- deleting rows directly -----------------------------------------------------


def test_queryset_delete_logs_out(engine: str, phone: Client, laptop: Client) -> None:
    hashes = [key_hash_of(phone), key_hash_of(laptop)]
    Session.objects.filter(user__username="alice").delete()
    for client, key_hash in zip([phone, laptop], hashes, strict=True):
        assert_revoked(client, key_hash)


def test_instance_delete_logs_out(engine: str, phone: Client, laptop: Client) -> None:
    key_hash = key_hash_of(phone)
    Session.objects.get(key_hash=key_hash).delete()
    assert_revoked(phone, key_hash)
    assert whoami(laptop) == "alice"


def test_revocation_by_a_joined_filter_locks_only_sessions(
    engine: str, alice: Any, phone: Client
) -> None:
    key_hash = key_hash_of(phone)
    sessions = Session.objects.filter(user__username="alice", user__is_active=True)
    assert services.end_sessions(sessions) == 1
    assert_revoked(phone, key_hash)


def test_revoke_all_also_removes_rows_already_past_expiry(
    engine: str, alice: Any, phone: Client, clock: Clock
) -> None:
    key_hash = key_hash_of(phone)
    clock.advance(django_settings.SESSION_COOKIE_AGE + 1)
    # Gone, but not counted (nor recorded) as revoked: it was no longer live.
    assert services.revoke_all_sessions(alice, actor=alice) == 0
    assert not row_exists(key_hash)
    assert cached_entries(key_hash) == []
    assert not SessionEvent.objects.filter(kind=EventKind.REVOKED_BY_USER).exists()
