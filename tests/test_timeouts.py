"""Idle and absolute timeouts, enforced by the middleware, on both engines.

The ``clock`` fixture moves ``time.time()`` and ``timezone.now()`` together,
so the authentication time, recorded activity, expiry dates and local-memory
cache all see the same clock. Every test signs in through the real login form
and then asks what a browser would see.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings
from django.test import AsyncClient, Client
from django.utils import timezone

from django_sessionguard.events import EventKind
from django_sessionguard.models import SessionEvent
from tests.conftest import Clock
from tests.lifecycle_support import (
    JSON,
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

IDLE_MESSAGE = "You were signed out after 30 minutes of inactivity."


@pytest.fixture
def alice(user: Any) -> Any:
    return user


@pytest.fixture
def client(alice: Any) -> Client:
    """A signed-in browser."""
    client = browser()
    log_in(client)
    return client


def assert_ended(
    client: Client,
    key_hash: str,
    response: Any,
    kind: str,
    *,
    path: str = "/read/",
) -> None:
    """The request was redirected to login, and the session is gone everywhere."""
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"
    assert not row_exists(key_hash)
    assert cached_entries(key_hash) == []
    event = SessionEvent.objects.get(kind=kind)
    assert event.user is not None
    assert event.user.username == "alice"
    assert whoami(client) is None


# -- idle -----------------------------------------------------------------------


@pytest.mark.parametrize("idle", [1800, timedelta(minutes=30)], ids=["int", "td"])
def test_idle_session_ends_with_a_redirect_to_login(
    engine: str, alice: Any, settings: Any, clock: Clock, idle: Any
) -> None:
    settings.SESSIONGUARD_IDLE_TIMEOUT = idle
    client = browser()
    log_in(client)
    key_hash, reference = key_hash_of(client), reference_of(client)

    clock.advance(1801)
    response = client.get("/read/")

    assert_ended(client, key_hash, response, EventKind.EXPIRED_IDLE)
    assert signed_out_message(response) == IDLE_MESSAGE
    event = SessionEvent.objects.get(kind=EventKind.EXPIRED_IDLE)
    assert event.session_ref == reference
    assert event.detail == {"timeout": 1800}


def test_activity_keeps_the_session_alive(
    engine: str, settings: Any, clock: Clock, client: Client
) -> None:
    settings.SESSIONGUARD_IDLE_TIMEOUT = 1800
    for _ in range(5):
        clock.advance(1700)
        assert whoami(client) == "alice"
    assert not SessionEvent.objects.filter(kind=EventKind.EXPIRED_IDLE).exists()


def test_idle_timeout_counts_recorded_activity_not_requests_inside_the_interval(
    engine: str, settings: Any, clock: Clock, client: Client
) -> None:
    """Activity is written at most once per interval: the deadline is 1800 s
    after the last *recorded* activity."""
    settings.SESSIONGUARD_IDLE_TIMEOUT = 1800
    settings.SESSIONGUARD_ACTIVITY_INTERVAL = 600
    clock.advance(500)  # inside the interval: not recorded
    assert whoami(client) == "alice"
    clock.advance(1301)  # 1801 s after the recorded sign-in
    assert client.get("/read/").status_code == 302


def test_a_lagging_cached_activity_is_checked_against_the_row(
    settings: Any, clock: Clock, alice: Any, django_assert_num_queries: Any
) -> None:
    """A save that raced with a touch may put an older activity back in the
    cache; a session is never ended on that basis alone."""
    from django.core.cache import caches

    from django_sessionguard.backends.cached_db import SessionStore

    settings.SESSION_ENGINE = "django_sessionguard.backends.cached_db"
    settings.SESSIONGUARD_IDLE_TIMEOUT = 1800
    client = browser()
    log_in(client)
    key_hash = key_hash_of(client)
    cache = caches[django_settings.SESSION_CACHE_ALIAS]
    data_key = SessionStore.data_cache_key(key_hash)
    data, signed_in = cache.get(data_key)
    clock.advance(1000)
    assert whoami(client) == "alice"  # recorded: the row and the entry
    cache.set(data_key, (data, signed_in))  # the racing save's older copy

    clock.advance(1000)  # idle by the cached copy, not by the row
    with django_assert_num_queries(3):  # the row's activity, the user, the touch
        assert whoami(client) == "alice"
    assert not SessionEvent.objects.filter(kind=EventKind.EXPIRED_IDLE).exists()
    repaired = cache.get(data_key)[1]
    assert repaired[0] > signed_in[0] + 1000

    clock.advance(1801)  # idle by the row too: ended
    response = client.get("/read/")
    assert_ended(client, key_hash, response, EventKind.EXPIRED_IDLE)


def test_json_request_gets_401_with_reason_and_message(
    engine: str, settings: Any, clock: Clock, client: Client
) -> None:
    settings.SESSIONGUARD_IDLE_TIMEOUT = 1800
    key_hash = key_hash_of(client)
    clock.advance(1801)

    response = client.get("/read/", **JSON)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    assert body["reason"] == "expired_idle"
    assert body["message"] == IDLE_MESSAGE
    assert body["login_url"] == "/login/"
    assert not row_exists(key_hash)
    assert cached_entries(key_hash) == []
    assert whoami(client) is None


def test_next_keeps_the_query_string(
    engine: str, settings: Any, clock: Clock, client: Client
) -> None:
    settings.SESSIONGUARD_IDLE_TIMEOUT = 1800
    clock.advance(1801)
    response = client.get("/read/", {"page": "2"})
    assert response["Location"] == "/login/?next=/read/%3Fpage%3D2"


def test_async_view_ends_the_same_way(
    engine: str, alice: Any, settings: Any, clock: Clock
) -> None:
    settings.SESSIONGUARD_IDLE_TIMEOUT = 1800

    async def scenario() -> tuple[Any, Any, str]:
        client = AsyncClient(headers={"user-agent": "Mozilla/5.0 Firefox/121.0"})
        login = await client.post("/login/", {"username": "alice", "password": "pw"})
        assert login.status_code == 302
        key_hash = key_hash_of(client)  # type: ignore[arg-type]
        alive = await client.get("/async-read/")
        clock.advance(1801)
        ended = await client.get("/async-read/")
        return alive, ended, key_hash

    alive, ended, key_hash = async_to_sync(scenario)()

    assert alive.json()["user"] == "alice"
    assert ended.status_code == 302
    assert ended["Location"] == "/login/?next=/async-read/"
    assert signed_out_message(ended) == IDLE_MESSAGE
    assert not row_exists(key_hash)
    assert cached_entries(key_hash) == []
    assert SessionEvent.objects.filter(kind=EventKind.EXPIRED_IDLE).count() == 1


def test_async_json_request_gets_401(
    engine: str, alice: Any, settings: Any, clock: Clock
) -> None:
    settings.SESSIONGUARD_IDLE_TIMEOUT = 1800

    async def scenario() -> Any:
        client = AsyncClient()
        await client.post("/login/", {"username": "alice", "password": "pw"})
        clock.advance(1801)
        return await client.get("/async-read/", headers={"accept": "application/json"})

    response = async_to_sync(scenario)()
    assert response.status_code == 401
    assert response.json()["reason"] == "expired_idle"


# -- absolute -------------------------------------------------------------------


@pytest.mark.parametrize("absolute", [3600, timedelta(hours=1)], ids=["int", "td"])
def test_absolute_timeout_is_not_extended_by_activity_or_saves(
    engine: str, alice: Any, settings: Any, clock: Clock, absolute: Any
) -> None:
    settings.SESSIONGUARD_ABSOLUTE_TIMEOUT = absolute
    client = browser()
    log_in(client)
    key_hash = key_hash_of(client)
    for value in range(3):
        clock.advance(1000)
        assert client.get("/write/", {"value": value}).json()["user"] == "alice"
    clock.advance(601)  # 3601 s after sign-in

    response = client.get("/read/")

    assert_ended(client, key_hash, response, EventKind.EXPIRED_ABSOLUTE)
    assert signed_out_message(response) == (
        "You were signed out because sessions last at most 1 hour. "
        "Please sign in again."
    )


def test_signing_in_again_restarts_both_clocks(
    engine: str, settings: Any, clock: Clock, client: Client
) -> None:
    settings.SESSIONGUARD_IDLE_TIMEOUT = 1800
    settings.SESSIONGUARD_ABSOLUTE_TIMEOUT = 3000
    clock.advance(1700)
    log_in(client)  # the same session, authenticated again
    clock.advance(1700)  # 3400 s after the first sign-in, 1700 after the second
    assert whoami(client) == "alice"


def test_none_disables_both(
    engine: str, alice: Any, settings: Any, clock: Clock
) -> None:
    settings.SESSIONGUARD_IDLE_TIMEOUT = None
    settings.SESSIONGUARD_ABSOLUTE_TIMEOUT = None
    client = browser()
    log_in(client)
    clock.advance(10 * 24 * 3600)
    assert whoami(client) == "alice"


def test_anonymous_sessions_have_no_timeouts(
    engine: str, settings: Any, clock: Clock
) -> None:
    settings.SESSIONGUARD_IDLE_TIMEOUT = 60
    client = browser()
    assert client.get("/write/", {"value": 7}).status_code == 200
    clock.advance(3600)
    assert client.get("/read/").json()["counter"] == 7


# -- per user -------------------------------------------------------------------


def test_callable_gives_staff_a_stricter_idle_timeout(
    engine: str, settings: Any, clock: Clock, django_user_model: Any
) -> None:
    settings.SESSIONGUARD_IDLE_TIMEOUT = "tests.lifecycle_support.idle_for_staff"
    django_user_model.objects.create_user("alice", password="pw")
    django_user_model.objects.create_user("root", password="pw", is_staff=True)
    alice, root = browser(), browser()
    log_in(alice)
    log_in(root, "root")

    clock.advance(301)

    assert root.get("/read/").status_code == 302
    assert alice.get("/read/").json()["user"] == "alice"
    event = SessionEvent.objects.get(kind=EventKind.EXPIRED_IDLE)
    assert event.user is not None
    assert event.user.username == "root"
    assert event.detail == {"timeout": 300}


def test_callable_may_return_a_timedelta(
    engine: str, settings: Any, clock: Clock, django_user_model: Any
) -> None:
    settings.SESSIONGUARD_ABSOLUTE_TIMEOUT = (
        "tests.lifecycle_support.absolute_for_staff"
    )
    django_user_model.objects.create_user("root", password="pw", is_staff=True)
    root = browser()
    log_in(root, "root")
    clock.advance(3601)
    assert root.get("/read/").status_code == 302
    assert SessionEvent.objects.filter(kind=EventKind.EXPIRED_ABSOLUTE).count() == 1


def test_callable_returning_garbage_falls_back_to_the_profile(
    engine: str,
    settings: Any,
    clock: Clock,
    client: Client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.SESSIONGUARD_PROFILE = "AAL3"
    settings.SESSIONGUARD_IDLE_TIMEOUT = "tests.test_timeouts.garbage"
    clock.advance(901)  # over AAL3's 15 minutes
    assert client.get("/read/").status_code == 302
    assert "returned 'soon'" in caplog.text


def garbage(user: Any) -> str:
    return "soon"


# -- profiles -------------------------------------------------------------------


def test_aal2_profile_ends_idle_sessions_after_an_hour(
    engine: str, settings: Any, clock: Clock, client: Client
) -> None:
    settings.SESSIONGUARD_PROFILE = "AAL2"
    clock.advance(3500)
    assert whoami(client) == "alice"
    clock.advance(3601)
    response = client.get("/read/")
    assert response.status_code == 302
    assert signed_out_message(response) == (
        "You were signed out after 1 hour of inactivity."
    )


def test_aal2_profile_ends_every_session_after_a_day(
    engine: str, settings: Any, clock: Clock, client: Client
) -> None:
    settings.SESSIONGUARD_PROFILE = "AAL2"
    for _ in range(24):
        clock.advance(3500)
        assert whoami(client) == "alice"
    response = client.get("/read/")  # 84,000 s: still inside the day
    assert response.status_code == 200
    clock.advance(2401)  # 86,401 s after sign-in
    response = client.get("/read/")
    assert response.status_code == 302
    assert SessionEvent.objects.filter(kind=EventKind.EXPIRED_ABSOLUTE).count() == 1


def test_aal3_profile_ends_idle_sessions_after_15_minutes(
    engine: str, settings: Any, clock: Clock, client: Client
) -> None:
    settings.SESSIONGUARD_PROFILE = "AAL3"
    clock.advance(901)
    response = client.get("/read/")
    assert response.status_code == 302
    assert signed_out_message(response) == (
        "You were signed out after 15 minutes of inactivity."
    )


def test_aal3_profile_ends_every_session_after_12_hours(
    engine: str, settings: Any, clock: Clock, client: Client
) -> None:
    settings.SESSIONGUARD_PROFILE = "AAL3"
    for _ in range(50):
        clock.advance(860)
        assert whoami(client) == "alice"  # 43,000 s
    clock.advance(1201)  # 44,201 s > 12 h
    response = client.get("/read/")
    assert response.status_code == 302
    assert signed_out_message(response) == (
        "You were signed out because sessions last at most 12 hours. "
        "Please sign in again."
    )


def test_an_explicit_value_wins_over_the_profile(
    engine: str, settings: Any, clock: Clock, client: Client
) -> None:
    settings.SESSIONGUARD_PROFILE = "AAL2"
    settings.SESSIONGUARD_IDLE_TIMEOUT = None  # explicitly: no idle timeout
    clock.advance(2 * 3600)
    assert whoami(client) == "alice"


# -- passive requests -----------------------------------------------------------


@pytest.mark.urls("tests.lifecycle_urls")
@pytest.mark.parametrize("path", ["/heartbeat/", "/poll/"], ids=["view", "setting"])
def test_passive_requests_do_not_count_as_activity(
    engine: str, settings: Any, clock: Clock, client: Client, path: str
) -> None:
    settings.SESSIONGUARD_IDLE_TIMEOUT = 1800
    settings.SESSIONGUARD_PASSIVE_PATHS = ["/poll/"]
    key_hash = key_hash_of(client)
    from django_sessionguard.models import Session

    before = Session.objects.get(key_hash=key_hash).last_activity
    clock.advance(1000)
    assert client.get(path).json()["user"] == "alice"
    assert Session.objects.get(key_hash=key_hash).last_activity == before

    clock.advance(801)  # 1801 s after the last real activity
    assert client.get(path).status_code == 302  # passive requests still end it


@pytest.mark.urls("tests.lifecycle_urls")
def test_an_ordinary_request_does_count(
    engine: str, settings: Any, clock: Clock, client: Client
) -> None:
    settings.SESSIONGUARD_IDLE_TIMEOUT = 1800
    settings.SESSIONGUARD_PASSIVE_PATHS = ["/poll/"]
    clock.advance(1000)
    assert whoami(client) == "alice"
    clock.advance(801)
    assert client.get("/heartbeat/").json()["user"] == "alice"


# -- the login page -------------------------------------------------------------


@pytest.fixture
def login_page_context(settings: Any) -> None:
    """The login page's template engine runs the signed-out context processor."""
    templates = [dict(engine) for engine in django_settings.TEMPLATES]
    templates[0]["OPTIONS"] = {
        **templates[0]["OPTIONS"],
        "context_processors": [
            *templates[0]["OPTIONS"]["context_processors"],
            "django_sessionguard.context_processors.signed_out_reason",
        ],
    }
    settings.TEMPLATES = templates


