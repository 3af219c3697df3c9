"""Fixtures for the fault tests: a real Redis of the test's own, and log hygiene.

Every test here gets a fresh ``redis-server`` on a spare loopback port (never
the suite's shared Redis on 6379) and the ``cached_db`` engine pointed at it
through django-redis with :data:`FAULT_TIMEOUT` as socket and connect timeout.
Every log record the test produces is checked for the session keys and key
hashes its clients held.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.test import Client

from django_sessionguard.backends.cached_db import SessionStore
from django_sessionguard.keys import hash_key
from django_sessionguard.models import Session
from django_sessionguard.stale_cache import stale_cookie_name
from tests.faults.redis_server import RedisServer, own_redis_server

CACHED_DB = "django_sessionguard.backends.cached_db"

#: django-redis ``SOCKET_TIMEOUT`` and ``SOCKET_CONNECT_TIMEOUT`` (seconds): what
#: bounds a request while Redis hangs. Generous enough for a loaded machine.
FAULT_TIMEOUT = 1.0

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A running ``redis-server`` owned by this test (killed at the end)."""
    with own_redis_server(tmp_path) as server:
        yield server


@pytest.fixture
def redis(settings: Any, redis_server: RedisServer) -> RedisServer:
    """``cached_db`` with its session cache on :func:`redis_server`."""
    settings.SESSION_ENGINE = CACHED_DB
    settings.ROOT_URLCONF = "tests.faults.urls"
    settings.CACHES = {
        **django_settings.CACHES,
        django_settings.SESSION_CACHE_ALIAS: {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": redis_server.url,
            "KEY_PREFIX": "faults",
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_TIMEOUT": FAULT_TIMEOUT,
                "SOCKET_CONNECT_TIMEOUT": FAULT_TIMEOUT,
            },
        },
    }
    return redis_server


# -- clients and what they hold ------------------------------------------------------


class KeyWatchingClient(Client):
    """A test client that remembers every session key it was given."""

    def __init__(self, seen: set[str], **defaults: Any) -> None:
        super().__init__(**defaults)
        self._seen = seen

    def request(self, **request: Any) -> Any:
        self._note()
        response = super().request(**request)
        self._note()
        return response

    def _note(self) -> None:
        morsel = self.cookies.get(django_settings.SESSION_COOKIE_NAME)
        if morsel is not None and morsel.value:
            self._seen.add(morsel.value)


@pytest.fixture
def session_keys() -> set[str]:
    """Session keys the test's clients held (checked against the logs)."""
    return set()


@pytest.fixture
def browser(session_keys: set[str]) -> Callable[..., KeyWatchingClient]:
    """Make a client whose session keys are watched for in the logs."""

    def make(**defaults: Any) -> KeyWatchingClient:
        defaults.setdefault("HTTP_USER_AGENT", CHROME)
        defaults.setdefault("REMOTE_ADDR", "203.0.113.7")
        return KeyWatchingClient(session_keys, **defaults)

    return make


def _texts(record: logging.LogRecord) -> list[str]:
    texts = [record.getMessage(), repr(record.args)]
    if record.exc_info and record.exc_info[1] is not None:
        texts.append("".join(traceback.format_exception(*record.exc_info)))
    if record.exc_text:
        texts.append(record.exc_text)
    if record.stack_info:
        texts.append(record.stack_info)
    texts.extend(repr(value) for value in record.__dict__.values())
    return texts


@pytest.fixture(autouse=True)
def no_session_key_in_logs(
    caplog: pytest.LogCaptureFixture, session_keys: set[str]
) -> Iterator[None]:
    """Fail the test if any log record carries a session key or its hash."""
    caplog.set_level(logging.DEBUG)
    yield
    secrets = set(session_keys) | {hash_key(key) for key in session_keys}
    for phase in ("setup", "call"):
        for record in caplog.get_records(phase):  # type: ignore[arg-type]
            for text in _texts(record):
                leaked = [secret for secret in secrets if secret in text]
                assert not leaked, f"{record.name} logged a session key: {text!r}"


# -- helpers ------------------------------------------------------------------------


def log_in(client: Client, username: str = "alice") -> None:
    response = client.post("/login/", {"username": username, "password": "pw"})
    assert response.status_code == 302, response.content


def cookie(client: Client) -> str:
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


def reminder(client: Client) -> bool:
    """Whether the client holds the stale-cache reminder cookie."""
    morsel = client.cookies.get(stale_cookie_name())
    return morsel is not None and bool(morsel.value)


def stored(client: Client) -> dict[str, Any]:
    """The session data in the database row."""
    row = Session.objects.get(key_hash=hash_key(cookie(client)))
    return row.get_decoded()


def cached(client: Client) -> Any:
    """The data entry in the session cache (``None``: none), read as the engine does."""
    cache = caches[django_settings.SESSION_CACHE_ALIAS]
    return cache.get(SessionStore.data_cache_key(hash_key(cookie(client))))


def warnings_logged(caplog: pytest.LogCaptureFixture, text: str) -> int:
    return sum(
        1
        for record in caplog.get_records("call")
        if record.levelno >= logging.WARNING and text in record.getMessage()
    )
