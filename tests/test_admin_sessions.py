"""The sessions admin: list, filters, search, detail page, addressing by reference."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qsl

import pytest
from django.contrib.admin.views.main import IS_POPUP_VAR, TO_FIELD_VAR
from django.test import Client
from django.utils import timezone

from django_sessionguard.models import Session
from tests.test_admin_helpers import (
    APP_INDEX,
    DASHBOARD,
    REVOKER,
    SESSIONS,
    STAFF_IP,
    VIEWER,
    change_url,
    make_superuser,
    make_user,
    staff_client,
)
from tests.user_sessions import (
    ANDROID_FIREFOX,
    IPHONE_SAFARI,
    UBUNTU_FIREFOX,
    WINDOWS_CHROME,
    SignedIn,
    sign_in,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def root_session() -> SignedIn:
    return sign_in(make_superuser(), user_agent=WINDOWS_CHROME, ip=STAFF_IP)


@pytest.fixture
def root(root_session: SignedIn) -> Client:
    return root_session.client


@pytest.fixture
def population(root_session: SignedIn) -> dict[str, Any]:
    """Three users on four devices, an anonymous visitor, an expired row, and the
    staff member's own session ("staff")."""
    alice = make_user("alice")
    bob = make_user("bob")
    carol = make_user("carol")
    made = {
        "alice_pc": sign_in(alice, user_agent=WINDOWS_CHROME, ip="203.0.113.5"),
        "alice_phone": sign_in(alice, user_agent=IPHONE_SAFARI, ip="203.0.113.77"),
        "bob_linux": sign_in(bob, user_agent=UBUNTU_FIREFOX, ip="198.51.100.20"),
        "carol_android": sign_in(carol, user_agent=ANDROID_FIREFOX, ip="2001:db8::7"),
    }
    anonymous = Client(HTTP_USER_AGENT=UBUNTU_FIREFOX, REMOTE_ADDR="198.51.100.99")
    anonymous.get("/write/")
    made["anonymous"] = Session.objects.get(user=None, ip_address="198.51.100.99")
    expired = sign_in(carol, user_agent=WINDOWS_CHROME, ip="192.0.2.200")
    Session.objects.filter(reference=expired.reference).update(
        expire_date=timezone.now() - timedelta(minutes=1)
    )
    made["carol_expired"] = expired
    made["staff"] = root_session
    return made


def listed(html: str) -> list[str]:
    """The references of the rows a changelist page links to, in order."""
    return re.findall(r'href="/admin/django_sessionguard/session/([0-9a-f]{32})/', html)


def ref(population: dict[str, Any], name: str) -> str:
    return population[name].reference  # type: ignore[no-any-return]


# -- the list ---------------------------------------------------------------------


def test_list_shows_who_where_what_and_when(
    root: Client, population: dict[str, Any]
) -> None:
    response = root.get(SESSIONS)
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "alice",
        "bob",
        "carol",
        "Anonymous",
        "Chrome 124.0.0 on Windows 10",
        "Mobile Safari 17.4 on iOS 17.4",
        "203.0.113.5",
        "2001:db8::7",
        "Active",
        "Expired",
        "just now",
    ):
        assert text in html, text
    # Every session (the staff member's own included) links to its reference.
    assert len(listed(html)) == Session.objects.count()
    assert set(listed(html)) == set(Session.objects.values_list("reference", flat=True))


def test_list_is_ordered_by_last_activity(
    root: Client, population: dict[str, Any]
) -> None:
    now = timezone.now()
    for minutes, name in enumerate(["bob_linux", "alice_phone", "alice_pc"]):
        Session.objects.filter(reference=ref(population, name)).update(
            last_activity=now - timedelta(days=1, minutes=minutes)
        )
    order = listed(root.get(SESSIONS).content.decode())
    positions = [
        order.index(ref(population, name))
        for name in ["bob_linux", "alice_phone", "alice_pc"]
    ]
    assert positions == sorted(positions)


