"""``sessionguard_purge_events``: the audit trail's retention, applied in batches."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_sessionguard.events import EventKind
from django_sessionguard.models import SessionEvent

pytestmark = pytest.mark.django_db

SUMMARY = re.compile(r"Deleted (\d+) events older than (\S+)\.")


def events_aged(days: float, count: int = 1) -> list[int]:
    at = timezone.now() - timedelta(days=days)
    events = SessionEvent.objects.bulk_create(
        SessionEvent(kind=EventKind.LOGIN, timestamp=at, session_ref=f"r{i}")
        for i in range(count)
    )
    return [event.pk for event in events]


def summary(out: StringIO) -> tuple[int, str]:
    match = SUMMARY.fullmatch(out.getvalue().splitlines()[-1])
    assert match is not None, out.getvalue()
    return int(match[1]), match[2]


def test_default_retention_is_a_year() -> None:
    events_aged(400, 3)
    kept = events_aged(300, 2)
    out = StringIO()
    call_command("sessionguard_purge_events", stdout=out)
    deleted, cutoff = summary(out)
    assert deleted == 3
    cutoff_at = datetime.fromisoformat(cutoff)
    expected = timezone.now() - timedelta(days=365)
    assert abs((cutoff_at - expected).total_seconds()) < 60
    assert sorted(SessionEvent.objects.values_list("pk", flat=True)) == kept


def test_retention_setting_is_used(settings: Any) -> None:
    settings.SESSIONGUARD_EVENT_RETENTION = timedelta(days=30)
    events_aged(31)
    kept = events_aged(29)
    call_command("sessionguard_purge_events", verbosity=0)
    assert list(SessionEvent.objects.values_list("pk", flat=True)) == kept


def test_older_than_overrides_the_setting(settings: Any) -> None:
    settings.SESSIONGUARD_EVENT_RETENTION = timedelta(days=30)
    events_aged(8)
    kept = events_aged(6)
    out = StringIO()
    call_command("sessionguard_purge_events", older_than=7, stdout=out)
    assert summary(out)[0] == 1
    assert list(SessionEvent.objects.values_list("pk", flat=True)) == kept


def test_retention_none_refuses_without_older_than(settings: Any) -> None:
    settings.SESSIONGUARD_EVENT_RETENTION = None
    events_aged(5000)
    with pytest.raises(CommandError, match=r"kept forever.*--older-than DAYS"):
        call_command("sessionguard_purge_events")
    assert SessionEvent.objects.count() == 1
    call_command("sessionguard_purge_events", older_than=10, verbosity=0)
    assert not SessionEvent.objects.exists()


def test_batches_are_bounded_deletes_of_known_ids() -> None:
    events_aged(400, 5)
    out = StringIO()
    with CaptureQueriesContext(connection) as queries:
        call_command("sessionguard_purge_events", batch_size=2, verbosity=2, stdout=out)
    assert out.getvalue().splitlines()[:3] == [
        "Deleted 2 events (2 so far).",
        "Deleted 2 events (4 so far).",
        "Deleted 1 events (5 so far).",
    ]
    assert summary(out)[0] == 5
    statements = [q["sql"].split()[0] for q in queries.captured_queries]
    assert statements == ["SELECT", "DELETE"] * 3


def test_dry_run_counts_only() -> None:
    events_aged(400, 4)
    out = StringIO()
    call_command("sessionguard_purge_events", dry_run=True, stdout=out)
    assert out.getvalue().startswith("Would delete 4 events older than ")
    assert SessionEvent.objects.count() == 4


def test_quiet_at_verbosity_zero_and_progress_on_a_terminal() -> None:
    class Terminal(StringIO):
        def isatty(self) -> bool:
            return True

    events_aged(400, 3)
    quiet = Terminal()
    call_command("sessionguard_purge_events", verbosity=0, stdout=quiet)
    assert quiet.getvalue() == ""
    events_aged(400, 3)
    tty = Terminal()
    call_command("sessionguard_purge_events", stdout=tty)
    assert "\rDeleting events [" in tty.getvalue()
    assert "100%  3/3" in tty.getvalue()


@pytest.mark.parametrize("days", [-1, -30])
def test_negative_older_than(days: int) -> None:
    events_aged(400)
    with pytest.raises(CommandError, match="whole number of days, 0 or more"):
        call_command("sessionguard_purge_events", older_than=days)
    assert SessionEvent.objects.count() == 1


@pytest.mark.parametrize("size", [0, -100])
def test_batch_size_must_be_positive(size: int) -> None:
    with pytest.raises(CommandError, match="--batch-size must be a positive"):
        call_command("sessionguard_purge_events", batch_size=size)


def test_older_than_from_the_command_line_must_be_a_number() -> None:
    with pytest.raises(CommandError, match="invalid int value: 'soon'"):
        call_command("sessionguard_purge_events", "--older-than", "soon")
