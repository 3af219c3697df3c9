"""What the site does not track, pages show as "—" (JSON: null).

Sessions and events are first recorded with tracking on, then tracking is
turned off: pages must neither show the old values nor pretend to know
("Unknown browser"): the devices page, its JSON API, and the admin's session
and event lists and pages, dashboard, user page and CSV export.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from django_sessionguard.events import EventKind
from django_sessionguard.models import SessionEvent
from tests.test_admin_helpers import (
    DASHBOARD,
    EVENTS,
    EXPORT,
    SESSIONS,
    change_url,
    make_superuser,
    staff_client,
    user_change_url,
)
from tests.user_sessions import IPHONE_SAFARI, UBUNTU_FIREFOX, SignedIn, sign_in

pytestmark = pytest.mark.django_db

DASH = "—"
IP = "198.51.100.77"
OTHER_IP = "192.0.2.45"
#: What tracking on shows of UBUNTU_FIREFOX and IPHONE_SAFARI.
DEVICE_WORDS = ("Firefox", "Ubuntu", "iOS", "Safari", "Mobile Safari")
API = reverse("sessionguard:api-list")
PAGE = reverse("sessionguard:list")


@pytest.fixture
def recorded(user: Any) -> dict[str, Any]:
    """Alice on two devices and an IP change, all recorded with tracking on."""
    laptop = sign_in(user, user_agent=UBUNTU_FIREFOX, ip=IP)
    phone = sign_in(user, user_agent=IPHONE_SAFARI, ip=OTHER_IP)
    SessionEvent.objects.create(
        kind=EventKind.IP_CHANGED,
        user=user,
        session_ref=laptop.reference,
        ip_address=OTHER_IP,
        device="Firefox 126.0 on Ubuntu",
        detail={"from": IP, "to": OTHER_IP},
    )
    SessionEvent.objects.create(  # a sign-in records the device family
        kind=EventKind.LOGIN,
        user=user,
        session_ref=laptop.reference,
        ip_address=IP,
        device="Firefox 126.0 on Ubuntu",
        detail={"device_type": "desktop", "browser": "Firefox", "os": "Ubuntu"},
    )
    SessionEvent.objects.create(
        kind=EventKind.EVICTED,
        user=user,
        ip_address=IP,
        device="Firefox 126.0 on Ubuntu",
    )
    root = make_superuser()
    return {"laptop": laptop, "phone": phone, "root": root, "user": user}


def shows_nothing_tracked(text: str, *, ip: bool = True, device: bool = True) -> None:
    assert DASH in text
    if ip:
        for address in (IP, OTHER_IP, "198.51.100.", "192.0.2."):
            assert address not in text
    if device:
        for word in DEVICE_WORDS:
            # As a word: a random CSRF token or reference may hold "iOS".
            assert not re.search(rf"\b{re.escape(word)}\b", text), word
        assert "Unknown browser" not in text


def off(settings: Any, *names: str) -> None:
    for name in names:
        setattr(settings, f"SESSIONGUARD_{name}", False)


# -- the devices page and its API -------------------------------------------------


def test_control_with_tracking_on_pages_show_the_data(
    engine: str, recorded: dict[str, Any]
) -> None:
    laptop: SignedIn = recorded["laptop"]
    html = laptop.client.get(PAGE).content.decode()
    for shown in (IP, "Firefox", "iOS"):
        assert shown in html
    rows = laptop.client.get(API).json()["sessions"]
    assert {row["ip"] for row in rows} == {IP, OTHER_IP}


def test_devices_page_shows_a_dash(
    engine: str, recorded: dict[str, Any], settings: Any
) -> None:
    off(settings, "TRACK_IP", "TRACK_USER_AGENT")
    laptop: SignedIn = recorded["laptop"]
    html = laptop.client.get(PAGE).content.decode()
    shows_nothing_tracked(html)
    reference = recorded["phone"].reference
    assert f'<dd class="sg-fact__ip" id="sg-{reference}-ip">{DASH}</dd>' in html


@pytest.fixture
def german_dash() -> Any:
    """A German catalogue entry for the dash, as a translator would add it."""
    from django.utils.translation import trans_real

    key = "a value the site does not record\x04" + DASH
    catalog = trans_real.translation("de")._catalog
    catalog[key] = "k. A."
    yield "k. A."
    del catalog._catalogs[0][key]


def test_devices_page_dash_is_translated(
    engine: str, recorded: dict[str, Any], settings: Any, german_dash: str
) -> None:
    off(settings, "TRACK_IP")
    with translation.override("de"):
        html = recorded["laptop"].client.get(PAGE).content.decode()
    assert german_dash in html
    assert IP not in html


def test_api_gives_null(engine: str, recorded: dict[str, Any], settings: Any) -> None:
    off(settings, "TRACK_IP", "TRACK_USER_AGENT")
    rows = recorded["laptop"].client.get(API).json()["sessions"]
    assert len(rows) == 2
    for row in rows:
        for field in (
            "ip",
            "location",
            "device_type",
            "browser",
            "browser_version",
            "os",
            "os_version",
        ):
            assert row[field] is None, field


def test_each_switch_hides_only_its_own_data(
    engine: str, recorded: dict[str, Any], settings: Any
) -> None:
    off(settings, "TRACK_USER_AGENT")
    client = recorded["laptop"].client
    html = client.get(PAGE).content.decode()
    shows_nothing_tracked(html, ip=False)
    assert IP in html
    rows = client.get(API).json()["sessions"]
    assert {row["ip"] for row in rows} == {IP, OTHER_IP}
    assert {row["browser"] for row in rows} == {None}

    settings.SESSIONGUARD_TRACK_USER_AGENT = True
    off(settings, "TRACK_IP")
    html = client.get(PAGE).content.decode()
    shows_nothing_tracked(html, device=False)
    # The laptop's own requests ran with User-Agents off, which cleared its
    # row; the phone's row still holds what was recorded.
    assert "iOS" in html
    assert {row["ip"] for row in client.get(API).json()["sessions"]} == {None}


def test_masked_display_of_an_untracked_address_is_a_dash(
    engine: str, recorded: dict[str, Any], settings: Any
) -> None:
    settings.SESSIONGUARD_MASK_IP = True
    off(settings, "TRACK_IP")
    html = recorded["laptop"].client.get(PAGE).content.decode()
    assert "/24" not in html
    shows_nothing_tracked(html, device=False)


# -- the admin ----------------------------------------------------------------------


@pytest.fixture
def staff(recorded: dict[str, Any], settings: Any) -> Client:
    client = staff_client(recorded["root"])
    off(settings, "TRACK_IP", "TRACK_USER_AGENT")
    return client


def test_admin_sessions_list_and_page(
    engine: str, recorded: dict[str, Any], staff: Client
) -> None:
    shows_nothing_tracked(staff.get(SESSIONS).content.decode())
    page = staff.get(change_url(recorded["laptop"].reference)).content.decode()
    shows_nothing_tracked(page)
    assert page.count(DASH) >= 5  # type, browser, OS, User-Agent, IP


def test_admin_events_list_page_and_csv(
    engine: str, recorded: dict[str, Any], staff: Client
) -> None:
    shows_nothing_tracked(staff.get(EVENTS).content.decode())
    changed = SessionEvent.objects.get(kind=EventKind.IP_CHANGED)
    page = staff.get(
        reverse("admin:django_sessionguard_sessionevent_change", args=[changed.pk])
    ).content.decode()
    shows_nothing_tracked(page)

    response = staff.get(EXPORT)
    text = b"".join(response.streaming_content).decode()
    shows_nothing_tracked(text)
    rows = {row["event"]: row for row in csv.DictReader(io.StringIO(text))}
    assert rows["ip_changed"]["ip_address"] == DASH
    assert rows["ip_changed"]["device"] == DASH
    assert rows["ip_changed"]["detail"] == f'{{"from": "{DASH}", "to": "{DASH}"}}'
    assert rows["login"]["detail"] == (
        f'{{"browser": "{DASH}", "device_type": "{DASH}", "os": "{DASH}"}}'
    )


def test_admin_dashboard(engine: str, recorded: dict[str, Any], staff: Client) -> None:
    html = staff.get(DASHBOARD).content.decode()
    shows_nothing_tracked(html)
    assert "This site does not record devices." in html


def test_admin_user_page(engine: str, recorded: dict[str, Any], staff: Client) -> None:
    html = staff.get(user_change_url(recorded["user"])).content.decode()
    shows_nothing_tracked(html)


def test_admin_control_with_tracking_on(
    engine: str, recorded: dict[str, Any], settings: Any
) -> None:
    client = staff_client(recorded["root"])
    for url in (SESSIONS, EVENTS, DASHBOARD, user_change_url(recorded["user"])):
        html = client.get(url).content.decode()
        assert IP in html, url
        assert "Firefox" in html, url