def test_no_add_no_edit_no_delete(root: Client, population: dict[str, Any]) -> None:
    html = root.get(SESSIONS).content.decode()
    assert "/session/add/" not in html
    assert root.get(SESSIONS + "add/").status_code == 403
    reference = ref(population, "bob_linux")
    response = root.get(change_url(reference))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="_save"' not in page
    assert "/delete/" not in page
    assert (
        root.get(change_url(reference).replace("change", "delete")).status_code == 403
    )
    # A POST to the detail page changes nothing.
    before = Session.objects.get(reference=reference)
    root.post(change_url(reference), {"ip_address": "10.9.9.9"})
    assert Session.objects.get(reference=reference).ip_address == before.ip_address


# -- filters ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "status=active",
            {
                "alice_pc",
                "alice_phone",
                "bob_linux",
                "carol_android",
                "anonymous",
                "staff",
            },
        ),
        ("status=expired", {"carol_expired"}),
        ("authenticated=no", {"anonymous"}),
        ("device_type__exact=mobile", {"alice_phone", "carol_android"}),
        ("browser=Firefox", {"bob_linux", "anonymous"}),
        ("browser=Firefox+Mobile", {"carol_android"}),
        ("os=iOS", {"alice_phone"}),
        ("os=Android", {"carol_android"}),
    ],
)
def test_filters(
    root: Client, population: dict[str, Any], query: str, expected: set[str]
) -> None:
    refs = {name: ref(population, name) for name in population}
    found = set(listed(root.get(f"{SESSIONS}?{query}").content.decode()))
    assert found == {refs[name] for name in expected}


def test_authenticated_filter_keeps_signed_in_sessions(
    root: Client, population: dict[str, Any]
) -> None:
    found = set(listed(root.get(f"{SESSIONS}?authenticated=yes").content.decode()))
    assert ref(population, "anonymous") not in found
    assert ref(population, "alice_pc") in found


def test_family_filters_offer_the_families_seen(
    root: Client, population: dict[str, Any]
) -> None:
    html = root.get(SESSIONS).content.decode()
    for family in ("?browser=Chrome", "?browser=Firefox", "?os=iOS", "?os=Ubuntu"):
        assert family in html, family


def test_date_filters(root: Client, population: dict[str, Any]) -> None:
    old = timezone.now() - timedelta(days=40)
    Session.objects.filter(reference=ref(population, "bob_linux")).update(
        last_activity=old, authenticated_at=old
    )
    # What the filters' "Past 7 days" links send: aware midnights.
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    since = str(today - timedelta(days=7))
    until = str(today + timedelta(days=1))
    recent = set(
        listed(
            root.get(
                SESSIONS,
                {"last_activity__gte": since, "last_activity__lt": until},
            ).content.decode()
        )
    )
    assert ref(population, "bob_linux") not in recent
    assert ref(population, "alice_pc") in recent
    signed_in_recently = set(
        listed(
            root.get(
                SESSIONS,
                {"authenticated_at__gte": since, "authenticated_at__lt": until},
            ).content.decode()
        )
    )
    assert ref(population, "bob_linux") not in signed_in_recently
    assert ref(population, "anonymous") not in signed_in_recently
    assert ref(population, "carol_android") in signed_in_recently


def test_date_hierarchy(root: Client, population: dict[str, Any]) -> None:
    now = timezone.localtime()
    html = root.get(
        SESSIONS, {"last_activity__year": now.year, "last_activity__month": now.month}
    ).content.decode()
    assert '<nav class="toplinks"' in html
    assert 'class="date-back"' in html
    assert ref(population, "alice_pc") in listed(html)


def hierarchy_links(html: str) -> list[dict[str, str]]:
    """The date hierarchy's drill-down links, as their query parameters."""
    nav = re.search(r'<nav class="toplinks".*?</nav>', html, flags=re.S)
    assert nav is not None
    links = re.findall(r'<a href="\?([^"]+)"(?! class="date-back")', nav.group(0))
    return [dict(parse_qsl(unescape(link))) for link in links]


