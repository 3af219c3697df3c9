"""The events admin: the audit trail, read-only, filterable, exported as CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from django_sessionguard.admin.events import csv_cell
from django_sessionguard.admin.filters import ActorFilter
from django_sessionguard.events import EventKind
from django_sessionguard.models import SessionEvent
from tests.test_admin_helpers import (
    EVENTS,
    EXPORT,
    REVOKER,
    action_post,
    make_superuser,
    make_user,
    staff_client,
)

pytestmark = pytest.mark.django_db

REF_A = "a" * 32
REF_B = "b" * 32


@pytest.fixture
def trail() -> dict[str, Any]:
    """A small audit trail: sign-ins, a staff revocation, an IP change, old news."""
    root = make_superuser()
    client = staff_client(root)
    staff = make_user("moderator", staff=True, perms=REVOKER)
    alice, bob = make_user("alice"), make_user("bob")
    now = timezone.now()
    SessionEvent.objects.all().delete()  # the staff member's own sign-in

    def event(kind: str, **fields: Any) -> SessionEvent:
        return SessionEvent.objects.create(kind=kind, **fields)

    made = {
        "alice_login": event(
            EventKind.LOGIN,
            user=alice,
            session_ref=REF_A,
            ip_address="203.0.113.5",
            device="Chrome 124 on Windows 10",
        ),
        "bob_login": event(
            EventKind.LOGIN,
            user=bob,
            session_ref=REF_B,
            ip_address="198.51.100.20",
            device='=HYPERLINK("http://evil.example","click")',
        ),
        "bob_revoked": event(
            EventKind.REVOKED_BY_STAFF,
            user=bob,
            actor=staff,
            session_ref=REF_B,
            ip_address="198.51.100.20",
            device="Firefox 126 on Ubuntu",
            detail={"reason": "+1 suspicious"},
        ),
        "alice_ip": event(
            EventKind.IP_CHANGED,
            user=alice,
            session_ref=REF_A,
            ip_address="2001:db8::5",
            device="Chrome 124 on Windows 10",
            detail={"from": "203.0.113.5"},
        ),
        "old_logout": event(
            EventKind.LOGOUT,
            user=alice,
            actor=alice,
            session_ref="c" * 32,
            ip_address="192.0.2.1",
            timestamp=now - timedelta(days=90),
        ),
    }
    return {
        "events": made,
        "root": root,
        "staff": staff,
        "alice": alice,
        "bob": bob,
        "client": client,
    }


def shown(client: Client, **params: Any) -> set[int]:
    """Primary keys of the events a changelist page shows (its checkboxes)."""
    response = client.get(EVENTS, params)
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


def pks(trail: dict[str, Any], *names: str) -> set[int]:
    return {trail["events"][name].pk for name in names}


def read_csv(response: Any) -> list[dict[str, str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        'attachment; filename="session-events-'
    )
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


# -- the list -----------------------------------------------------------------------


def test_list_shows_the_trail(trail: dict[str, Any]) -> None:
    html = trail["client"].get(EVENTS).content.decode()
    for text in (
        "Signed in",
        "Revoked by staff",
        "IP address changed",
        "moderator",
        "198.51.100.20",
        "Firefox 126 on Ubuntu",
        REF_A[:12],
    ):
        assert text in html, text
    assert 'class="sg-kind sg-kind--security">Revoked by staff' in html
    assert 'class="sg-kind">Signed in' in html


def test_read_only(trail: dict[str, Any]) -> None:
    client = trail["client"]
    event = trail["events"]["bob_revoked"]
    assert client.get(EVENTS + "add/").status_code == 403
    url = reverse("admin:django_sessionguard_sessionevent_change", args=[event.pk])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "+1 suspicious" in html
    assert 'name="_save"' not in html
    assert client.get(url.replace("change", "delete")).status_code == 403
    assert "delete_selected" not in client.get(EVENTS).content.decode()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind__exact": "login"}, ("alice_login", "bob_login")),
        ({"kind__exact": "revoked_staff"}, ("bob_revoked",)),
        ({"actor": "none"}, ("alice_login", "bob_login", "alice_ip")),
        ({"actor": "staff"}, ("bob_revoked",)),
        ({"user": "BOB"}, ()),  # not a primary key: nothing
    ],
)
def test_filters(
    trail: dict[str, Any], params: dict[str, str], expected: tuple[str, ...]
) -> None:
    assert shown(trail["client"], **params) == pks(trail, *expected)


def test_filter_by_user_and_actor(trail: dict[str, Any]) -> None:
    client = trail["client"]
    assert shown(client, user=trail["bob"].pk) == pks(trail, "bob_login", "bob_revoked")
    assert shown(client, actor=trail["staff"].pk) == pks(trail, "bob_revoked")
    assert shown(client, actor=trail["alice"].pk) == pks(trail, "old_logout")
    html = client.get(EVENTS, {"user": trail["bob"].pk}).content.decode()
    assert f'href="?user={trail["bob"].pk}"' in html  # rows link to the filter


def test_filter_by_date(trail: dict[str, Any]) -> None:
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    recent = shown(
        trail["client"],
        timestamp__gte=str(today - timedelta(days=7)),
        timestamp__lt=str(today + timedelta(days=1)),
    )
    assert recent == pks(trail, "alice_login", "bob_login", "bob_revoked", "alice_ip")


def test_the_actor_filter_offers_staff_members(trail: dict[str, Any]) -> None:
    changelist = trail["client"].get(EVENTS).context["cl"]
    (actor_filter,) = [
        spec for spec in changelist.filter_specs if isinstance(spec, ActorFilter)
    ]
    assert actor_filter.lookup_choices == [
        ("none", "Nobody (the system)"),
        ("staff", "Any staff member"),
        (str(trail["staff"].pk), "moderator"),
        (str(trail["root"].pk), "root"),
    ]


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("alice", ("alice_login", "alice_ip", "old_logout")),
        ("moderator", ("bob_revoked",)),  # the actor
        ("bob@example.com", ("bob_login", "bob_revoked")),
        (REF_A, ("alice_login", "alice_ip")),
        ("198.51.100.20", ("bob_login", "bob_revoked")),
        ("203.0.113.", ("alice_login",)),
        ("2001:db8:", ("alice_ip",)),
    ],
)
def test_search(trail: dict[str, Any], term: str, expected: tuple[str, ...]) -> None:
    assert shown(trail["client"], q=term) == pks(trail, *expected)


# -- CSV export -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+1 suspicious", "'+1 suspicious"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTAB", "'\tTAB"),
        ("\rCR", "'\rCR"),
        ("Chrome on Windows", "Chrome on Windows"),
        ("a=b", "a=b"),
        (None, ""),
        (42, "42"),
    ],
)
def test_csv_cells_cannot_be_formulas(value: Any, expected: str) -> None:
    assert csv_cell(value) == expected


def test_export_the_filtered_list(trail: dict[str, Any]) -> None:
    client = trail["client"]
    html = client.get(EVENTS, {"user": trail["bob"].pk}).content.decode()
    assert f'href="{EXPORT}?user={trail["bob"].pk}"' in html

    rows = read_csv(client.get(EXPORT, {"user": trail["bob"].pk}))
    assert [row["event"] for row in rows] == ["revoked_staff", "login"]
    revoked, login = rows
    assert revoked["event_label"] == "Revoked by staff"
    assert revoked["user"] == "bob"
    assert revoked["actor"] == "moderator"
    assert revoked["session"] == REF_B
    assert revoked["ip_address"] == "198.51.100.20"
    assert revoked["detail"] == '{"reason": "+1 suspicious"}'
    # Attacker-controlled text stays text in a spreadsheet.
    assert login["device"] == '\'=HYPERLINK("http://evil.example","click")'


def test_export_everything_and_searched(trail: dict[str, Any]) -> None:
    client = trail["client"]
    assert len(read_csv(client.get(EXPORT))) == 5
    searched = read_csv(client.get(EXPORT, {"q": "2001:db8:"}))
    assert [row["event"] for row in searched] == ["ip_changed"]


def test_export_selected_with_the_action(trail: dict[str, Any]) -> None:
    chosen = pks(trail, "alice_ip", "old_logout")
    response = trail["client"].post(
        EVENTS, action_post("export_csv", [str(pk) for pk in chosen])
    )
    assert {row["event"] for row in read_csv(response)} == {"ip_changed", "logout"}


def test_export_needs_the_view_permission(trail: dict[str, Any]) -> None:
    sessions_only = staff_client(
        make_user("sessions-only", staff=True, perms=("view_session",))
    )
    assert sessions_only.get(EXPORT).status_code == 403
    assert sessions_only.get(EVENTS).status_code == 403
    outsider = staff_client(make_user("outsider"))
    assert outsider.get(EXPORT).status_code == 302


def test_export_with_bad_filters_is_a_client_error(trail: dict[str, Any]) -> None:
    response = trail["client"].get(EXPORT, {"timestamp__gte": "not a date"})
    assert response.status_code == 400
