"""``SESSIONGUARD_LOCATE``: a project's own locator names the place of an address
on the devices page, its JSON API and the admin; it is never called for what
the site does not keep, and its failures never fail a page (``E070``, ``W070``,
``W071`` check the settings)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core.checks import CheckMessage
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings
from django.urls import reverse

from django_sessionguard import locations
from django_sessionguard.checks import check_location_settings
from tests import locators
from tests.test_admin_helpers import make_superuser
from tests.test_user_page import FakeGeoIP
from tests.user_sessions import IPHONE_SAFARI, SignedIn, sign_in, start_session

pytestmark = pytest.mark.django_db

LIST = reverse("sessionguard:list")
API = reverse("sessionguard:api-list")
LISBON = "203.0.113.5"


@pytest.fixture(autouse=True)
def asked() -> list[str]:
    """The addresses ``tests.locators.fixed_places`` is asked about in this test."""
    locators.ASKED.clear()
    return locators.ASKED


@pytest.fixture
def desktop(user: Any) -> SignedIn:
    return sign_in(user)  # 127.0.0.1: the locator does not know it


@pytest.fixture
def phone(user: Any) -> SignedIn:
    return sign_in(user, user_agent=IPHONE_SAFARI, ip=LISBON)


def api_places(me: SignedIn) -> dict[bool, Any]:
    """``{current: location}`` from the JSON API."""
    rows = me.client.get(API).json()["sessions"]
    return {row["current"]: row["location"] for row in rows}


# -- where places are shown -------------------------------------------------------


def test_off_by_default(desktop: SignedIn, phone: SignedIn, asked: list[str]) -> None:
    assert not locations.location_enabled()
    assert "Location" not in desktop.client.get(LIST).content.decode()
    assert api_places(desktop) == {True: None, False: None}
    assert asked == []


def test_the_devices_page_and_the_api(
    settings: Any, desktop: SignedIn, phone: SignedIn, asked: list[str]
) -> None:
    settings.SESSIONGUARD_LOCATE = "tests.locators.fixed_places"
    html = desktop.client.get(LIST).content.decode()
    assert "<dt>Location</dt>" in html
    assert "Lisbon, Portugal" in html
    assert "Unknown" in html  # this device, at 127.0.0.1
    assert api_places(desktop) == {True: None, False: "Lisbon, Portugal"}
    assert set(asked) == {"127.0.0.1", LISBON}


def test_the_admin(settings: Any, user: Any, phone: SignedIn, asked: list[str]) -> None:
    settings.SESSIONGUARD_LOCATE = "tests.locators.fixed_places"
    staff = sign_in(make_superuser(), ip="198.51.100.2").client
    sessions = staff.get("/admin/django_sessionguard/session/").content.decode()
    assert "column-location_column" in sessions
    assert "Lisbon, Portugal" in sessions
    detail = staff.get(
        f"/admin/django_sessionguard/session/{phone.reference}/change/"
    ).content.decode()
    assert "Lisbon, Portugal" in detail
    user_page = staff.get(f"/admin/auth/user/{user.pk}/change/").content.decode()
    assert "Lisbon, Portugal" in user_page
    assert LISBON in asked


def test_locate_wins_over_geoip(
    settings: Any, monkeypatch: pytest.MonkeyPatch, desktop: SignedIn, phone: SignedIn
) -> None:
    monkeypatch.setattr(locations, "_geoip", FakeGeoIP)  # would say "Lisbon"
    settings.SESSIONGUARD_GEOIP = True
    settings.SESSIONGUARD_LOCATE = "tests.locators.not_a_name"
    assert api_places(desktop) == {True: None, False: None}
    settings.SESSIONGUARD_LOCATE = None
    assert api_places(desktop) == {True: None, False: "Lisbon, Portugal"}


def test_geoip2_as_a_locator_path(
    settings: Any, monkeypatch: pytest.MonkeyPatch, desktop: SignedIn, phone: SignedIn
) -> None:
    monkeypatch.setattr(locations, "_geoip", FakeGeoIP)
    settings.SESSIONGUARD_LOCATE = "django_sessionguard.locations.geoip_place"
    assert api_places(desktop) == {True: None, False: "Lisbon, Portugal"}


# -- privacy ----------------------------------------------------------------------


def test_never_called_when_ips_are_not_tracked(
    settings: Any, desktop: SignedIn, phone: SignedIn, asked: list[str]
) -> None:
    settings.SESSIONGUARD_LOCATE = "tests.locators.fixed_places"
    settings.SESSIONGUARD_TRACK_IP = False
    html = desktop.client.get(LIST).content.decode()
    assert "Lisbon" not in html
    assert api_places(desktop) == {True: None, False: None}
    staff = sign_in(make_superuser(), ip="198.51.100.2").client
    assert (
        "Lisbon"
        not in staff.get("/admin/django_sessionguard/session/").content.decode()
    )
    assert locations.locate(LISBON) is None
    assert asked == []


def test_called_with_the_network_when_addresses_are_anonymized(
    settings: Any, user: Any, desktop: SignedIn, asked: list[str]
) -> None:
    settings.SESSIONGUARD_LOCATE = "tests.locators.fixed_places"
    settings.SESSIONGUARD_ANONYMIZE_IP = True
    start_session(user, user_agent=IPHONE_SAFARI, ip=LISBON)  # stored: 203.0.113.0
    assert api_places(desktop)[False] == "Portugal"
    assert LISBON not in asked
    assert "203.0.113.0" in asked


# -- failures -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locator", "logged"),
    [
        ("tests.locators.failing", "failed (ConnectionError)"),
        ("tests.locators.not_a_name", "returned a dict, not a place name"),
        ("tests.locators.blank", None),
    ],
)
def test_a_broken_locator_shows_no_place_and_fails_nothing(
    settings: Any,
    desktop: SignedIn,
    phone: SignedIn,
    caplog: pytest.LogCaptureFixture,
    locator: str,
    logged: str | None,
) -> None:
    settings.SESSIONGUARD_LOCATE = locator
    caplog.set_level(logging.WARNING, logger="django_sessionguard")
    response = desktop.client.get(LIST)
    assert response.status_code == 200
    assert "<dt>Location</dt>" in response.content.decode()
    assert api_places(desktop) == {True: None, False: None}
    staff = sign_in(make_superuser(), ip="198.51.100.2").client
    assert staff.get("/admin/django_sessionguard/session/").status_code == 200
    messages = [r.getMessage() for r in caplog.records if "locator" in r.getMessage()]
    if logged is None:
        assert messages == []
    else:
        assert messages
        assert all(locator in m and logged in m for m in messages)
        assert not any(LISBON in m for m in messages)  # the address is not logged


# -- checks -----------------------------------------------------------------------


def found(**settings: Any) -> list[CheckMessage]:
    with override_settings(**settings):
        return check_location_settings(app_configs=None)


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("tests.no_such_module.place", "cannot be imported"),
        ("tests.locators.no_such_function", "cannot be imported"),
        ("tests.locators.NOT_CALLABLE", "is not callable"),
        ("", "dotted path"),
        (42, "dotted path"),
        (locators.fixed_places, "dotted path"),  # the function, not its path
    ],
)
def test_e070_a_locator_that_cannot_be_used(value: Any, said: str) -> None:
    [message] = found(SESSIONGUARD_LOCATE=value)
    assert message.id == "django_sessionguard.E070"
    assert "SESSIONGUARD_LOCATE" in message.msg
    assert said in message.msg
    assert "dotted path" in (message.hint or "")


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_e070_geoip_must_be_a_bool(value: Any) -> None:
    [message] = found(SESSIONGUARD_GEOIP=value)
    assert message.id == "django_sessionguard.E070"
    assert "SESSIONGUARD_GEOIP" in message.msg
    assert message.hint


def test_e070_stops_manage_py_check() -> None:
    with (
        override_settings(SESSIONGUARD_LOCATE="tests.no_such_module.place"),
        pytest.raises(SystemCheckError, match=r"django_sessionguard\.E070"),
    ):
        call_command("check")


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"SESSIONGUARD_GEOIP": True},
        {"SESSIONGUARD_LOCATE": "tests.locators.fixed_places"},
        {"SESSIONGUARD_LOCATE": "django_sessionguard.locations.geoip_place"},
        {"SESSIONGUARD_LOCATE": None, "SESSIONGUARD_TRACK_IP": False},
    ],
)
def test_good_location_settings_are_clean(settings: dict[str, Any]) -> None:
    assert found(**settings) == []


def test_w070_both_set() -> None:
    [message] = found(
        SESSIONGUARD_GEOIP=True, SESSIONGUARD_LOCATE="tests.locators.fixed_places"
    )
    assert message.id == "django_sessionguard.W070"
    assert message.hint


@pytest.mark.parametrize(
    "settings",
    [
        {"SESSIONGUARD_GEOIP": True},
        {"SESSIONGUARD_LOCATE": "tests.locators.fixed_places"},
    ],
)
def test_w071_nothing_to_locate_without_ip_tracking(settings: dict[str, Any]) -> None:
    [message] = found(SESSIONGUARD_TRACK_IP=False, **settings)
    assert message.id == "django_sessionguard.W071"
    assert message.hint
