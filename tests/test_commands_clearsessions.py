"""``clearsessions``: expired rows go in batches, live ones stay, cron stays quiet."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, SessionBase
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.crypto import get_random_string

from django_sessionguard.keys import hash_key, reference_for
from django_sessionguard.models import Session
from tests.conftest import server_database

pytestmark = pytest.mark.django_db


class SessionStore(SessionBase):
    """An engine that is not ours (``SESSION_ENGINE = __name__``)."""

    cleared: list[str] = []

    @classmethod
    def clear_expired(cls) -> None:
        cls.cleared.append("clear_expired")


def make_rows(count: int, *, expires_in: timedelta) -> set[str]:
    """``count`` rows expiring in ``expires_in`` (negative: already expired)."""
    expire_date = timezone.now() + expires_in
    rows = []
    for _ in range(count):
        key_hash = hash_key(get_random_string(32, VALID_KEY_CHARS))
        rows.append(
            Session(
                key_hash=key_hash,
                reference=reference_for(key_hash),
                session_data="",
                expire_date=expire_date,
            )
        )
    Session.objects.bulk_create(rows)
    return {row.key_hash for row in rows}


class Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def test_expired_rows_go_and_live_rows_stay(engine: str) -> None:
    live = make_rows(3, expires_in=timedelta(hours=1))
    make_rows(7, expires_in=timedelta(seconds=-1))
    out = StringIO()
    call_command("clearsessions", stdout=out)
    assert out.getvalue() == "Deleted 7 expired sessions.\n"
    assert set(Session.objects.values_list("key_hash", flat=True)) == live


def test_quiet_at_verbosity_zero(engine: str) -> None:
    make_rows(2, expires_in=timedelta(seconds=-1))
    out = Terminal()
    call_command("clearsessions", verbosity=0, stdout=out)
    assert out.getvalue() == ""
    assert not Session.objects.exists()


def test_each_batch_is_one_bounded_delete(engine: str) -> None:
    make_rows(5, expires_in=timedelta(seconds=-1))
    out = StringIO()
    with CaptureQueriesContext(connection) as queries:
        call_command("clearsessions", batch_size=2, verbosity=2, stdout=out)
    assert out.getvalue().splitlines() == [
        "Deleted 2 expired sessions (2 so far).",
        "Deleted 2 expired sessions (4 so far).",
        "Deleted 1 expired sessions (5 so far).",
        "Deleted 5 expired sessions.",
    ]
    statements = [q["sql"].split()[0] for q in queries.captured_queries]
    # Keys of one batch, then a DELETE of exactly those keys; the short last
    # batch ends the loop without another SELECT.
    assert statements == ["SELECT", "DELETE"] * 3


def test_progress_bar_only_on_a_terminal(engine: str) -> None:
    make_rows(4, expires_in=timedelta(seconds=-1))
    tty = Terminal()
    call_command("clearsessions", batch_size=3, stdout=tty)
    drawn = tty.getvalue()
    assert drawn.startswith("\rDeleting expired sessions [")
    assert "100%  4/4" in drawn
    assert drawn.endswith("\nDeleted 4 expired sessions.\n")

    make_rows(4, expires_in=timedelta(seconds=-1))
    piped = StringIO()
    call_command("clearsessions", batch_size=3, stdout=piped)
    assert piped.getvalue() == "Deleted 4 expired sessions.\n"


@pytest.mark.parametrize("size", [0, -1])
def test_batch_size_must_be_positive(engine: str, size: int) -> None:
    make_rows(1, expires_in=timedelta(seconds=-1))
    with pytest.raises(CommandError, match="--batch-size must be a positive"):
        call_command("clearsessions", batch_size=size)
    assert Session.objects.count() == 1


def test_another_engine_clears_its_own_way(settings: Any) -> None:
    settings.SESSION_ENGINE = __name__
    SessionStore.cleared.clear()
    err = StringIO()
    call_command("clearsessions", batch_size=10, stderr=err)
    assert SessionStore.cleared == ["clear_expired"]
    assert "--batch-size applies to django-sessionguard's engines only" in (
        err.getvalue()
    )


def test_an_engine_that_cannot_clear_is_a_clear_error(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SESSION_ENGINE = __name__
    monkeypatch.setattr(SessionStore, "clear_expired", SessionBase.clear_expired)
    with pytest.raises(CommandError, match="doesn't support clearing expired"):
        call_command("clearsessions")


@server_database
def test_five_thousand_expired_rows_in_five_batches_on_a_server_database(
    engine: str,
) -> None:
    live = make_rows(250, expires_in=timedelta(hours=1))
    make_rows(5_000, expires_in=timedelta(minutes=-5))
    out = StringIO()
    with CaptureQueriesContext(connection) as queries:
        call_command("clearsessions", batch_size=1000, verbosity=2, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[:5] == [
        f"Deleted 1000 expired sessions ({n} so far)." for n in range(1000, 5001, 1000)
    ]
    assert lines[5:] == ["Deleted 5000 expired sessions."]
    statements = [q["sql"].split()[0] for q in queries.captured_queries]
    # Five full batches, then one SELECT finding nothing: no giant DELETE.
    assert statements == ["SELECT", "DELETE"] * 5 + ["SELECT"]
    assert not Session.objects.filter(expire_date__lte=timezone.now()).exists()
    assert set(Session.objects.values_list("key_hash", flat=True)) == live
