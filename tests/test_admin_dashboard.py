"""The sessions dashboard: figures, chart, security events, cache, permission."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from django_sessionguard.admin import dashboard
from django_sessionguard.events import EventKind
from django_sessionguard.models import Session, SessionEvent
from tests.test_admin_helpers import (
    DASHBOARD,
    make_superuser,
    make_user,
    staff_client,
)
from tests.user_sessions import (
    ANDROID_FIREFOX,
    IPHONE_SAFARI,
    UBUNTU_FIREFOX,
    WINDOWS_CHROME,
    start_session,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene() -> dict[str, Any]:
    """Alice on three devices, Bob on one, an anonymous visitor, an expired row,
    sign-ins spread over the month and a few security events."""
    root = make_superuser()
    client = staff_client(root)  # a desktop Chrome session of its own
    alice, bob = make_user("alice"), make_user("bob")
    start_session(alice, user_agent=WINDOWS_CHROME)
    start_session(alice, user_agent=IPHONE_SAFARI)
    start_session(alice, user_agent=ANDROID_FIREFOX)
    start_session(bob, user_agent=UBUNTU_FIREFOX)
    Client(HTTP_USER_AGENT=UBUNTU_FIREFOX).get("/write/")  # anonymous
    _cookie, expired = start_session(bob, user_agent=IPHONE_SAFARI)
    Session.objects.filter(reference=expired).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    SessionEvent.objects.all().delete()
    now = timezone.now()
    logins = {0: 3, 1: 1, 6: 5, 29: 2, 30: 7}  # days ago: sign-ins (30 is too old)
    SessionEvent.objects.bulk_create(
        SessionEvent(
            kind=EventKind.LOGIN, user=alice, timestamp=now - timedelta(days=d)
        )
        for d, count in logins.items()
        for _ in range(count)
    )
    SessionEvent.objects.create(
        kind=EventKind.EVICTED,
        user=alice,
        ip_address="203.0.113.9",
        device="Firefox on Android",
    )
    SessionEvent.objects.create(
        kind=EventKind.REVOKED_BY_STAFF,
        user=bob,
        actor=root,
        timestamp=now - timedelta(minutes=5),
    )
    SessionEvent.objects.create(kind=EventKind.LOGOUT, user=bob)
    return {"client": client, "root": root, "alice": alice, "bob": bob}


def test_figures(scene: dict[str, Any]) -> None:
    stats = dashboard.compute_stats()
    assert stats["active_sessions"] == 6  # staff, alice x3, bob, anonymous
    assert stats["signed_in_sessions"] == 5
    assert stats["anonymous_sessions"] == 1
    assert stats["active_users"] == 3
    # Desktop: the staff member, alice's Windows, bob's and the visitor's Ubuntu.
    assert stats["devices"] == [("desktop", 4), ("mobile", 2)]
    assert dict(stats["browsers"]) == {
        "Chrome": 2,
        "Mobile Safari": 1,
        "Firefox Mobile": 1,
        "Firefox": 2,
    }
    # Most sessions first, ties by user id (root was created before bob).
    assert stats["top_users"] == [
        (scene["alice"].pk, "alice", 3),
        (scene["root"].pk, "root", 1),
        (scene["bob"].pk, "bob", 1),
    ]
    signins = stats["signins"]
    assert len(signins) == 30
    today = timezone.localdate()
    assert signins[-1] == (today, 3)
    assert signins[-2] == (today - timedelta(days=1), 1)
    assert signins[-7] == (today - timedelta(days=6), 5)
    assert signins[0] == (today - timedelta(days=29), 2)
    assert sum(count for _day, count in signins) == 11


def test_page(scene: dict[str, Any]) -> None:
    response = scene["client"].get(DASHBOARD)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Sessions dashboard" in html
    assert '<div id="content-main" class="sg-dashboard">' in html
    for text in (
        "active sessions",
        "users signed in now",
        "Mobile Safari",
        "Firefox Mobile",
        "Desktop",
        "alice",
        "Evicted by the session limit",
        "Revoked by staff",
        "203.0.113.9",
        "11 sign-ins in the last 30 days.",
    ):
        assert text in html, text
    assert "Signed out" not in html  # not a security event
    # The admin's look: its stylesheet, header and breadcrumbs.
    assert "admin/css/base.css" in html
    assert 'id="header"' in html
    assert "/admin/django_sessionguard/" in html


def test_chart_is_inline_svg_with_a_bar_a_day(scene: dict[str, Any]) -> None:
    html = scene["client"].get(DASHBOARD).content.decode()
    (svg,) = re.findall(r'<svg class="sg-bar-chart".*?</svg>', html, flags=re.S)
    bars = re.findall(
        r'<rect class="sg-bar" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" '
        r'height="([\d.]+)"',
        svg,
    )
    assert len(bars) == 30
    heights = [float(height) for *_rest, height in bars]
    assert heights[-7] == max(heights) > heights[-1] > heights[-2] > 0
    assert heights[1] == 0
    assert "<title>" in svg
    # No script, no stylesheet or font from elsewhere.
    assert not re.search(r'(src|href)="https?://', html)


def test_chart_numbers_are_not_localized(scene: dict[str, Any], settings: Any) -> None:
    settings.LANGUAGE_CODE = "de"
    html = scene["client"].get(DASHBOARD).content.decode()
    (svg,) = re.findall(r'<svg class="sg-bar-chart".*?</svg>', html, flags=re.S)
    assert re.findall(r'="\d+,\d+"', svg) == []
    assert re.search(r'x="\d+\.\d+"', svg)


def test_figures_are_cached(
    scene: dict[str, Any], django_assert_num_queries: Any
) -> None:
    client = scene["client"]
    client.get(DASHBOARD)
    start_session(make_user("newcomer"))
    html = client.get(DASHBOARD).content.decode()
    assert "newcomer" not in html  # still the cached figures
    cache.delete(dashboard.cache_key())
    assert "newcomer" in client.get(DASHBOARD).content.decode()


def test_cache_is_per_time_zone(scene: dict[str, Any], settings: Any) -> None:
    utc_key = dashboard.cache_key()
    settings.TIME_ZONE = "Asia/Tokyo"
    assert dashboard.cache_key() != utc_key


def test_security_events_need_the_events_permission(scene: dict[str, Any]) -> None:
    viewer = staff_client(make_user("viewer", staff=True, perms=("view_session",)))
    html = viewer.get(DASHBOARD).content.decode()
    assert "active sessions" in html
    assert "Recent security events" not in html
    assert "Evicted by the session limit" not in html


def test_staff_without_session_permission_get_403(scene: dict[str, Any]) -> None:
    events_only = staff_client(
        make_user("auditor", staff=True, perms=("view_sessionevent",))
    )
    assert events_only.get(DASHBOARD).status_code == 403


def test_quiet_site(db: Any) -> None:
    """Only the staff member's own session, and no events at all."""
    client = staff_client(make_superuser())
    SessionEvent.objects.all().delete()
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    html = response.content.decode()
    assert "No security events recorded." in html
    assert "0 sign-ins in the last 30 days." in html
    assert html.count('<rect class="sg-bar"') == 30
    assert 'height="0.0"' in html or 'height="0"' in html


