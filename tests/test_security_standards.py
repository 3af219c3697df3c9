"""Standards rows that are easy to forget (OWASP ASVS V3, the OWASP Session
Management Cheat Sheet), each proven through the test client on both engines:

* a malformed cookie costs no query and no cache call;
* the key is taken from the cookie only;
* pages that set or show sessions are not stored by caches;
* a fresh key at sign-in and at every change of who is signed in (fixation);
* signing out kills the key everywhere; the cookie carries nothing but the key.
"""

from __future__ import annotations

import math
import secrets
import string
from collections import Counter
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from django_sessionguard.keys import hash_key
from django_sessionguard.models import Session
from tests.lifecycle_support import (
    browser,
    cached_entries,
    cookie,
    key_hash_of,
    log_in,
    reference_of,
    row_exists,
    whoami,
)

pytestmark = pytest.mark.django_db

NAME = django_settings.SESSION_COOKIE_NAME
MALFORMED = [
    pytest.param("A" * 32, id="uppercase"),
    pytest.param("a" * 31, id="too-short"),
    pytest.param("a" * 65, id="too-long"),
    pytest.param("x" * 10_000, id="huge"),
    pytest.param("abc:def" * 6, id="separator"),
    pytest.param("é" * 32, id="non-ascii"),
    pytest.param("' OR 1=1 --" * 4, id="sql"),
]


@pytest.fixture
def bob(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("bob", password="pw-bob")


# -- a malformed cookie is refused before any lookup ----------------------------------


@pytest.mark.parametrize("value", MALFORMED)
def test_malformed_cookie_costs_no_query_and_no_cache_call(
    engine: str, value: str, django_assert_num_queries: Any, cache_calls: Any
) -> None:
    client = Client()
    client.cookies[NAME] = value
    with django_assert_num_queries(0), cache_calls() as calls:
        response = client.get("/read/")
    assert response.json()["user"] is None
    assert calls == []


@pytest.mark.services("redis")
@pytest.mark.parametrize("value", MALFORMED)
def test_malformed_cookie_sends_no_redis_command(
    settings: Any, value: str, redis_commands: Any
) -> None:
    settings.SESSION_ENGINE = "django_sessionguard.backends.cached_db"
    client = Client()
    client.cookies[NAME] = value
    with redis_commands() as counts:
        assert client.get("/read/").json()["user"] is None
    assert counts.total == 0


# -- the key is accepted from the cookie only -----------------------------------------

ELSEWHERE = [
    "query-string",
    "query-string-cookie-name",
    "post-field",
    "x-session-id-header",
    "authorization-bearer",
    "authorization-session",
    "url-path",
]


def send_key_elsewhere(client: Client, key: str, where: str) -> Any:
    if where == "query-string":
        return client.get(f"/read/?sessionid={key}")
    if where == "query-string-cookie-name":
        return client.get("/read/", {NAME: key})
    if where == "post-field":
        return client.post("/read/", {"sessionid": key, NAME: key})
    if where == "x-session-id-header":
        return client.get("/read/", HTTP_X_SESSION_ID=key)
    if where == "authorization-bearer":
        return client.get("/read/", HTTP_AUTHORIZATION=f"Bearer {key}")
    if where == "authorization-session":
        return client.get("/read/", HTTP_AUTHORIZATION=f"Session {key}")
    # ;jsessionid=-style path parameters and plain path segments.
    return client.get(f"/read/;sessionid={key}")


@pytest.mark.parametrize("where", ELSEWHERE)
def test_key_outside_the_cookie_is_ignored(engine: str, user: Any, where: str) -> None:
    owner = browser()
    log_in(owner)
    key = cookie(owner)

    stranger = Client()
    response = send_key_elsewhere(stranger, key, where)
    if response.status_code == 200:
        assert response.json()["user"] is None
    else:
        assert response.status_code == 404
    assert NAME not in response.cookies
    assert whoami(stranger) is None
    assert Session.objects.count() == 1
    assert whoami(owner) == "alice"


def test_key_in_the_devices_page_url_is_not_a_session(
    engine: str, user: Any, bob: Any
) -> None:
    owner = browser()
    log_in(owner)
    key = cookie(owner)
    other = browser()
    log_in(other, "bob", "pw-bob")
    for name in ("revoke", "api-revoke"):
        url = reverse(f"sessionguard:{name}", args=[key])
        assert other.post(url).status_code == 404
        assert Client().post(url).status_code in (302, 401)
    assert whoami(owner) == "alice"


# -- Cache-Control: no-store where sessions are set or shown ---------------------------


def no_store(response: Any) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return "no-store" in directives


def test_login_response_that_sets_the_cookie_is_not_stored(
    engine: str, user: Any
) -> None:
    client = browser()
    assert no_store(client.get("/login/"))
    response = log_in(client)
    assert response.cookies[NAME].value
    assert no_store(response)


def test_any_response_setting_the_session_cookie_is_private_and_not_stored(
    engine: str,
) -> None:
    # A view that writes the session but says nothing about caching (Django's
    # own middleware adds only Vary: Cookie).
    client = browser()
    response = client.get("/write/")
    assert response.cookies[NAME].value
    assert no_store(response)
    assert "private" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]
    # Reading it again sets no cookie, and nothing is added.
    again = client.get("/read/")
    assert NAME not in again.cookies
    assert "Cache-Control" not in again