def test_date_hierarchy_lists_the_periods_between_first_and_last(
    root: Client, population: dict[str, Any]
) -> None:
    """Periods come from MIN/MAX (one indexed query), not a DISTINCT over rows."""
    now = timezone.localtime()
    first = datetime(now.year - 1, 11, 3, 12, tzinfo=now.tzinfo)
    Session.objects.update(last_activity=now)
    Session.objects.filter(reference=ref(population, "bob_linux")).update(
        last_activity=first
    )
    years = hierarchy_links(root.get(SESSIONS).content.decode())
    assert [link["last_activity__year"] for link in years] == [
        str(now.year - 1),
        str(now.year),
    ]
    months = hierarchy_links(
        root.get(SESSIONS, {"last_activity__year": now.year - 1}).content.decode()
    )
    assert [link["last_activity__month"] for link in months] == ["11"]
    days = hierarchy_links(
        root.get(
            SESSIONS, {"last_activity__year": now.year - 1, "last_activity__month": 11}
        ).content.decode()
    )
    assert [link["last_activity__day"] for link in days] == ["3"]
    # Other filters do not narrow the range (that would cost a scan).
    filtered = hierarchy_links(
        root.get(SESSIONS, {"authenticated": "no"}).content.decode()
    )
    assert [link["last_activity__year"] for link in filtered] == [
        str(now.year - 1),
        str(now.year),
    ]


def test_user_filter(root: Client, population: dict[str, Any]) -> None:
    alice = Session.objects.get(reference=ref(population, "alice_pc")).user
    html = root.get(SESSIONS, {"user": alice.pk}).content.decode()
    assert set(listed(html)) == {
        ref(population, "alice_pc"),
        ref(population, "alice_phone"),
    }
    assert root.get(SESSIONS, {"user": "not-a-pk"}).status_code == 200
    assert listed(root.get(SESSIONS, {"user": "999999"}).content.decode()) == []


# -- search ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("alice", {"alice_pc", "alice_phone"}),
        ("ALI", {"alice_pc", "alice_phone"}),
        ("bob@example.com", {"bob_linux"}),
        ("203.0.113.5", {"alice_pc"}),
        ("203.0.113.", {"alice_pc", "alice_phone"}),
        ("203.0.113", {"alice_pc", "alice_phone"}),
        ("203.0.113.0/24", {"alice_pc", "alice_phone"}),
        ("198.51.100.16/28", {"bob_linux"}),
        ("198.51", {"bob_linux", "anonymous"}),
        ("2001:db8:", {"carol_android"}),
        ("2001:db8::/32", {"carol_android"}),
        ("2001:db8::7", {"carol_android"}),
        ("nobody-by-that-name", set()),
    ],
)
def test_search(
    root: Client, population: dict[str, Any], term: str, expected: set[str]
) -> None:
    refs = {name: ref(population, name) for name in population}
    found = set(listed(root.get(SESSIONS, {"q": term}).content.decode()))
    assert found == {refs[name] for name in expected}


def test_search_by_reference(root: Client, population: dict[str, Any]) -> None:
    reference = ref(population, "bob_linux")
    assert listed(root.get(SESSIONS, {"q": reference}).content.decode()) == [reference]


# -- the detail page --------------------------------------------------------------


def test_detail_page_by_reference(root: Client, population: dict[str, Any]) -> None:
    reference = ref(population, "alice_phone")
    response = root.get(change_url(reference))
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        reference,
        "alice",
        "Mobile Safari 17.4",
        "iOS 17.4",
        "203.0.113.77",
        IPHONE_SAFARI,
        "Revoke this session",
        "Events",
    ):
        assert text in html, text


def test_detail_page_is_not_reachable_by_primary_key(
    root: Client, population: dict[str, Any]
) -> None:
    row = Session.objects.get(reference=ref(population, "alice_phone"))
    response = root.get(change_url(row.pk))
    assert response.status_code == 302  # Django's "doesn't exist" redirect
    assert response["Location"] == "/admin/"


def test_history_is_the_audit_trail(root: Client, population: dict[str, Any]) -> None:
    reference = ref(population, "bob_linux")
    response = root.get(change_url(reference).replace("change/", "history/"))
    assert response.status_code == 302
    assert response["Location"].endswith(f"?q={reference}")