def test_no_sessions_at_all(db: Any) -> None:
    stats = dashboard.compute_stats()
    assert stats["active_sessions"] == stats["active_users"] == 0
    assert dashboard.device_shares(stats, "/x/") == []
    assert dashboard.browser_shares(stats, "/x/") == []
    assert dashboard.bar_chart(stats["signins"]).total == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 1),
        (1, 1),
        (2, 2),
        (3, 3),
        (7, 8),
        (9, 10),
        (10, 10),
        (11, 20),
        (21, 30),
        (4500, 5000),
        (6100, 8000),
    ],
)
def test_nice_ceiling(value: int, expected: int) -> None:
    assert dashboard.nice_ceiling(value) == expected


def test_bar_geometry() -> None:
    today = timezone.localdate()
    series = [
        (today - timedelta(days=2 - i), count) for i, count in enumerate([0, 5, 10])
    ]
    chart = dashboard.bar_chart(series, width=100 + 44 + 8, height=100 + 12 + 28)
    assert [bar.height for bar in chart.bars] == [0, 50, 100]
    assert chart.bars[2].y == 12  # the tallest bar reaches the top of the plot
    assert all(bar.y + bar.height == chart.baseline for bar in chart.bars)
    assert [tick.label for tick in chart.y_ticks] == ["0", "5", "10"]
    assert chart.total == 15


def test_every_link_leads_to_a_filtered_list(scene: dict[str, Any]) -> None:
    client = scene["client"]
    html = client.get(DASHBOARD).content.decode()
    main = html[html.index('<div id="content-main"') :]
    links = set(re.findall(r'href="(/admin/[^"]+)"', main))
    assert len(links) >= 8
    for link in sorted(links):
        response = client.get(link.replace("&amp;", "&"))
        assert response.status_code == 200, link  # not the "?e=1" redirect
    security = next(link for link in links if "kind__in" in link)
    shown = client.get(security.replace("&amp;", "&")).context["cl"].result_list
    assert {event.kind for event in shown} == {"evicted", "revoked_staff"}
    alice = next(link for link in links if f"user={scene['alice'].pk}" in link)
    sessions = client.get(alice.replace("&amp;", "&")).context["cl"].result_list
    assert {session.user_id for session in sessions} == {scene["alice"].pk}