def test_response_deleting_a_dead_cookie_is_not_stored(engine: str) -> None:
    client = browser()
    client.cookies[NAME] = "a" * 32
    response = client.get("/read/")
    assert response.cookies[NAME]["max-age"] == 0
    assert no_store(response)


def test_logout_responses_are_not_stored(engine: str, user: Any) -> None:
    for url in ("/logout/", reverse("sessionguard:logout")):
        client = browser()
        log_in(client)
        response = client.post(url)
        assert response.status_code == 302
        assert no_store(response)


SHOWN = [
    ("get", "sessionguard:list"),
    ("get", "sessionguard:api-list"),
    ("get", "sessionguard:revoke-others"),
    ("post", "sessionguard:api-revoke-others"),
    ("get", "sessionguard:reauth"),
    ("post", "sessionguard:reauth"),
    ("get", "sessionguard:idle-status"),
    ("post", "sessionguard:idle-extend"),
]


@pytest.mark.parametrize(("method", "name"), SHOWN, ids=[n for _, n in SHOWN])
def test_pages_that_show_or_change_sessions_are_not_stored(
    engine: str, user: Any, method: str, name: str
) -> None:
    client = browser()
    log_in(client)
    response = getattr(client, method)(reverse(name))
    assert response.status_code < 400
    assert no_store(response)
    confirm = client.get(reverse("sessionguard:revoke", args=[reference_of(client)]))
    assert no_store(confirm)


# -- a fresh key at sign-in and at each change of who is signed in ---------------------


def test_a_planted_key_dies_at_sign_in(engine: str, user: Any) -> None:
    # The attacker gets a genuine anonymous session and plants its cookie in
    # the victim's browser (session fixation).
    attacker = browser()
    attacker.get("/write/?value=7")
    planted = cookie(attacker)
    victim = browser()
    victim.cookies[NAME] = planted
    assert victim.get("/read/").json() == {"user": None, "counter": 7}

    log_in(victim)
    assert cookie(victim) != planted
    assert not row_exists(hash_key(planted))
    assert cached_entries(hash_key(planted)) == []
    assert victim.get("/read/").json() == {"user": "alice", "counter": 7}
    assert attacker.get("/read/").json()["user"] is None


def test_signing_in_again_renews_the_key(engine: str, user: Any) -> None:
    client = browser()
    log_in(client)
    first = cookie(client)
    log_in(client)
    assert cookie(client) != first
    stale = browser()
    stale.cookies[NAME] = first
    assert whoami(stale) is None
    assert Session.objects.count() == 1


def test_switching_user_renews_the_key_and_drops_the_data(
    engine: str, user: Any, bob: Any
) -> None:
    client = browser()
    log_in(client)
    client.get("/write/?value=3")
    alices = cookie(client)
    log_in(client, "bob", "pw-bob")
    assert cookie(client) != alices
    assert client.get("/read/").json() == {"user": "bob", "counter": None}
    replay = browser()
    replay.cookies[NAME] = alices
    assert whoami(replay) is None


@pytest.mark.urls("tests.lifecycle_urls")
def test_password_change_renews_the_key(engine: str, user: Any) -> None:
    client = browser()
    log_in(client)
    before = cookie(client)
    response = client.post(
        "/password-change/",
        {
            "old_password": "pw",
            "new_password1": "n3w-Pass!",
            "new_password2": "n3w-Pass!",
        },
    )
    assert response.status_code == 302
    assert cookie(client) != before
    assert whoami(client) == "alice"
    replay = browser()
    replay.cookies[NAME] = before
    assert whoami(replay) is None
    assert not row_exists(hash_key(before))


