"""The app's own cookies (signed-out reason, stale-cache reminder) take the
session cookie's ``__Host-`` / ``__Secure-`` prefix, and are set, read and
deleted under that same name."""

from __future__ import annotations

from http.cookies import Morsel
from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client, RequestFactory

from django_sessionguard.context_processors import signed_out_reason
from django_sessionguard.cookie_prefix import cookie_attributes
from django_sessionguard.responses import ENDED_COOKIE, ended_cookie_name
from django_sessionguard.stale_cache import STALE_COOKIE, stale_cookie_name
from tests.conftest import Clock
from tests.lifecycle_support import CACHED_DB, browser, log_in, signed_out_message

pytestmark = pytest.mark.django_db

HOST = {
    "SESSION_COOKIE_NAME": "__Host-sessionid",
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_PATH": "/",
    "SESSION_COOKIE_DOMAIN": None,
}


@pytest.fixture
def host_prefixed(settings: Any) -> None:
    for name, value in HOST.items():
        setattr(settings, name, value)


def assert_host_cookie(morsel: Morsel[str]) -> None:
    """What browsers demand of a ``__Host-`` cookie, or they drop it."""
    assert morsel.key.startswith("__Host-")
    assert morsel["secure"] is True
    assert morsel["path"] == "/"
    assert not morsel["domain"]


@pytest.mark.parametrize(
    ("session_cookie", "prefix"),
    [
        ("sessionid", ""),
        ("__Host-sessionid", "__Host-"),
        ("__host-sid", "__Host-"),  # browsers compare prefixes case-insensitively
        ("__Secure-sessionid", "__Secure-"),
        ("__SECURE-sid", "__Secure-"),
        ("Host-sessionid", ""),
    ],
)
def test_the_names_follow_the_session_cookies_prefix(
    settings: Any, session_cookie: str, prefix: str
) -> None:
    settings.SESSION_COOKIE_NAME = session_cookie
    assert ended_cookie_name() == prefix + ENDED_COOKIE
    assert stale_cookie_name() == prefix + STALE_COOKIE


def test_attributes_without_a_prefix_are_the_ones_given(settings: Any) -> None:
    settings.SESSION_COOKIE_NAME = "sessionid"
    assert cookie_attributes(path="/app/", domain=".example.com", secure=False) == {
        "path": "/app/",
        "domain": ".example.com",
        "secure": False,
    }


def test_a_secure_prefix_forces_secure_only(settings: Any) -> None:
    settings.SESSION_COOKIE_NAME = "__Secure-sessionid"
    assert cookie_attributes(path="/app/", domain=".example.com", secure=False) == {
        "path": "/app/",
        "domain": ".example.com",
        "secure": True,
    }


def test_the_reason_cookie_with_a_host_prefix(
    engine: str, settings: Any, clock: Clock, user: Any, host_prefixed: None
) -> None:
    settings.SESSIONGUARD_IDLE_TIMEOUT = 600
    client = browser()
    log_in(client)
    clock.advance(601)
    response = client.get("/read/")
    assert response.status_code == 302  # to the login page: idle too long
    assert ENDED_COOKIE not in response.cookies
    assert_host_cookie(response.cookies["__Host-sessionguard_ended"])
    # The login page reads it under the same name.
    assert signed_out_message(response) == (
        "You were signed out after 10 minutes of inactivity."
    )
    # Once signed in again, the middleware deletes it, under the same name too
    # (with Secure: browsers ignore a __Host- deletion without it).
    response = client.post("/login/", {"username": "alice", "password": "pw"})
    deleted = response.cookies["__Host-sessionguard_ended"]
    assert deleted.value == ""
    assert deleted["max-age"] == 0
    assert_host_cookie(deleted)


def test_an_unprefixed_reason_cookie_is_not_read(
    engine: str, settings: Any, clock: Clock, user: Any, host_prefixed: None
) -> None:
    """A sibling subdomain could plant ``sessionguard_ended``; it means nothing."""
    settings.SESSIONGUARD_IDLE_TIMEOUT = 600
    client = browser()
    log_in(client)
    clock.advance(601)
    morsel = client.get("/read/").cookies["__Host-sessionguard_ended"]
    request = RequestFactory().get("/login/")
    request.COOKIES[ENDED_COOKIE] = morsel.value  # a valid signature, wrong name
    assert signed_out_reason(request) == {"sessionguard_signed_out_message": None}
    planted = browser()
    planted.cookies[ENDED_COOKIE] = morsel.value
    # The middleware only drops the reason cookie it reads: this one is unseen.
    response = planted.post("/login/", {"username": "alice", "password": "pw"})
    assert response.status_code == 302
    assert ENDED_COOKIE not in response.cookies
    assert "__Host-sessionguard_ended" not in response.cookies


class CacheDown(ConnectionError):
    pass


def test_the_stale_cache_reminder_with_a_host_prefix(
    settings: Any, monkeypatch: pytest.MonkeyPatch, user: Any, host_prefixed: None
) -> None:
    settings.SESSION_ENGINE = CACHED_DB
    client = Client(secure=True)
    log_in(client)
    cache = caches[settings.SESSION_CACHE_ALIAS]

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise CacheDown("session cache down")

    with monkeypatch.context() as patch:
        patch.setattr(cache, "set", refuse)
        response = client.get("/write/", {"value": 7})
    assert response.json()["counter"] == 7
    assert STALE_COOKIE not in response.cookies
    reminder = response.cookies["__Host-sessionguard_stale"]
    assert reminder.value == "1"
    assert reminder["httponly"] is True
    assert_host_cookie(reminder)
    # The cache answers again: the reminder is read under the same name (the
    # row is read, not the cached copy from before the write) and deleted.
    response = client.get("/read/")
    assert response.json() == {"user": "alice", "counter": 7}
    deleted = response.cookies["__Host-sessionguard_stale"]
    assert deleted.value == ""
    assert deleted["max-age"] == 0
    assert_host_cookie(deleted)
