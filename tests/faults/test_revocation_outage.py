"""Revoking while Redis is down: refused with a clear 503, nothing half-done.

A revoked session must not stay usable from the cache, and with Redis down
its cached copy cannot be made unusable: the devices page, its JSON API, the
admin and the management command each refuse, say so, and change nothing
(rows, events). The same request succeeds once Redis is back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from django_sessionguard.faults import ERROR_CODE
from django_sessionguard.models import Session, SessionEvent
from tests.faults.redis_server import RedisServer
from tests.test_admin_helpers import (
    REVOKER,
    SESSIONS,
    confirm_post,
    make_user,
    revoke_url,
    revoke_user_url,
)
from tests.user_sessions import IPHONE_SAFARI, WINDOWS_CHROME

pytestmark = [pytest.mark.faults, pytest.mark.services("redis"), pytest.mark.django_db]

Browser = Callable[..., Any]


@pytest.fixture
def alice(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("alice", password="pw")


def signed_in(browser: Browser, username: str, user_agent: str) -> Any:
    client = browser(HTTP_USER_AGENT=user_agent)
    response = client.post("/login/", {"username": username, "password": "pw"})
    assert response.status_code == 302
    return client


@pytest.fixture
def laptop(redis: RedisServer, browser: Browser, alice: Any) -> Any:
    return signed_in(browser, "alice", WINDOWS_CHROME)


@pytest.fixture
def phone(redis: RedisServer, browser: Browser, alice: Any) -> Any:
    return signed_in(browser, "alice", IPHONE_SAFARI)


def whoami(client: Any) -> str | None:
    response = client.get("/read/")
    assert response.status_code == 200
    user: str | None = response.json()["user"]
    return user


def reference_of(client: Any, alice: Any) -> str:
    """The phone's public reference, as the devices page names it."""
    return str(
        Session.objects.filter(user=alice, user_agent=IPHONE_SAFARI).get().reference
    )


def assert_nothing_ended(alice: Any, *clients: Any) -> None:
    assert Session.objects.filter(user=alice).count() == 2
    assert not SessionEvent.objects.filter(kind__startswith="revoked").exists()
    assert [whoami(client) for client in clients] == ["alice"] * len(clients)


def test_devices_page_works_and_refuses_to_revoke(
    redis: RedisServer, laptop: Any, phone: Any, alice: Any
) -> None:
    reference = reference_of(phone, alice)
    redis.kill()

    page = laptop.get(reverse("sessionguard:list"))
    assert page.status_code == 200  # the list reads the database
    assert reference.encode() in page.content

    response = laptop.post(reverse("sessionguard:revoke", args=[reference]))
    assert response.status_code == 503
    assert response["Retry-After"]
    assert response["Cache-Control"] == "no-store"
    assert b"Nothing was changed" in response.content
    response = laptop.post(reverse("sessionguard:revoke-others"))
    assert response.status_code == 503
    assert_nothing_ended(alice, laptop, phone)

    redis.restart()
    response = laptop.post(reverse("sessionguard:revoke", args=[reference]))
    assert response.status_code == 302
    assert whoami(phone) is None
    assert whoami(laptop) == "alice"


def test_json_api_refuses_with_a_503_body(
    redis: RedisServer, laptop: Any, phone: Any, alice: Any
) -> None:
    reference = reference_of(phone, alice)
    redis.kill()

    listed = laptop.get(reverse("sessionguard:api-list"))
    assert listed.status_code == 200
    assert len(listed.json()["sessions"]) == 2
    for url in (
        reverse("sessionguard:api-revoke", args=[reference]),
        reverse("sessionguard:api-revoke-others"),
    ):
        response = laptop.post(url)
        assert response.status_code == 503
        assert response["Content-Type"] == "application/json"
        body = response.json()
        assert body["error"] == ERROR_CODE
        assert "Nothing was changed" in body["message"]
    assert_nothing_ended(alice, laptop, phone)

    redis.restart()
    response = laptop.post(reverse("sessionguard:api-revoke", args=[reference]))
    assert response.json() == {"revoked": 1, "current": False}
    assert whoami(phone) is None


def test_admin_refuses_in_its_own_page(
    redis: RedisServer, laptop: Any, phone: Any, alice: Any, browser: Browser
) -> None:
    make_user("revoker", staff=True, perms=REVOKER)
    staff = signed_in(browser, "revoker", WINDOWS_CHROME)
    reference = reference_of(phone, alice)
    redis.kill()

    changelist = staff.get(SESSIONS)
    assert changelist.status_code == 200
    for url, data in (
        (SESSIONS, confirm_post("revoke_selected", [reference], reason="stolen")),
        (SESSIONS, confirm_post("revoke_users", [reference])),
        (revoke_url(reference), {"reason": "stolen"}),
        (revoke_user_url(alice), {"reason": "stolen"}),
    ):
        response = staff.post(url, data)
        assert response.status_code == 503, url
        assert b"no session was revoked" in response.content
        assert b"admin" in response.content  # the admin's own page
    assert_nothing_ended(alice, laptop, phone)

    redis.restart()
    response = staff.post(revoke_url(reference), {"reason": "stolen"})
    assert response.status_code == 302
    assert whoami(phone) is None


def test_command_fails_with_a_message(
    redis: RedisServer, laptop: Any, phone: Any, alice: Any
) -> None:
    redis.kill()
    with pytest.raises(CommandError, match="nothing was recorded"):
        call_command("sessionguard_revoke", user="alice", all=True)
    assert_nothing_ended(alice, laptop, phone)

    redis.restart()
    call_command("sessionguard_revoke", user="alice", all=True)
    assert whoami(phone) is None
    assert whoami(laptop) is None


def test_revoking_during_a_hang_is_refused_after_one_timeout(
    redis: RedisServer, laptop: Any, phone: Any, alice: Any
) -> None:
    reference = reference_of(phone, alice)
    with redis.paused():
        response = laptop.post(reverse("sessionguard:api-revoke", args=[reference]))
        assert response.status_code == 503
    # Nothing ended; the tombstones may or may not have landed when Redis
    # resumed, and either way the session is served (from the row).
    assert_nothing_ended(alice, laptop, phone)