# -- signing out ends the key everywhere; the cookie holds only the key ----------------


@pytest.mark.parametrize("url", ["/logout/", "/account/sessions/sign-out/"])
def test_a_signed_out_key_is_dead_on_replay(engine: str, user: Any, url: str) -> None:
    client = browser()
    log_in(client)
    key = cookie(client)
    key_hash = key_hash_of(client)
    client.post(url)
    assert not row_exists(key_hash)
    assert cached_entries(key_hash) == []
    replay = browser()
    replay.cookies[NAME] = key
    assert whoami(replay) is None


def test_the_cookie_is_an_opaque_random_key(engine: str, user: Any) -> None:
    client = browser()
    response = log_in(client)
    morsel = response.cookies[NAME]
    value = morsel.value
    # 32 characters of [a-z0-9]: nothing about the user, the device or the
    # time, and nothing Django's signed cookies would carry.
    assert len(value) == 32
    assert value.isalnum()
    assert value == value.lower()
    assert "alice" not in value
    assert str(user.pk) not in value.split()
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Lax"
    assert morsel["path"] == "/"
    assert not morsel["domain"]


# -- the key: length, entropy, source ------------------------------------------------


def test_keys_come_from_the_csprng_with_165_bits(
    store_class: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Deliberately Django's: get_random_string draws from the secrets module
    # (the operating system's CSPRNG). 32 characters of 36: 32 * log2(36) =
    # 165 bits, against ASVS's 64.
    from django.contrib.sessions.backends.base import VALID_KEY_CHARS
    from django.utils import crypto

    from django_sessionguard.backends import base

    calls: list[tuple[int, str]] = []
    real = crypto.get_random_string

    def spy(length: int, allowed_chars: str = "") -> str:
        calls.append((length, allowed_chars))
        return real(length, allowed_chars)

    monkeypatch.setattr(base, "get_random_string", spy)
    session = store_class()
    session["x"] = 1
    session.save()
    assert calls == [(32, VALID_KEY_CHARS)]
    assert len(set(VALID_KEY_CHARS)) == 36
    assert 32 * math.log2(36) > 165
    assert crypto.secrets.choice is secrets.choice  # type: ignore[attr-defined]


def test_keys_are_unique_and_evenly_spread(store_class: Any) -> None:
    keys = [store_class()._get_new_session_key() for _ in range(2000)]
    assert len(set(keys)) == len(keys)
    counts = Counter("".join(keys))
    assert set(counts) == set(string.ascii_lowercase + string.digits)
    expected = 2000 * 32 / 36
    chi_square = sum((n - expected) ** 2 / expected for n in counts.values())
    # 35 degrees of freedom: a fair source stays far below 100 (p < 1e-7).
    assert chi_square < 100


# -- the recommended cookie ---------------------------------------------------------


def test_host_prefixed_secure_cookie_end_to_end(
    engine: str, user: Any, settings: Any
) -> None:
    settings.SESSION_COOKIE_NAME = "__Host-sessionid"
    settings.SESSION_COOKIE_SECURE = True
    client = Client(secure=True)
    response = client.post(
        "/login/", {"username": "alice", "password": "pw"}, secure=True
    )
    morsel = response.cookies["__Host-sessionid"]
    assert morsel["secure"] is True
    assert morsel["httponly"] is True
    assert morsel["path"] == "/"
    assert not morsel["domain"]
    assert "sessionid" not in response.cookies
    assert client.get("/read/", secure=True).json()["user"] == "alice"


def test_cookie_lifetime_and_path_follow_the_settings(
    engine: str, user: Any, settings: Any
) -> None:
    settings.SESSION_COOKIE_AGE = 3600
    settings.SESSION_COOKIE_PATH = "/account/"
    response = log_in(browser())
    morsel = response.cookies[NAME]
    assert morsel["max-age"] == 3600
    assert morsel["expires"]
    assert morsel["path"] == "/account/"
    row = Session.objects.get()
    remaining = (row.expire_date - row.created_at).total_seconds()
    assert 3590 <= remaining <= 3601
