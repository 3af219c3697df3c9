"""The GDPR-relevant operations: erasing one user's session history, and retention.

``django_sessionguard.services.erase_user_history`` is the function behind
``manage.py sessionguard_erase_user`` (whose own tests are in
``test_commands_erase_user``): here the function itself, as a project's
"delete my data" view would call it, and what is left afterwards anywhere the
user's addresses and browsers were kept.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.db import connections
from django.test import Client
from django.utils import timezone

from django_sessionguard import services
from django_sessionguard.events import EventKind
from django_sessionguard.models import Session, SessionEvent
from tests.lifecycle_support import log_in
from tests.privacy_support import (
    IP,
    USER_AGENT,
    cache_text,
    table_text,
)

pytestmark = pytest.mark.django_db

BOB_IP = "192.0.2.61"


@pytest.fixture
def bob(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("bob", password="pw")


@pytest.fixture
def histories(user: Any, bob: Any) -> dict[str, Any]:
    """Alice on two devices with an IP change, Bob on one; Alice once acted on Bob."""
    alice = [Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=USER_AGENT) for _ in range(2)]
    for browser in alice:
        log_in(browser)
    alice[0].get("/read/", REMOTE_ADDR="198.51.100.78")  # ip_changed (logged)
    bobs = Client(REMOTE_ADDR=BOB_IP, HTTP_USER_AGENT="BobBrowser/1.0")
    log_in(bobs, username="bob")
    acted = SessionEvent.objects.create(
        kind=EventKind.REVOKED_BY_STAFF, user=bob, actor=user
    )
    return {"alice": alice, "bob": bobs, "acted": acted}


def test_erase_user_history_leaves_nothing_of_the_user(
    engine: str, user: Any, bob: Any, histories: dict[str, Any]
) -> None:
    assert SessionEvent.objects.filter(kind=EventKind.IP_CHANGED).exists()
    bob_events = set(SessionEvent.objects.filter(user=bob).values_list("pk", flat=True))

    erasure = services.erase_user_history(user)

    assert erasure.sessions_ended == 2
    assert erasure.events_deleted >= 5  # 2 sign-ins, 1 IP change, 2 revocations
    assert not Session.objects.filter(user=user).exists()
    assert not SessionEvent.objects.filter(user=user).exists()
    # Alice's addresses and browser are nowhere: rows, events, cache.
    remaining = table_text() + cache_text()
    assert "198.51.100." not in remaining
    assert "PrivacyProbe" not in remaining
    # Bob's history is his, including what Alice did to his session.
    assert set(SessionEvent.objects.values_list("pk", flat=True)) == bob_events
    assert histories["acted"].pk in bob_events
    assert BOB_IP in remaining
    # Her browsers are signed out everywhere; Bob's is not.
    for browser in histories["alice"]:
        assert browser.get("/read/").json()["user"] is None
    assert histories["bob"].get("/read/").json()["user"] == "bob"


def test_erase_user_history_logs_counts_only(
    user: Any, histories: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="django_sessionguard")
    erasure = services.erase_user_history(user)
    lines = [
        record.getMessage()
        for record in caplog.records
        if record.getMessage().startswith("sessionguard erase")
    ]
    assert lines == [
        f"sessionguard erase user_id={user.pk} sessions_ended=2 "
        f"events_deleted={erasure.events_deleted}"
    ]


def test_erase_user_history_in_batches(user: Any) -> None:
    SessionEvent.objects.bulk_create(
        SessionEvent(kind=EventKind.LOGIN, user=user, ip_address=IP) for _ in range(7)
    )
    erasure = services.erase_user_history(user, batch_size=2)
    assert (erasure.sessions_ended, erasure.events_deleted) == (0, 7)
    assert not SessionEvent.objects.exists()


def test_erase_user_history_rejects_a_bad_batch_size(user: Any) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        services.erase_user_history(user, batch_size=0)


@pytest.mark.django_db(transaction=True)
def test_async_twin(user: Any) -> None:
    log_in(Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=USER_AGENT))
    try:
        erasure = asyncio.run(services.aerase_user_history(user))
    finally:
        # Outside async_to_sync, sync_to_async runs the erasure in asgiref's
        # own worker thread, whose database connection nothing else closes:
        # left open, it kept PostgreSQL from dropping the test database.
        asyncio.run(sync_to_async(connections.close_all)())
    assert erasure.sessions_ended == 1
    assert not SessionEvent.objects.filter(user=user).exists()


def test_the_command_and_the_function_agree(
    user: Any, histories: dict[str, Any]
) -> None:
    events = SessionEvent.objects.filter(user=user).count()
    out = StringIO()
    call_command("sessionguard_erase_user", user="alice", interactive=False, stdout=out)
    # The command's count includes the two revocations it records first.
    assert out.getvalue() == (
        f"Ended 2 sessions of alice and deleted {events + 2} events.\n"
    )


# -- retention -------------------------------------------------------------------


def test_retention_removes_old_addresses(settings: Any, user: Any) -> None:
    """Events, the only place an ended session's address stays, age out."""
    settings.SESSIONGUARD_EVENT_RETENTION = timedelta(days=30)
    old = timezone.now() - timedelta(days=31)
    SessionEvent.objects.create(
        kind=EventKind.LOGIN, user=user, ip_address=IP, timestamp=old
    )
    kept = SessionEvent.objects.create(
        kind=EventKind.LOGIN, user=user, ip_address="192.0.2.1"
    )
    call_command("sessionguard_purge_events", verbosity=0)
    assert list(SessionEvent.objects.values_list("pk", flat=True)) == [kept.pk]
    assert IP not in table_text()
