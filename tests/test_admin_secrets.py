"""No admin page, URL or download carries a session key, its hash, or session data.

The cookie value is a bearer credential; the primary key is its SHA-256 (the
row's name at rest). Neither may reach a staff member's browser, nor may the
encoded session data or what it holds (the user's auth hash). Every admin page
that shows sessions or events is fetched, on both engines, and searched for
every secret of every session in the database.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import HASH_SESSION_KEY
from django.test import Client
from django.urls import reverse

from django_sessionguard.models import Session, SessionEvent
from tests.test_admin_helpers import (
    APP_INDEX,
    DASHBOARD,
    EVENTS,
    EXPORT,
    SESSIONS,
    action_post,
    change_url,
    make_superuser,
    make_user,
    revoke_url,
    revoke_user_url,
    user_change_url,
)
from tests.user_sessions import (
    ANDROID_FIREFOX,
    IPHONE_SAFARI,
    UBUNTU_FIREFOX,
    WINDOWS_CHROME,
    sign_in,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(engine: str) -> dict[str, Any]:
    root = make_superuser()
    staff = sign_in(root, user_agent=WINDOWS_CHROME, ip="192.0.2.10")
    alice, bob = make_user("alice"), make_user("bob")
    browsers = [
        staff,
        sign_in(alice, user_agent=WINDOWS_CHROME, ip="203.0.113.5"),
        sign_in(alice, user_agent=IPHONE_SAFARI, ip="203.0.113.6"),
        sign_in(bob, user_agent=UBUNTU_FIREFOX, ip="198.51.100.20"),
        sign_in(bob, user_agent=ANDROID_FIREFOX, ip="2001:db8::20"),
    ]
    anonymous = Client(HTTP_USER_AGENT=UBUNTU_FIREFOX, REMOTE_ADDR="198.51.100.99")
    anonymous.get("/write/")
    for browser in browsers:
        browser.client.get("/write/")  # data saved through the engine
    return {
        "root": root,
        "staff": staff.client,
        "alice": alice,
        "cookies": [b.cookie for b in browsers]
        + [anonymous.cookies["sessionid"].value],
        "references": [b.reference for b in browsers],
    }


def secrets_now(cookies: list[str]) -> dict[str, str]:
    """Every secret of every session: cookie values, key hashes, data."""
    found = {f"cookie {i}": cookie for i, cookie in enumerate(cookies)}
    for row in Session.objects.all():
        found[f"key hash of {row.reference}"] = row.key_hash
        found[f"data of {row.reference}"] = row.session_data
        auth_hash = row.get_decoded().get(HASH_SESSION_KEY)
        if auth_hash:
            found[f"auth hash in {row.reference}"] = auth_hash
    assert len(found) > 10
    return found


def pages(world: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    """(name, url, POST data or None) of every admin page about sessions."""
    references = world["references"]
    event = SessionEvent.objects.exclude(session_ref="").first()
    assert event is not None
    return [
        ("admin index", reverse("admin:index"), None),
        ("app index", APP_INDEX, None),
        ("changelist", SESSIONS, None),
        ("changelist searched", f"{SESSIONS}?q=alice&status=active", None),
        ("changelist popup", f"{SESSIONS}?_popup=1&_to_field=key_hash", None),
        ("detail", change_url(references[1]), None),
        ("detail, to_field", f"{change_url(references[1])}?_to_field=key_hash", None),
        ("dashboard", DASHBOARD, None),
        ("events", EVENTS, None),
        ("events searched", f"{EVENTS}?q={references[1]}", None),
        (
            "event detail",
            reverse("admin:django_sessionguard_sessionevent_change", args=[event.pk]),
            None,
        ),
        ("events export", EXPORT, None),
        ("user page", user_change_url(world["alice"]), None),
        ("revoke one", revoke_url(references[2]), None),
        ("revoke user", revoke_user_url(world["alice"]), None),
        (
            "confirm revoke selected",
            SESSIONS,
            action_post("revoke_selected", references[1:3]),
        ),
        (
            "confirm revoke users",
            SESSIONS,
            action_post("revoke_users", references[1:4]),
        ),
        (
            "confirm revoke all matching",
            f"{SESSIONS}?status=active",
            action_post("revoke_selected", references[1:2], select_across="1"),
        ),
        (
            "export selected events",
            EVENTS,
            action_post(
                "export_csv",
                [str(pk) for pk in SessionEvent.objects.values_list("pk", flat=True)],
            ),
        ),
    ]


def body(response: Any) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def test_no_secret_reaches_any_admin_page(world: dict[str, Any]) -> None:
    client: Client = world["staff"]
    for name, url, data in pages(world):
        secrets = secrets_now(world["cookies"])
        response = client.post(url, data) if data is not None else client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        text = body(response) + url + response.get("Location", "")
        leaked = [what for what, secret in secrets.items() if secret in text]
        assert leaked == [], f"{name} shows {leaked}"


def test_pages_do_show_references(world: dict[str, Any]) -> None:
    """The check above would pass on empty pages: they are not empty."""
    client: Client = world["staff"]
    html = client.get(SESSIONS).content.decode()
    for reference in world["references"]:
        assert reference in html
    user_page = client.get(user_change_url(world["alice"])).content.decode()
    assert world["references"][1] in user_page
    assert "Revoke all sessions" in user_page
