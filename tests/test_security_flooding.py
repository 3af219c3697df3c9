"""Session flooding: bots get no row and no cache entry until they write to the
session, and nobody without a user's credentials can add to that user's
session list."""

from __future__ import annotations

import secrets
import string
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from django_sessionguard.models import Session
from tests.lifecycle_support import browser, cookie, log_in, reference_of, whoami

pytestmark = pytest.mark.django_db

NAME = django_settings.SESSION_COOKIE_NAME
BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
#: Cache methods that store something.
WRITES = {"set", "set_many", "add", "incr", "touch", "get_or_set"}


def random_key() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32))


@pytest.fixture
def bob(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("bob", password="pw-bob")


# -- anonymous traffic stores nothing -----------------------------------------------

BOT_REQUESTS = [
    ("get", "/login/"),
    ("head", "/login/"),
    ("get", "/read/"),
    ("get", "/async-read/"),
    ("get", "/anon/"),
    ("get", "/account/sessions/"),
    ("get", "/account/sessions/api/"),
    ("get", "/account/sessions/idle-status/"),
    ("get", "/does-not-exist/"),
]


@pytest.mark.parametrize(
    ("method", "path"), BOT_REQUESTS, ids=[p for _, p in BOT_REQUESTS]
)
def test_bot_requests_store_no_row_and_no_cache_entry(
    engine: str, cache_calls: Any, method: str, path: str
) -> None:
    with cache_calls() as calls:
        for _ in range(25):
            client = Client(HTTP_USER_AGENT=BOT)  # a new "visitor" each time
            response = getattr(client, method)(path)
            assert response.status_code < 500
            assert NAME not in response.cookies
    assert Session.objects.count() == 0
    assert not WRITES & set(calls)


def test_the_login_page_sets_the_csrf_cookie_not_a_session(engine: str) -> None:
    response = Client(HTTP_USER_AGENT=BOT).get("/login/")
    assert response.status_code == 200
    assert django_settings.CSRF_COOKIE_NAME in response.cookies
    assert NAME not in response.cookies
    assert Session.objects.count() == 0


def test_failed_sign_ins_store_nothing(
    engine: str, user: Any, cache_calls: Any
) -> None:
    with cache_calls() as calls:
        for attempt in range(20):
            response = Client(HTTP_USER_AGENT=BOT).post(
                "/login/", {"username": "alice", "password": f"guess-{attempt}"}
            )
            assert response.status_code == 200
            assert NAME not in response.cookies
    assert Session.objects.count() == 0
    assert not WRITES & set(calls)


def test_a_row_only_once_the_session_is_written(engine: str) -> None:
    client = Client(HTTP_USER_AGENT=BOT)
    for _ in range(5):
        client.get("/read/")
    assert Session.objects.count() == 0
    for value in range(5):
        client.get(f"/write/?value={value}")
    # One visitor who writes: one row, however many requests.
    assert Session.objects.count() == 1
    assert Session.objects.get().user_id is None


# -- nobody grows another user's session list ----------------------------------------


def attempts(
    alice_client: Client, bob_client: Client, alice_reference: str
) -> list[tuple[str, Any]]:
    """Everything a client without Alice's password can try."""
    row = Session.objects.get(reference=alice_reference)
    forged_values = [random_key(), row.key_hash, alice_reference, row.key_hash[:32]]
    tried: list[tuple[str, Any]] = []
    for value in forged_values:
        forger = browser()
        forger.cookies[NAME] = value
        tried.append(("read", forger.get("/read/")))
        forger.cookies[NAME] = value
        tried.append(("write", forger.get("/write/?value=1")))
        forger.cookies[NAME] = value
        tried.append(("idle-extend", forger.post(reverse("sessionguard:idle-extend"))))
    stranger = browser()
    for password in ("", "pw-bob", "PW", "pw "):
        tried.append(
            (
                "login",
                stranger.post("/login/", {"username": "alice", "password": password}),
            )
        )
    for client in (browser(), bob_client):
        for name, args in (
            ("revoke", [alice_reference]),
            ("api-revoke", [alice_reference]),
            ("revoke-others", []),
            ("api-revoke-others", []),
            ("logout", []),
        ):
            tried.append(
                (name, client.post(reverse(f"sessionguard:{name}", args=args)))
            )
    # Bob signs in again from a browser that holds Alice's reference as a cookie.
    mixed = browser()
    mixed.cookies[NAME] = alice_reference
    tried.append(("login-bob", log_in(mixed, "bob", "pw-bob")))
    return tried


def test_a_client_without_the_password_cannot_grow_a_users_session_list(
    engine: str, user: Any, bob: Any
) -> None:
    alice_client = browser()
    log_in(alice_client)
    alice_reference = reference_of(alice_client)
    bob_client = browser(ip="203.0.113.9")
    log_in(bob_client, "bob", "pw-bob")

    tried = attempts(alice_client, bob_client, alice_reference)

    assert all(response.status_code < 500 for _, response in tried)
    alices = set(Session.objects.filter(user=user).values_list("reference", flat=True))
    assert alices == {alice_reference}
    assert whoami(alice_client) == "alice"
    # Nothing tried signed anyone in as Alice.
    for _, response in tried:
        if NAME in response.cookies and response.cookies[NAME].value:
            probe = browser()
            probe.cookies[NAME] = response.cookies[NAME].value
            assert whoami(probe) != "alice"
    # Alice's own list shows her one device.
    listed = alice_client.get(reverse("sessionguard:api-list")).json()["sessions"]
    assert len(listed) == 1


def test_signing_in_with_the_password_is_what_adds_a_session(
    engine: str, user: Any
) -> None:
    first = browser()
    log_in(first)
    second = browser()
    log_in(second)
    assert Session.objects.filter(user=user).count() == 2
    assert cookie(first) != cookie(second)