def test_popup_and_to_field_never_print_the_key(
    root: Client, population: dict[str, Any]
) -> None:
    key_hash = Session.objects.get(reference=ref(population, "bob_linux")).pk
    html = root.get(
        SESSIONS, {IS_POPUP_VAR: "1", TO_FIELD_VAR: "key_hash"}
    ).content.decode()
    assert key_hash not in html
    assert "data-popup-opener" not in html


# -- who may see it ---------------------------------------------------------------


def test_view_only_staff_see_the_list_without_revoke_controls(
    population: dict[str, Any],
) -> None:
    viewer = staff_client(make_user("viewer", staff=True, perms=VIEWER))
    html = viewer.get(SESSIONS).content.decode()
    assert set(listed(html)) >= {ref(population, "alice_pc")}
    assert "revoke_selected" not in html
    assert 'name="_selected_action"' not in html
    detail = viewer.get(change_url(ref(population, "alice_pc"))).content.decode()
    assert "Revoke this session" not in detail


def test_revoking_staff_see_the_actions(population: dict[str, Any]) -> None:
    revoker = staff_client(make_user("revoker", staff=True, perms=REVOKER))
    html = revoker.get(SESSIONS).content.decode()
    assert 'value="revoke_selected"' in html
    assert 'value="revoke_users"' in html
    assert f'value="{ref(population, "alice_pc")}"' in html


@pytest.mark.parametrize("url", [SESSIONS, DASHBOARD])
def test_staff_without_permission_get_403(url: str) -> None:
    nobody = staff_client(make_user("nobody", staff=True))
    assert nobody.get(url).status_code == 403


@pytest.mark.parametrize("url", [SESSIONS, DASHBOARD, APP_INDEX])
def test_non_staff_are_sent_to_the_login_page(url: str) -> None:
    user = staff_client(make_user("user"))
    response = user.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_app_index_links_the_dashboard(root: Client) -> None:
    html = root.get(APP_INDEX).content.decode()
    assert DASHBOARD in html
    viewer = staff_client(
        make_user("events-only", staff=True, perms=("view_sessionevent",))
    )
    assert DASHBOARD not in viewer.get(APP_INDEX).content.decode()


def test_changelist_links_the_dashboard(root: Client) -> None:
    assert DASHBOARD in root.get(SESSIONS).content.decode()


# -- location ---------------------------------------------------------------------


@pytest.fixture
def geoip(settings: Any) -> None:
    """A locator configured: a fixed answer per address (tests/locators.py)."""
    settings.SESSIONGUARD_LOCATE = "tests.locators.fixed_places"


def test_no_location_column_without_geoip(
    root: Client, population: dict[str, Any]
) -> None:
    html = root.get(SESSIONS).content.decode()
    assert "column-location_column" not in html


def test_location_column_with_geoip(
    root: Client, population: dict[str, Any], geoip: None
) -> None:
    html = root.get(SESSIONS).content.decode()
    assert "column-location_column" in html
    assert "Lisbon, Portugal" in html
    assert "Osaka, Japan" in html
    detail = root.get(change_url(ref(population, "alice_pc"))).content.decode()
    assert "Lisbon, Portugal" in detail
    alice = Session.objects.get(reference=ref(population, "alice_pc")).user
    user_page = root.get(f"/admin/auth/user/{alice.pk}/change/").content.decode()
    assert "Lisbon, Portugal" in user_page


def test_expired_sessions_are_listed_latest_ending_first(
    root: Client, population: dict[str, Any]
) -> None:
    now = timezone.now()
    ended = []
    for minutes, name in enumerate(["alice_pc", "bob_linux", "carol_expired"]):
        Session.objects.filter(reference=ref(population, name)).update(
            expire_date=now - timedelta(minutes=minutes + 1),
            last_activity=now - timedelta(days=30 - minutes),
        )
        ended.append(ref(population, name))
    assert listed(root.get(SESSIONS, {"status": "expired"}).content.decode()) == ended
    # An explicit order is kept.
    by_activity = listed(
        root.get(SESSIONS, {"status": "expired", "o": "-5"}).content.decode()
    )
    assert by_activity == list(reversed(ended))
