"""The JSON variant of the devices page: ``sessionguard:api-*``."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from django_sessionguard.events import EventKind
from django_sessionguard.keys import hash_key
from django_sessionguard.models import SessionEvent
from tests.user_sessions import (
    ANDROID_FIREFOX,
    IPHONE_SAFARI,
    WINDOWS_CHROME,
    SignedIn,
    age,
    is_live,
    sign_in,
    start_session,
)

pytestmark = pytest.mark.django_db

API_LIST = reverse("sessionguard:api-list")
API_OTHERS = reverse("sessionguard:api-revoke-others")
SCHEMA_KEYS = {
    "reference",
    "current",
    "device_type",
    "browser",
    "browser_version",
    "os",
    "os_version",
    "ip",
    "location",
    "created_at",
    "authenticated_at",
    "last_activity",
}


def api_revoke(reference: str) -> str:
    return reverse("sessionguard:api-revoke", args=[reference])


@pytest.fixture
def desktop(user: Any) -> SignedIn:
    return sign_in(user, user_agent=WINDOWS_CHROME)


@pytest.fixture
def phone(user: Any) -> SignedIn:
    return sign_in(user, user_agent=IPHONE_SAFARI, ip="203.0.113.9")


@pytest.fixture
def bobs(django_user_model: Any) -> SignedIn:
    bob = django_user_model.objects.create_user("bob", password="pw")
    return sign_in(bob, user_agent=ANDROID_FIREFOX)


def iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None
    return parsed


def test_list_schema(desktop: SignedIn, phone: SignedIn, bobs: SignedIn) -> None:
    age(phone.reference, active=timedelta(minutes=2), signed_in=timedelta(days=3))

    response = desktop.client.get(API_LIST)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"].count("no-store") == 1
    body = response.json()
    assert list(body) == ["sessions"]
    mine, other = body["sessions"]
    assert set(mine) == SCHEMA_KEYS
    assert set(other) == SCHEMA_KEYS
    assert mine["reference"] == desktop.reference
    assert mine["current"] is True
    assert other == {
        "reference": phone.reference,
        "current": False,
        "device_type": "mobile",
        "browser": "Mobile Safari",
        "browser_version": "17.4",
        "os": "iOS",
        "os_version": "17.4",
        "ip": "203.0.113.9",
        "location": None,
        "created_at": other["created_at"],
        "authenticated_at": other["authenticated_at"],
        "last_activity": other["last_activity"],
    }
    assert (mine["device_type"], mine["browser"], mine["os"]) == (
        "desktop",
        "Chrome",
        "Windows",
    )
    three_days, minute = timedelta(days=3), timedelta(minutes=1)
    assert abs(iso(mine["last_activity"]) - iso(other["last_activity"])) < three_days
    assert iso(mine["created_at"]) - iso(other["created_at"]) > three_days - minute
    assert iso(other["authenticated_at"]) == iso(other["created_at"])
    text = response.content.decode()
    for secret in (desktop.cookie, phone.cookie, bobs.cookie, bobs.reference):
        assert secret not in text
    assert hash_key(desktop.cookie) not in text


def test_masked_ip(desktop: SignedIn, settings: Any) -> None:
    settings.SESSIONGUARD_MASK_IP = True
    [row] = desktop.client.get(API_LIST).json()["sessions"]
    assert row["ip"] == "127.0.0.0/24"


@pytest.mark.parametrize("count", [1, 50])
def test_list_costs_constant_queries(
    count: int, user: Any, django_assert_num_queries: Any
) -> None:
    me = sign_in(user)
    for _ in range(count - 1):
        start_session(user, user_agent=IPHONE_SAFARI)
    me.client.get(API_LIST)

    # Session, user, list (db engine).
    with django_assert_num_queries(3):
        response = me.client.get(API_LIST)

    assert len(response.json()["sessions"]) == count


# -- auth: 401 JSON, never a redirect --------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [("get", API_LIST), ("post", API_OTHERS), ("post", api_revoke("0" * 32))],
)
def test_anonymous_gets_401_json(client: Client, method: str, url: str) -> None:
    response = getattr(client, method)(url)
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"
    assert response["Cache-Control"].count("no-store") == 1


# -- revoking ---------------------------------------------------------------------


def test_revoke_one(desktop: SignedIn, phone: SignedIn) -> None:
    response = desktop.client.post(api_revoke(phone.reference))

    assert response.status_code == 200
    assert response.json() == {"revoked": 1, "current": False}
    assert phone.username() is None
    assert desktop.username() == "alice"
    assert SessionEvent.objects.filter(
        session_ref=phone.reference, kind=EventKind.REVOKED_BY_USER
    ).exists()


def test_revoke_current_signs_out(desktop: SignedIn, phone: SignedIn) -> None:
    response = desktop.client.post(api_revoke(desktop.reference))

    assert response.json() == {"revoked": 1, "current": True}
    assert desktop.username() is None
    assert phone.username() == "alice"


def test_revoke_others(desktop: SignedIn, phone: SignedIn, user: Any) -> None:
    tablet = sign_in(user, user_agent=ANDROID_FIREFOX)

    response = desktop.client.post(API_OTHERS)

    assert response.json() == {"revoked": 2}
    assert phone.username() is None
    assert tablet.username() is None
    assert desktop.username() == "alice"
    assert desktop.client.post(API_OTHERS).json() == {"revoked": 0}


def test_cannot_see_or_revoke_other_users_sessions(
    desktop: SignedIn, bobs: SignedIn
) -> None:
    forms = {
        "other user's reference": bobs.reference,
        "random hex": secrets.token_hex(16),
        "garbage": "not-a-reference",
        "over-long": "f" * 600,
        "other user's cookie": bobs.cookie,
        "own key hash": hash_key(desktop.cookie),
    }
    answers = set()
    for form, reference in forms.items():
        response = desktop.client.post(api_revoke(reference))
        assert response.status_code == 404, form
        answers.add(response.content)
    assert answers == {b'{"error": "not_found", "message": "No such session."}'}
    desktop.client.post(API_OTHERS)
    assert is_live(bobs.reference)
    assert bobs.username() == "bob"
    listed = [
        row["reference"] for row in desktop.client.get(API_LIST).json()["sessions"]
    ]
    assert listed == [desktop.reference]


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_wrong_method_changes_nothing(
    desktop: SignedIn, phone: SignedIn, method: str
) -> None:
    for url in (api_revoke(phone.reference), API_OTHERS):
        response = getattr(desktop.client, method)(url)
        assert response.status_code == 405
        assert response["Allow"] == "POST"
        assert response.json()["error"] == "method_not_allowed"
    assert desktop.client.post(API_LIST).status_code == 405
    assert phone.username() == "alice"


def test_csrf_is_enforced(user: Any) -> None:
    desktop = sign_in(user, enforce_csrf_checks=True)
    phone = sign_in(user, user_agent=IPHONE_SAFARI)

    assert desktop.client.post(api_revoke(phone.reference)).status_code == 403
    assert desktop.client.post(API_OTHERS).status_code == 403
    assert phone.username() == "alice"

    # A single-page app reads the token from the cookie and sends it as a header.
    page = desktop.client.get(reverse("sessionguard:list")).content.decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match is not None
    assert django_settings.CSRF_COOKIE_NAME in desktop.client.cookies
    response = desktop.client.post(API_OTHERS, headers={"X-CSRFToken": match.group(1)})
    assert response.json() == {"revoked": 1}
    assert phone.username() is None


def test_reauth_for_revoke_answers_json(
    desktop: SignedIn, phone: SignedIn, settings: Any, clock: Any
) -> None:
    settings.SESSIONGUARD_REAUTH_FOR_REVOKE = True
    settings.SESSIONGUARD_REAUTH_MAX_AGE = 300
    clock.advance(301)

    response = desktop.client.post(api_revoke(phone.reference))

    assert response.status_code == 403
    assert response.json()["error"] == "reauthentication_required"
    assert response.json()["reauth_url"] == reverse("sessionguard:reauth")
    assert desktop.client.post(API_OTHERS).status_code == 403
    assert desktop.client.get(API_LIST).status_code == 200  # reading is not gated
    assert phone.username() == "alice"
