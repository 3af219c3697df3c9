"""The "Your devices" page (``sessionguard:list``) and its sign-out actions."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from django_sessionguard import locations
from django_sessionguard.events import EventKind
from django_sessionguard.keys import hash_key
from django_sessionguard.models import Session, SessionEvent
from tests.user_sessions import (
    ANDROID_FIREFOX,
    IPHONE_SAFARI,
    UBUNTU_FIREFOX,
    WINDOWS_CHROME,
    SignedIn,
    age,
    is_live,
    sign_in,
    start_session,
)

pytestmark = pytest.mark.django_db

LIST = reverse("sessionguard:list")
OTHERS = reverse("sessionguard:revoke-others")
LOGOUT = reverse("sessionguard:logout")


def revoke_url(reference: str) -> str:
    return reverse("sessionguard:revoke", args=[reference])


@pytest.fixture
def bob(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("bob", password="pw")


@pytest.fixture
def desktop(user: Any) -> SignedIn:
    return sign_in(user, user_agent=WINDOWS_CHROME)


@pytest.fixture
def phone(user: Any) -> SignedIn:
    return sign_in(user, user_agent=IPHONE_SAFARI, ip="203.0.113.9")


def rows(html: str) -> list[str]:
    """The session cards of a page, in order."""
    return re.findall(r'<li class="sg-session.*?</li>', html, flags=re.S)


# -- the list -----------------------------------------------------------------


def test_anonymous_is_sent_to_login(client: Client) -> None:
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={LIST}"


def test_lists_own_sessions_with_devices_and_marks_this_one(
    desktop: SignedIn, phone: SignedIn, bob: Any
) -> None:
    sign_in(bob, user_agent=ANDROID_FIREFOX)  # never shown to alice
    age(phone.reference, active=timedelta(minutes=2), signed_in=timedelta(days=3))

    response = desktop.client.get(LIST)

    assert response.status_code == 200
    assert response["Cache-Control"].count("no-store") == 1
    cards = rows(response.content.decode())
    assert len(cards) == 2
    mine, other = cards
    assert phone.reference not in mine
    assert desktop.reference in mine
    assert "This device" in mine
    assert "This device" not in other
    assert "Chrome 124.0.0" in mine
    assert "on Windows 10" in mine
    assert '<span class="sg-visually-hidden">Desktop</span>' in mine
    assert 'class="sg-icon"' in mine
    assert "Mobile Safari 17.4" in other
    assert "on iOS 17.4" in other
    assert '<span class="sg-visually-hidden">Mobile</span>' in other
    assert "203.0.113.9" in other
    assert "2\xa0minutes ago" in other
    assert "3\xa0days ago" in other
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT[^"]+" title="[^"]+">', other)
    assert 'aria-label="Sign out Mobile Safari on iOS"' in other
    assert f'action="{revoke_url(phone.reference)}"' in other
    assert f'action="{LOGOUT}"' in mine
    assert "Firefox" not in response.content.decode()


def test_newest_activity_first_and_expired_sessions_hidden(
    desktop: SignedIn, user: Any
) -> None:
    _, old = start_session(user, user_agent=UBUNTU_FIREFOX)
    _, recent = start_session(user, user_agent=IPHONE_SAFARI)
    _, expired = start_session(user, user_agent=ANDROID_FIREFOX)
    age(old, active=timedelta(days=5), signed_in=timedelta(days=9))
    age(recent, active=timedelta(hours=1), signed_in=timedelta(days=2))
    Session.objects.filter(reference=expired).update(
        expire_date=Session.objects.get(reference=old).created_at
    )

    html = desktop.client.get(LIST).content.decode()

    order = [ref for ref in (desktop.reference, recent, old) if ref in html]
    assert order == [desktop.reference, recent, old]
    positions = [html.index(ref) for ref in order]
    assert positions == sorted(positions)
    assert expired not in html


def test_raw_session_keys_never_reach_the_page(
    desktop: SignedIn, phone: SignedIn
) -> None:
    pages = [
        desktop.client.get(LIST),
        desktop.client.get(OTHERS),
        desktop.client.get(revoke_url(phone.reference)),
    ]
    for response in pages:
        html = response.content.decode()
        for secret in (desktop.cookie, phone.cookie):
            assert secret not in html
            assert hash_key(secret) not in html  # nor what is stored at rest


def test_device_fields_from_the_user_agent_are_escaped(
    desktop: SignedIn, user: Any
) -> None:
    # Browser and OS names come from a header any client controls.
    _, reference = start_session(user, user_agent=IPHONE_SAFARI)
    Session.objects.filter(reference=reference).update(
        browser='"><img src=x onerror=alert(1)>', os="<b>OS</b>"
    )

    html = desktop.client.get(LIST).content.decode()

    assert "<img" not in html
    assert "<b>" not in html
    assert 'aria-label="Sign out &quot;&gt;&lt;img src=x' in html


@pytest.mark.parametrize(
    ("engine", "queries"),
    [
        ("django_sessionguard.backends.db", 3),
        ("django_sessionguard.backends.cached_db", 2),
    ],
    ids=["db", "cached_db"],
    indirect=["engine"],
)
@pytest.mark.parametrize("count", [1, 50])
def test_list_costs_constant_queries(
    engine: str,
    queries: int,
    count: int,
    user: Any,
    django_assert_num_queries: Any,
) -> None:
    # Session load (db engine only), the user, the list: whatever the count.
    me = sign_in(user)
    for index in range(count - 1):
        agent = (IPHONE_SAFARI, UBUNTU_FIREFOX, ANDROID_FIREFOX)[index % 3]
        start_session(user, user_agent=agent, ip=f"198.51.100.{index % 250}")
    me.client.get(LIST)  # settles activity recorded since the session started

    with django_assert_num_queries(queries):
        response = me.client.get(LIST)

    assert len(rows(response.content.decode())) == count


def test_ip_masking(desktop: SignedIn, user: Any, settings: Any) -> None:
    settings.SESSIONGUARD_MASK_IP = True
    start_session(user, user_agent=IPHONE_SAFARI, ip="2001:db8:85a3:8d3:1319:8a2e::7")

    html = desktop.client.get(LIST).content.decode()

    assert "127.0.0.0/24" in html
    assert "127.0.0.1" not in html
    assert "2001:db8:85a3::/48" in html
    assert "8a2e" not in html


def test_no_location_column_when_geoip_is_unavailable(
    desktop: SignedIn, settings: Any
) -> None:
    # No GEOIP_PATH here (and no geoip2 installed): the real lookup finds nothing.
    settings.SESSIONGUARD_GEOIP = True
    locations._geoip.cache_clear()

    response = desktop.client.get(LIST)

    assert response.status_code == 200
    assert "Location" not in response.content.decode()
    assert locations._geoip() is None


class FakeGeoIP:
    """Stands in for a GeoLite2 database: one known network."""

    def city(self, ip: str) -> dict[str, Any]:
        if ip.startswith("203.0.113."):
            return {"city": "Lisbon", "country_name": "Portugal"}
        raise ValueError("address not in database")

    def country(self, ip: str) -> dict[str, Any]:
        raise ValueError("address not in database")


def test_location_column_when_geoip_is_configured(
    desktop: SignedIn, phone: SignedIn, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(locations, "_geoip", FakeGeoIP)
    html = desktop.client.get(LIST).content.decode()
    assert "Location" not in html  # off unless SESSIONGUARD_GEOIP

    settings.SESSIONGUARD_GEOIP = True
    mine, other = rows(desktop.client.get(LIST).content.decode())

    assert "Lisbon, Portugal" in other
    assert "<dt>Location</dt>" in mine
    assert "Unknown" in mine


# -- signing out one other device ---------------------------------------------


def test_sign_out_other_device(desktop: SignedIn, phone: SignedIn) -> None:
    response = desktop.client.post(revoke_url(phone.reference), follow=True)

    assert response.redirect_chain == [(LIST, 302)]
    assert "Signed out Mobile Safari on iOS." in response.content.decode()
    assert len(rows(response.content.decode())) == 1
    assert not is_live(phone.reference)
    assert phone.username() is None
    assert desktop.username() == "alice"
    event = SessionEvent.objects.get(
        session_ref=phone.reference, kind__startswith="rev"
    )
    assert event.kind == EventKind.REVOKED_BY_USER
    assert event.actor is not None
    assert event.actor.username == "alice"


def test_get_on_revoke_shows_a_confirmation_and_changes_nothing(
    desktop: SignedIn, phone: SignedIn
) -> None:
    response = desktop.client.get(revoke_url(phone.reference))

    assert response.status_code == 200
    assert response["Cache-Control"].count("no-store") == 1
    html = response.content.decode()
    assert "Sign out Mobile Safari on iOS?" in html
    assert '<form method="post" class="sg-confirm">' in html
    assert desktop.client.head(revoke_url(phone.reference)).status_code == 200
    assert is_live(phone.reference)
    assert phone.username() == "alice"


def test_get_on_sign_out_this_device_changes_nothing(desktop: SignedIn) -> None:
    assert desktop.client.get(LOGOUT).status_code == 405
    assert desktop.username() == "alice"


def test_revoking_this_device_by_reference_signs_out_here(desktop: SignedIn) -> None:
    response = desktop.client.post(revoke_url(desktop.reference))

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert not is_live(desktop.reference)
    assert desktop.username() is None


def test_sign_out_this_device(desktop: SignedIn, phone: SignedIn) -> None:
    response = desktop.client.post(LOGOUT)

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "You signed out on this device."
    ]
    assert not is_live(desktop.reference)
    assert desktop.username() is None
    assert phone.username() == "alice"
    assert SessionEvent.objects.filter(
        session_ref=desktop.reference, kind=EventKind.LOGOUT
    ).exists()


# -- signing out all other devices ---------------------------------------------


def test_sign_out_all_others_confirmation_then_post(
    desktop: SignedIn, phone: SignedIn, user: Any
) -> None:
    tablet = sign_in(user, user_agent=ANDROID_FIREFOX)

    confirm = desktop.client.get(OTHERS)
    assert confirm.status_code == 200
    assert confirm["Cache-Control"].count("no-store") == 1
    html = confirm.content.decode()
    assert "These 2 devices will be signed out" in html
    assert "Mobile Safari" in html
    assert "Firefox Mobile" in html
    assert desktop.reference not in html
    assert phone.username() == "alice"
    assert tablet.username() == "alice"

    response = desktop.client.post(OTHERS, follow=True)

    assert response.redirect_chain == [(LIST, 302)]
    assert "Signed out 2 other devices." in response.content.decode()
    assert phone.username() is None
    assert tablet.username() is None
    assert desktop.username() == "alice"
    assert list(Session.objects.values_list("reference", flat=True)) == [
        desktop.reference
    ]


def test_sign_out_all_others_with_none_left(desktop: SignedIn) -> None:
    assert "any other device" in desktop.client.get(OTHERS).content.decode()
    response = desktop.client.post(OTHERS, follow=True)
    assert "No other device was signed in." in response.content.decode()
    assert desktop.username() == "alice"


def test_list_page_offers_sign_out_all_only_with_other_devices(
    desktop: SignedIn, user: Any
) -> None:
    assert OTHERS not in desktop.client.get(LIST).content.decode()
    start_session(user, user_agent=IPHONE_SAFARI)
    assert f'href="{OTHERS}"' in desktop.client.get(LIST).content.decode()


# -- other users' sessions: 404 for every form of id -----------------------------


@pytest.fixture
def bobs(bob: Any) -> SignedIn:
    return sign_in(bob, user_agent=ANDROID_FIREFOX)


def id_forms(bobs: SignedIn, desktop: SignedIn) -> dict[str, str]:
    return {
        "other user's reference": bobs.reference,
        "random hex": secrets.token_hex(16),
        "garbage": "not-a-reference",
        "over-long": "a" * 600,
        "other user's cookie": bobs.cookie,
        "own cookie": desktop.cookie,
        "own key hash": hash_key(desktop.cookie),
    }


@pytest.mark.parametrize("method", ["get", "post"])
def test_cannot_see_or_revoke_other_users_sessions(
    method: str, desktop: SignedIn, bobs: SignedIn
) -> None:
    bodies = set()
    for form, reference in id_forms(bobs, desktop).items():
        response = getattr(desktop.client, method)(revoke_url(reference))
        assert response.status_code == 404, form
        bodies.add(response.content)
    assert len(bodies) == 1  # the same answer whether the session exists or not
    assert is_live(bobs.reference)
    assert bobs.username() == "bob"
    assert desktop.username() == "alice"
    assert not SessionEvent.objects.filter(kind__startswith="revoked").exists()


def test_others_sessions_survive_sign_out_all_others(
    desktop: SignedIn, bobs: SignedIn
) -> None:
    desktop.client.post(OTHERS)
    assert bobs.username() == "bob"
    assert bobs.reference not in desktop.client.get(LIST).content.decode()


# -- CSRF and sign-in ------------------------------------------------------------


def test_actions_refuse_a_post_without_csrf_token(user: Any) -> None:
    desktop = sign_in(user, enforce_csrf_checks=True)
    phone = sign_in(user, user_agent=IPHONE_SAFARI)

    for url in (revoke_url(phone.reference), OTHERS, LOGOUT):
        assert desktop.client.post(url).status_code == 403, url

    assert phone.username() == "alice"
    assert desktop.username() == "alice"
    # With the page's token, the same request works: the token was the reason.
    html = desktop.client.get(LIST).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert token is not None
    response = desktop.client.post(
        revoke_url(phone.reference), {"csrfmiddlewaretoken": token.group(1)}
    )
    assert response.status_code == 302
    assert phone.username() is None


@pytest.mark.parametrize("url", [OTHERS, LOGOUT])
def test_actions_need_sign_in(client: Client, url: str) -> None:
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_revoke_needs_sign_in(client: Client, phone: SignedIn) -> None:
    response = client.post(revoke_url(phone.reference))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert phone.username() == "alice"


# -- templates ------------------------------------------------------------------


HOST_BASE = """<!doctype html><html lang="en"><title>{% block title %}{% endblock %}
 - Host</title><body><nav>Host navigation</nav>{% block content %}{% endblock %}
