"""``sessionguard_erase_user``: a privacy request ends sessions and erases history."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from django_sessionguard.events import EventKind
from django_sessionguard.models import Session, SessionEvent

pytestmark = pytest.mark.django_db


def signed_in(username: str) -> Client:
    client = Client(REMOTE_ADDR="198.51.100.9")
    response = client.post("/login/", {"username": username, "password": "pw"})
    assert response.status_code == 302, response.content
    return client


@pytest.fixture
def bob(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("bob", password="pw")


def test_ends_sessions_and_deletes_their_events_only(
    engine: str, user: Any, bob: Any, caplog: pytest.LogCaptureFixture
) -> None:
    alice_clients = [signed_in("alice") for _ in range(2)]
    bob_client = signed_in("bob")
    alice_events = SessionEvent.objects.filter(user=user).count()
    assert alice_events >= 2  # sign-ins at least
    bob_events = set(SessionEvent.objects.filter(user=bob).values_list("pk", flat=True))
    # Alice once acted on Bob's session: that stays in Bob's history.
    acted = SessionEvent.objects.create(
        kind=EventKind.REVOKED_BY_STAFF, user=bob, actor=user
    )

    out = StringIO()
    with caplog.at_level("INFO", logger="django_sessionguard"):
        call_command(
            "sessionguard_erase_user", user="alice", interactive=False, stdout=out
        )

    # Every event about alice is gone, including the revocations just recorded.
    assert out.getvalue() == (
        f"Ended 2 sessions of alice and deleted {alice_events + 2} events.\n"
    )
    assert not Session.objects.filter(user=user).exists()
    assert not SessionEvent.objects.filter(user=user).exists()
    assert set(SessionEvent.objects.values_list("pk", flat=True)) == bob_events | {
        acted.pk
    }
    for client in alice_clients:
        assert client.get("/read/").json()["user"] is None
    assert bob_client.get("/read/").json()["user"] == "bob"
    assert (
        f"sessionguard erase user_id={user.pk} sessions_ended=2 "
        f"events_deleted={alice_events + 2}"
    ) in [record.getMessage() for record in caplog.records]


def test_asks_first_and_a_no_changes_nothing(
    user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed_in("alice")
    events = SessionEvent.objects.count()
    asked: list[str] = []

    def answer(prompt: str) -> str:
        asked.append(prompt)
        return "no"

    monkeypatch.setattr("builtins.input", answer)
    with pytest.raises(CommandError, match="Erasure cancelled"):
        call_command("sessionguard_erase_user", user="alice")
    assert "permanently deletes" in asked[0]
    assert Session.objects.count() == 1
    assert SessionEvent.objects.count() == events


def test_in_batches(user: Any) -> None:
    SessionEvent.objects.bulk_create(
        SessionEvent(kind=EventKind.LOGIN, user=user) for _ in range(7)
    )
    out = StringIO()
    call_command(
        "sessionguard_erase_user",
        user="alice",
        batch_size=3,
        interactive=False,
        stdout=out,
    )
    assert out.getvalue() == "Ended 0 sessions of alice and deleted 7 events.\n"


def test_unknown_user() -> None:
    with pytest.raises(CommandError, match="No user with username or id 'ghost'"):
        call_command("sessionguard_erase_user", user="ghost", interactive=False)


def test_batch_size_must_be_positive(user: Any) -> None:
    with pytest.raises(CommandError, match="--batch-size must be a positive"):
        call_command(
            "sessionguard_erase_user", user="alice", batch_size=-3, interactive=False
        )
