"""``privacy_records.forget_untracked``: old records brought in line with the settings.

Sessions and events are recorded with everything tracked; then the settings
change and one call corrects the stored rows, events and cached copies
without signing anyone out.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from django_sessionguard.events import EventKind
from django_sessionguard.models import Session, SessionEvent
from django_sessionguard.privacy_records import Forgotten, forget_untracked
from tests.lifecycle_support import log_in
from tests.privacy_support import (
    DERIVED,
    IP,
    USER_AGENT,
    cache_text,
    table_text,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def browsers(user: Any) -> list[Client]:
    """Two signed-in browsers, one of which moved (an ip_changed event)."""
    clients = [Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=USER_AGENT) for _ in range(2)]
    for client in clients:
        log_in(client)
    clients[0].get("/read/", REMOTE_ADDR="198.51.100.99")
    clients[0].defaults["REMOTE_ADDR"] = "198.51.100.99"
    assert SessionEvent.objects.filter(kind=EventKind.IP_CHANGED).exists()
    return clients


def test_at_the_defaults_nothing_is_read_or_changed(
    browsers: list[Client], django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        assert forget_untracked() == Forgotten(sessions=0, events=0)


def test_tracking_off_removes_old_addresses_and_browsers(
    engine: str, user: Any, browsers: list[Client], settings: Any
) -> None:
    settings.SESSIONGUARD_TRACK_IP = False
    settings.SESSIONGUARD_TRACK_USER_AGENT = False
    settings.SESSIONGUARD_IP_CHANGE = "ignore"

    forgotten = forget_untracked(batch_size=1)

    assert forgotten.sessions == 2
    assert forgotten.events == SessionEvent.objects.count()
    text = table_text() + cache_text()
    for value in ("198.51.100.", "PrivacyProbe", *DERIVED):
        assert value not in text
    changed = SessionEvent.objects.get(kind=EventKind.IP_CHANGED)
    assert changed.detail == {"from": None, "to": None}
    # Nobody is signed out, and a second run has nothing left to do.
    for client in browsers:
        assert client.get("/read/").json()["user"] == "alice"
    assert forget_untracked() == Forgotten(sessions=0, events=0)


def test_anonymizing_cuts_old_addresses_to_their_network(
    engine: str, user: Any, browsers: list[Client], settings: Any
) -> None:
    settings.SESSIONGUARD_ANONYMIZE_IP = True
    settings.SESSIONGUARD_IP_CHANGE = "revoke"

    forget_untracked()

    assert set(Session.objects.values_list("ip_address", flat=True)) == {"198.51.100.0"}
    assert set(SessionEvent.objects.values_list("ip_address", flat=True)) == {
        "198.51.100.0"
    }
    text = table_text() + cache_text()
    assert IP not in text
    assert "198.51.100.99" not in text
    assert "PrivacyProbe" in text  # User-Agents are still tracked
    # The cached copies were dropped, not left with full addresses: the next
    # request reads the corrected row and is not an IP change.
    for client in browsers:
        assert client.get("/read/").json()["user"] == "alice"
    assert SessionEvent.objects.filter(kind=EventKind.IP_CHANGED).count() == 1


def test_rejects_a_bad_batch_size() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        forget_untracked(batch_size=0)