</body></html>"""
OVERRIDE = """{% extends "django_sessionguard/session_list.html" %}
{% block sessionguard_header %}<h1>Signed-in devices at Host</h1>{% endblock %}"""


@pytest.fixture
def host_templates(settings: Any) -> None:
    settings.TEMPLATES = [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "OPTIONS": {
                "context_processors": settings.TEMPLATES[0]["OPTIONS"][
                    "context_processors"
                ],
                "loaders": [
                    (
                        "django.template.loaders.locmem.Loader",
                        {
                            "host/base.html": HOST_BASE,
                            "django_sessionguard/session_list.html": OVERRIDE,
                        },
                    ),
                    "django.template.loaders.app_directories.Loader",
                ],
            },
        }
    ]


def test_pages_extend_the_configured_base_and_blocks_override(
    desktop: SignedIn, phone: SignedIn, settings: Any, host_templates: None
) -> None:
    settings.SESSIONGUARD_BASE_TEMPLATE = "host/base.html"

    html = desktop.client.get(LIST).content.decode()

    assert "<title>Your devices\n - Host</title>" in html
    assert "Host navigation" in html
    assert "<h1>Signed-in devices at Host</h1>" in html
    assert "You're signed in on these devices" not in html  # the replaced block
    assert len(rows(html)) == 2  # every other block kept
    confirm = desktop.client.get(OTHERS).content.decode()
    assert "Host navigation" in confirm
    assert "Sign out all other devices?" in confirm


def test_default_base_is_standalone_without_external_assets(desktop: SignedIn) -> None:
    html = desktop.client.get(LIST).content.decode()

    assert html.startswith("<!doctype html>")
    assert (
        '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    )
    assert (
        '<link rel="stylesheet" href="/static/django_sessionguard/sessionguard.css">'
        in html
    )
    assert "<script" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
