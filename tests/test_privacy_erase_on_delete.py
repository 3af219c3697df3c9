"""``SESSIONGUARD_ERASE_ON_USER_DELETE``: deleting a user erases their session
history (``services.erase_user_history``), not only their sessions.

Off (the default), the events stay until the retention, with ``user`` emptied.
The tests are transactional, so PostgreSQL checks the deferred foreign keys at
commit: nothing written while the user is deleted may point at them.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from django_sessionguard.events import EventKind
from django_sessionguard.models import Session, SessionEvent
from tests.lifecycle_support import log_in
from tests.privacy_support import IP, USER_AGENT, cache_text, table_text

pytestmark = pytest.mark.django_db(transaction=True)

BOB_IP = "192.0.2.61"


@pytest.fixture
def alice(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("alice", password="pw")


@pytest.fixture
def bob(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("bob", password="pw")


@pytest.fixture
def histories(alice: Any, bob: Any) -> dict[str, Any]:
    """Alice on two devices, Bob on one; Alice (as staff) once ended Bob's session."""
    browsers = [Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=USER_AGENT) for _ in range(2)]
    for browser in browsers:
        log_in(browser)
    bobs = Client(REMOTE_ADDR=BOB_IP, HTTP_USER_AGENT="BobBrowser/1.0")
    log_in(bobs, username="bob")
    acted = SessionEvent.objects.create(
        kind=EventKind.REVOKED_BY_STAFF, user=bob, actor=alice, ip_address=BOB_IP
    )
    return {"alice": browsers, "bob": bobs, "acted": acted}


def whoami(client: Client) -> str | None:
    user: str | None = client.get("/read/").json()["user"]
    return user


def test_off_by_default_the_history_stays_without_its_user(
    engine: str, alice: Any, histories: dict[str, Any]
) -> None:
    alice.delete()
    assert [whoami(browser) for browser in histories["alice"]] == [None, None]
    assert not Session.objects.filter(user_id=alice.pk).exists()
    # Her sign-ins and the revocations are still there, no longer linked to her.
    left = SessionEvent.objects.filter(ip_address=IP)
    assert left.filter(kind=EventKind.LOGIN).count() == 2
    assert set(left.values_list("user_id", flat=True)) == {None}
    assert IP in table_text()


@pytest.mark.parametrize("how", ["instance", "queryset"])
def test_on_deleting_a_user_erases_their_history(
    engine: str,
    settings: Any,
    alice: Any,
    bob: Any,
    histories: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    how: str,
) -> None:
    settings.SESSIONGUARD_ERASE_ON_USER_DELETE = True
    caplog.set_level("INFO", logger="django_sessionguard")
    bob_events = set(SessionEvent.objects.filter(user=bob).values_list("pk", flat=True))
    pk = alice.pk

    if how == "instance":
        alice.delete()
    else:  # the admin's bulk delete, a shell: one pre_delete per user
        type(alice).objects.filter(username="alice").delete()

    # Nothing of her address or browser is left, and she is signed out everywhere.
    assert not Session.objects.filter(user_id=pk).exists()
    remaining = table_text() + cache_text()
    assert IP not in remaining
    assert "PrivacyProbe" not in remaining
    assert [whoami(browser) for browser in histories["alice"]] == [None, None]
    # Bob's history is his, including what she did to his session (actor now empty).
    assert set(SessionEvent.objects.values_list("pk", flat=True)) == bob_events
    acted = SessionEvent.objects.get(pk=histories["acted"].pk)
    assert (acted.user_id, acted.actor_id) == (bob.pk, None)
    assert whoami(histories["bob"]) == "bob"
    # The erasure leaves its one log line (ids and counts only).
    lines = [
        record.getMessage()
        for record in caplog.records
        if record.getMessage().startswith("sessionguard erase")
    ]
    assert len(lines) == 1
    assert lines[0].startswith(f"sessionguard erase user_id={pk} sessions_ended=2 ")


def test_on_a_user_without_sessions_or_history(
    settings: Any, django_user_model: Any
) -> None:
    settings.SESSIONGUARD_ERASE_ON_USER_DELETE = True
    carol = django_user_model.objects.create_user("carol", password="pw")
    carol.delete()
    assert not django_user_model.objects.filter(username="carol").exists()
    assert not SessionEvent.objects.exists()