def test_login_page_says_why_once(
    engine: str,
    settings: Any,
    clock: Clock,
    client: Client,
    login_page_context: None,
) -> None:
    settings.SESSIONGUARD_IDLE_TIMEOUT = 1800
    clock.advance(1801)

    page = client.get("/read/", follow=True)

    assert page.redirect_chain == [("/login/?next=/read/", 302)]
    assert page.context["sessionguard_signed_out_message"] == IDLE_MESSAGE
    again = client.get("/login/")
    assert again.context["sessionguard_signed_out_message"] is None


def test_an_ended_session_on_the_login_page_shows_the_page(
    engine: str,
    settings: Any,
    clock: Clock,
    client: Client,
    login_page_context: None,
) -> None:
    settings.SESSIONGUARD_IDLE_TIMEOUT = 1800
    key_hash = key_hash_of(client)
    clock.advance(1801)

    page = client.get("/login/")

    assert page.status_code == 200
    assert page.context["user"].is_anonymous
    assert page.context["sessionguard_signed_out_message"] == IDLE_MESSAGE
    assert not row_exists(key_hash)


def test_posting_the_login_form_with_an_ended_session_signs_in(
    engine: str, settings: Any, clock: Clock, client: Client
) -> None:
    settings.SESSIONGUARD_IDLE_TIMEOUT = 1800
    clock.advance(1801)
    log_in(client)
    assert whoami(client) == "alice"
    assert SessionEvent.objects.filter(kind=EventKind.EXPIRED_IDLE).count() == 1


