"""Shared by the lifecycle tests (timeouts, limits, revocation, events...).

Browsers are Django test clients with a fixed address and User-Agent; they
sign in by posting the real login form, so every test goes through the
middleware, the auth signals and the engine exactly as a site would.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.http import HttpResponseBase
from django.test import Client, RequestFactory

from django_sessionguard.context_processors import signed_out_reason
from django_sessionguard.keys import hash_key, reference_for
from django_sessionguard.models import Session
from django_sessionguard.responses import ended_cookie_name
from tests.conftest import uses_redis

CACHED_DB = "django_sessionguard.backends.cached_db"
IP = "198.51.100.23"
OTHER_IP = "203.0.113.7"
CHROME_120 = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
CHROME_121 = CHROME_120.replace("Chrome/120.0.0.0", "Chrome/121.0.6167.85")
CHROME_130 = CHROME_120.replace("Chrome/120.0.0.0", "Chrome/130.0.0.0")
FIREFOX_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)
JSON = {"HTTP_ACCEPT": "application/json"}


def browser(ip: str = IP, user_agent: str = CHROME_120) -> Client:
    """A browser at ``ip`` sending ``user_agent`` with every request."""
    return Client(REMOTE_ADDR=ip, HTTP_USER_AGENT=user_agent)


def log_in(
    client: Client,
    username: str = "alice",
    password: str = "pw",  # noqa: S107
    path: str = "/login/",
    **extra: Any,
) -> HttpResponseBase:
    """Post the login form; asserts it signed in (302 to the next page)."""
    response = client.post(path, {"username": username, "password": password}, **extra)
    assert response.status_code == 302, response.content
    assert response["Location"] != path, "the login was refused"
    return response


def cookie(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def key_hash_of(client: Client) -> str:
    return hash_key(cookie(client))


def reference_of(client: Client) -> str:
    return reference_for(key_hash_of(client))


def whoami(client: Client) -> str | None:
    """The username the server sees for this client (None: anonymous)."""
    user: str | None = client.get("/read/").json()["user"]
    return user


def row_exists(key_hash: str) -> bool:
    return Session.objects.filter(key_hash=key_hash).exists()


def cached_entries(key_hash: str) -> list[str]:
    """Every session-cache entry still held for this session, tombstones aside.

    Reads the ``cached_db`` store's entry through the cache API; on the Redis
    leg also scans Redis itself for any key naming the session. An ended
    session's entry is overwritten with a short-lived tombstone (which keeps a
    racing request from caching it again); that is not counted, anything else
    is.
    """
    engine = import_module(CACHED_DB)
    store, tombstone = engine.SessionStore, engine.TOMBSTONE
    cache = caches[settings.SESSION_CACHE_ALIAS]
    cache_key = store.data_cache_key(key_hash)
    value = cache.get(cache_key)
    found = [cache_key] if value is not None and value != tombstone else []
    if uses_redis():
        from django_redis import get_redis_connection

        connection = get_redis_connection(settings.SESSION_CACHE_ALIAS)
        found += sorted(
            key.decode()
            for key in connection.scan_iter(match=f"*{key_hash}*")
            if cache.client.decode(connection.get(key)) != tombstone
        )
    return found


def signed_out_message(response: HttpResponseBase) -> str | None:
    """What the login page says after following ``response``.

    Builds the next request with the cookies ``response`` set, and asks the
    context processor the login page uses.
    """
    morsel = response.cookies.get(ended_cookie_name())
    if morsel is None or not morsel.value:
        return None
    request = RequestFactory().get("/login/")
    request.COOKIES[ended_cookie_name()] = morsel.value
    message = signed_out_reason(request)["sessionguard_signed_out_message"]
    return message


def idle_for_staff(user: Any) -> int | None:
    """``SESSIONGUARD_IDLE_TIMEOUT`` callable: 5 minutes for staff, none for others."""
    return 300 if getattr(user, "is_staff", False) else None


def absolute_for_staff(user: Any) -> Any:
    """``SESSIONGUARD_ABSOLUTE_TIMEOUT`` callable: a timedelta, for staff only."""
    from datetime import timedelta

    return timedelta(hours=1) if getattr(user, "is_staff", False) else None


def sessions_for_staff(user: Any) -> int | None:
    """``SESSIONGUARD_MAX_SESSIONS`` callable: staff get 1 session, others 3."""
    return 1 if getattr(user, "is_staff", False) else 3
