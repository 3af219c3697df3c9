"""E060 / W060: a session cache that hides its failures, or can hang requests.

Also pins down the django-redis behaviour E060 exists for: with
``IGNORE_EXCEPTIONS`` a write to an unreachable Redis returns as if it had
worked, which would make a refused revocation look successful.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from django_sessionguard import checks
from tests.faults.redis_server import spare_port

pytestmark = pytest.mark.django_db

CACHED_DB = "django_sessionguard.backends.cached_db"
DB = "django_sessionguard.backends.db"
DJANGO_REDIS = "django_redis.cache.RedisCache"
BUILTIN_REDIS = "django.core.cache.backends.redis.RedisCache"
TIMEOUTS = {"SOCKET_TIMEOUT": 1, "SOCKET_CONNECT_TIMEOUT": 1}


def found(**settings: Any) -> list[str]:
    settings.setdefault("SESSION_ENGINE", CACHED_DB)
    settings.setdefault("SESSION_CACHE_ALIAS", "sessions")
    settings.setdefault("DEBUG", False)
    with override_settings(**settings):
        return [
            message.id or ""
            for message in checks.check_session_cache_faults(app_configs=None)
        ]


def sessions_cache(backend: str = DJANGO_REDIS, **options: Any) -> dict[str, Any]:
    return {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "sessions": {
            "BACKEND": backend,
            "LOCATION": "redis://127.0.0.1:6379/7",
            "OPTIONS": options,
        },
    }


def test_recommended_settings_are_clean() -> None:
    assert found(CACHES=sessions_cache(**TIMEOUTS)) == []
    assert found(CACHES=sessions_cache(IGNORE_EXCEPTIONS=False, **TIMEOUTS)) == []


def test_e060_ignore_exceptions_on_the_session_cache() -> None:
    caches = sessions_cache(IGNORE_EXCEPTIONS=True, **TIMEOUTS)
    assert found(CACHES=caches) == ["django_sessionguard.E060"]
    assert found(CACHES=caches, DEBUG=True) == ["django_sessionguard.E060"]


def test_e060_follows_the_global_django_redis_setting() -> None:
    assert found(
        CACHES=sessions_cache(**TIMEOUTS), DJANGO_REDIS_IGNORE_EXCEPTIONS=True
    ) == ["django_sessionguard.E060"]
    # An alias that turns it off for itself is fine.
    assert (
        found(
            CACHES=sessions_cache(IGNORE_EXCEPTIONS=False, **TIMEOUTS),
            DJANGO_REDIS_IGNORE_EXCEPTIONS=True,
        )
        == []
    )


@pytest.mark.parametrize(
    ("backend", "options"),
    [
        (DJANGO_REDIS, {}),
        (DJANGO_REDIS, {"SOCKET_TIMEOUT": 1}),
        (DJANGO_REDIS, {"SOCKET_CONNECT_TIMEOUT": 1}),
        (BUILTIN_REDIS, {}),
        (BUILTIN_REDIS, {"socket_timeout": 1}),
    ],
)
def test_w060_no_socket_timeouts(backend: str, options: dict[str, Any]) -> None:
    assert found(CACHES=sessions_cache(backend, **options)) == [
        "django_sessionguard.W060"
    ]


def test_w060_is_quiet_when_it_does_not_matter() -> None:
    assert found(CACHES=sessions_cache(), DEBUG=True) == []
    assert found(CACHES=sessions_cache(), SESSION_ENGINE=DB) == []
    assert (
        found(
            CACHES=sessions_cache(
                BUILTIN_REDIS, socket_timeout=1, socket_connect_timeout=1
            )
        )
        == []
    )


def test_both_are_reported_by_manage_py_check() -> None:
    with override_settings(
        SESSION_ENGINE=CACHED_DB,
        SESSION_CACHE_ALIAS="sessions",
        DEBUG=False,
        CACHES=sessions_cache(IGNORE_EXCEPTIONS=True),
    ):
        messages = {m.id: m for m in run_checks() if m.id and "060" in m.id}
    assert sorted(messages) == ["django_sessionguard.E060", "django_sessionguard.W060"]
    assert all(message.hint for message in messages.values())


def test_ignore_exceptions_makes_a_failed_write_look_successful() -> None:
    """Why E060 is an error: the failure never reaches the caller."""
    import redis
    from django.core.cache import caches

    nothing_listens = f"redis://127.0.0.1:{spare_port()}/0"
    config = {
        "BACKEND": DJANGO_REDIS,
        "LOCATION": nothing_listens,
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, **TIMEOUTS},
    }
    with override_settings(CACHES={"default": config, "quiet": config}):
        quiet = caches["quiet"]
        assert quiet.set_many({"tombstone": "x"}, 60) is None  # no error raised
        assert quiet.get("tombstone") is None  # and nothing was written
    config["OPTIONS"] = TIMEOUTS
    with (
        override_settings(CACHES={"default": config, "loud": config}),
        pytest.raises(redis.exceptions.ConnectionError),
    ):
        caches["loud"].set_many({"tombstone": "x"}, 60)