def test_the_reason_cookie_is_signed(engine: str) -> None:
    from django.test import RequestFactory

    from django_sessionguard.context_processors import signed_out_reason
    from django_sessionguard.responses import ENDED_COOKIE

    request = RequestFactory().get("/login/")
    request.COOKIES[ENDED_COOKIE] = '["expired_idle", 1800, ""]'
    assert signed_out_reason(request) == {"sessionguard_signed_out_message": None}


# -- not valid before -----------------------------------------------------------


def test_global_not_valid_before_ends_older_sessions(
    engine: str, settings: Any, clock: Clock, alice: Any, django_user_model: Any
) -> None:
    django_user_model.objects.create_user("bob", password="pw")
    old = browser()
    log_in(old)
    key_hash = key_hash_of(old)
    clock.advance(10)
    settings.SESSIONGUARD_NOT_VALID_BEFORE = timezone.now()
    clock.advance(1)
    new = browser()
    log_in(new, "bob")

    response = old.get("/read/")

    assert response.status_code == 302
    assert signed_out_message(response) == (
        "You were signed out because every session started before a security "
        "update was ended. Please sign in again."
    )
    assert not row_exists(key_hash)
    assert cached_entries(key_hash) == []
    event = SessionEvent.objects.get(kind=EventKind.REVOKED_BY_SYSTEM)
    assert event.detail == {"reason": "not_valid_before"}
    assert whoami(new) == "bob"
    log_in(old)
    assert whoami(old) == "alice"


def test_global_not_valid_before_costs_no_query(
    engine: str,
    settings: Any,
    client: Client,
    django_assert_num_queries: Any,
) -> None:
    settings.SESSIONGUARD_NOT_VALID_BEFORE = "2000-01-01T00:00:00Z"
    settings.SESSIONGUARD_IDLE_TIMEOUT = 1800
    whoami(client)  # warm: activity was just recorded at sign-in
    # The user's SELECT, plus the session row's on the db engine.
    expected = 1 if engine.endswith("cached_db") else 2
    with django_assert_num_queries(expected):
        assert whoami(client) == "alice"
