"""A session used from another network or another browser, on both engines.

``SESSIONGUARD_IP_CHANGE`` (default ``"log"``) and ``SESSIONGUARD_UA_CHANGE``
(default ``"revoke"``) each say ``"ignore"``, ``"log"`` or ``"revoke"``. A
browser updating itself (a minor or major version bump) is the same browser.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from django_sessionguard.events import EventKind
from django_sessionguard.models import Session, SessionEvent
from tests.conftest import Clock
from tests.lifecycle_support import (
    CHROME_120,
    CHROME_121,
    CHROME_130,
    FIREFOX_WINDOWS,
    IP,
    IPHONE,
    JSON,
    OTHER_IP,
    browser,
    cached_entries,
    key_hash_of,
    log_in,
    reference_of,
    row_exists,
    signed_out_message,
)

pytestmark = pytest.mark.django_db

CHANGED_MESSAGE = (
    "You were signed out because your session was used from a different browser "
    "or network."
)


@pytest.fixture
def client(user: Any) -> Client:
    client = browser()
    log_in(client)
    return client


def read_as(client: Client, **extra: Any) -> Any:
    return client.get("/read/", **extra)


def kinds() -> list[str]:
    return list(SessionEvent.objects.order_by("id").values_list("kind", flat=True))


# -- IP -------------------------------------------------------------------------


def test_ip_change_is_logged_once_by_default(
    engine: str, client: Client, user: Any
) -> None:
    reference = reference_of(client)

    first = read_as(client, REMOTE_ADDR=OTHER_IP)
    second = read_as(client, REMOTE_ADDR=OTHER_IP)

    assert first.json()["user"] == second.json()["user"] == "alice"
    event = SessionEvent.objects.get(kind=EventKind.IP_CHANGED)
    assert event.detail == {"from": IP, "to": OTHER_IP}
    assert (event.session_ref, event.user, event.ip_address) == (
        reference,
        user,
        OTHER_IP,
    )
    assert Session.objects.get(key_hash=key_hash_of(client)).ip_address == OTHER_IP


def test_ip_change_revokes_when_asked(
    engine: str, settings: Any, client: Client
) -> None:
    settings.SESSIONGUARD_IP_CHANGE = "revoke"
    key_hash = key_hash_of(client)

    response = read_as(client, REMOTE_ADDR=OTHER_IP)

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/read/"
    assert signed_out_message(response) == CHANGED_MESSAGE
    assert not row_exists(key_hash)
    assert cached_entries(key_hash) == []
    assert kinds()[-2:] == [EventKind.IP_CHANGED, EventKind.REVOKED_BY_SYSTEM]
    revoked = SessionEvent.objects.get(kind=EventKind.REVOKED_BY_SYSTEM)
    assert revoked.detail == {"reason": "ip_changed"}
    assert read_as(client).json()["user"] is None  # not even from the old address


def test_ip_change_ignored(engine: str, settings: Any, client: Client) -> None:
    settings.SESSIONGUARD_IP_CHANGE = "ignore"
    assert read_as(client, REMOTE_ADDR=OTHER_IP).json()["user"] == "alice"
    assert EventKind.IP_CHANGED not in kinds()


def test_ip_change_on_a_passive_request_is_logged_once_too(
    engine: str, settings: Any, client: Client, clock: Clock
) -> None:
    settings.SESSIONGUARD_PASSIVE_PATHS = ["/read/"]
    read_as(client, REMOTE_ADDR=OTHER_IP)
    read_as(client, REMOTE_ADDR=OTHER_IP)
    assert kinds().count(EventKind.IP_CHANGED) == 1


def test_anonymous_sessions_are_not_watched(engine: str, settings: Any) -> None:
    settings.SESSIONGUARD_IP_CHANGE = "revoke"
    client = browser()
    client.get("/write/", {"value": 3})
    assert read_as(client, REMOTE_ADDR=OTHER_IP).json()["counter"] == 3
    assert read_as(client, HTTP_USER_AGENT=IPHONE).json()["counter"] == 3
    assert EventKind.IP_CHANGED not in kinds()


# -- browser --------------------------------------------------------------------


@pytest.mark.parametrize("other", [FIREFOX_WINDOWS, IPHONE], ids=["firefox", "iphone"])
def test_browser_change_revokes_by_default(
    engine: str, client: Client, other: str
) -> None:
    key_hash = key_hash_of(client)

    response = read_as(client, HTTP_USER_AGENT=other)

    assert response.status_code == 302
    assert signed_out_message(response) == CHANGED_MESSAGE
    assert not row_exists(key_hash)
    assert cached_entries(key_hash) == []
    changed = SessionEvent.objects.get(kind=EventKind.UA_CHANGED)
    assert changed.detail["from"] == "Chrome 120.0.0 on Windows 10"
    assert SessionEvent.objects.get(kind=EventKind.REVOKED_BY_SYSTEM).detail == {
        "reason": "ua_changed"
    }
    assert read_as(client).json()["user"] is None


def test_browser_change_for_a_json_client(engine: str, client: Client) -> None:
    response = read_as(client, HTTP_USER_AGENT=FIREFOX_WINDOWS, **JSON)
    assert response.status_code == 401
    assert response.json()["reason"] == "ua_changed"
    assert response.json()["message"] == CHANGED_MESSAGE


def test_browser_change_logged_only(engine: str, settings: Any, client: Client) -> None:
    settings.SESSIONGUARD_UA_CHANGE = "log"
    assert read_as(client, HTTP_USER_AGENT=FIREFOX_WINDOWS).json()["user"] == "alice"
    assert read_as(client, HTTP_USER_AGENT=FIREFOX_WINDOWS).json()["user"] == "alice"
    assert kinds().count(EventKind.UA_CHANGED) == 1


def test_browser_change_ignored(engine: str, settings: Any, client: Client) -> None:
    settings.SESSIONGUARD_UA_CHANGE = "ignore"
    assert read_as(client, HTTP_USER_AGENT=FIREFOX_WINDOWS).json()["user"] == "alice"
    assert EventKind.UA_CHANGED not in kinds()


@pytest.mark.parametrize("update", [CHROME_121, CHROME_130], ids=["minor", "major"])
def test_a_browser_updating_itself_is_the_same_browser(
    engine: str, client: Client, update: str
) -> None:
    assert update != CHROME_120
    assert read_as(client, HTTP_USER_AGENT=update).json()["user"] == "alice"
    assert read_as(client, HTTP_USER_AGENT=update).json()["user"] == "alice"
    assert EventKind.UA_CHANGED not in kinds()
    row = Session.objects.get(key_hash=key_hash_of(client))
    assert row.user_agent == update  # the new version is recorded


def test_both_changes_at_once_are_both_recorded(
    engine: str, settings: Any, client: Client
) -> None:
    settings.SESSIONGUARD_UA_CHANGE = "log"
    read_as(client, REMOTE_ADDR=OTHER_IP, HTTP_USER_AGENT=IPHONE)
    assert kinds()[-2:] == [EventKind.IP_CHANGED, EventKind.UA_CHANGED]
