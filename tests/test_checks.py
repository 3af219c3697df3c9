"""System checks: each id fires on its bad configuration, and only there."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.core.checks import CheckMessage, run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from django_sessionguard import checks, cookie_checks, isolation_checks
from django_sessionguard.conf import DEFAULTS
from django_sessionguard.middleware import SessionGuardMiddleware

# run_checks() includes the model checks, which open the database on Django 6.1
# (whether a test runs first that already opened it must not matter).
pytestmark = pytest.mark.django_db

OURS = "django_sessionguard.middleware.SessionGuardMiddleware"
DJANGOS = "django.contrib.sessions.middleware.SessionMiddleware"
AUTH = "django.contrib.auth.middleware.AuthenticationMiddleware"
DB = "django_sessionguard.backends.db"
CACHED_DB = "django_sessionguard.backends.cached_db"
LOCMEM = "django.core.cache.backends.locmem.LocMemCache"
REDIS = "django_redis.cache.RedisCache"

GOOD_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    OURS,
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    AUTH,
    "django.contrib.messages.middleware.MessageMiddleware",
]


class CustomSessionMiddleware(SessionGuardMiddleware):
    """A project's own subclass still counts as the session middleware."""


class CustomAuthenticationMiddleware(AuthenticationMiddleware):
    pass


CUSTOM_OURS = f"{__name__}.CustomSessionMiddleware"
CUSTOM_AUTH = f"{__name__}.CustomAuthenticationMiddleware"


def ids(messages: list[CheckMessage]) -> list[str]:
    return [message.id for message in messages if message.id]


def ours(messages: list[CheckMessage]) -> list[str]:
    return [id_ for id_ in ids(messages) if id_.startswith("django_sessionguard.")]


def run(check: Callable[..., list[CheckMessage]], **settings: Any) -> list[str]:
    with override_settings(**settings):
        return ids(check(app_configs=None))


# -- the test project itself ------------------------------------------------------


@pytest.mark.parametrize("engine_path", [DB, CACHED_DB])
def test_good_configuration_is_clean(engine_path: str) -> None:
    with override_settings(
        SESSION_ENGINE=engine_path,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_NAME="__Host-sessionid",
        SESSIONGUARD_PROFILE="AAL2",
        CACHES={
            "default": {"BACKEND": LOCMEM},
            "sessions": {
                "BACKEND": REDIS,
                "LOCATION": "redis://127.0.0.1:6379/7",
                # A hung Redis must not hang requests (W060).
                "OPTIONS": {"SOCKET_TIMEOUT": 1, "SOCKET_CONNECT_TIMEOUT": 1},
            },
        },
    ):
        assert ours(run_checks(include_deployment_checks=True)) == []
        call_command("check", "--deploy", "--tag", "compatibility", "--tag", "caches")


def test_errors_stop_manage_py_check() -> None:
    with (
        override_settings(SESSIONGUARD_ACTIVITY_INTERVAL="soon"),
        pytest.raises(SystemCheckError, match=r"django_sessionguard\.E001"),
    ):
        call_command("check")


# -- E001 / E002: setting types -------------------------------------------------


@pytest.mark.parametrize("value", ["60", -1, True, None, [60]])
def test_e001_bad_activity_interval(value: Any) -> None:
    assert run(checks.check_settings, SESSIONGUARD_ACTIVITY_INTERVAL=value) == [
        "django_sessionguard.E001"
    ]


@pytest.mark.parametrize("value", [0, 60, 2.5, __import__("datetime").timedelta(1)])
def test_e001_good_activity_interval(value: Any) -> None:
    assert run(checks.check_settings, SESSIONGUARD_ACTIVITY_INTERVAL=value) == []


@pytest.mark.parametrize(
    "value", ["10.0.0.0/8", ["not-an-ip"], [10], None, ["10.0.0.0/33"], {"a": 1}]
)
def test_e002_bad_trusted_proxies(value: Any) -> None:
    assert run(checks.check_settings, SESSIONGUARD_TRUSTED_PROXIES=value) == [
        "django_sessionguard.E002"
    ]


@pytest.mark.parametrize(
    "value", [[], (), ["10.0.0.0/8", "::1", "192.168.1.1"], ("2001:db8::/32",)]
)
def test_e002_good_trusted_proxies(value: Any) -> None:
    assert run(checks.check_settings, SESSIONGUARD_TRUSTED_PROXIES=value) == []


# -- E003 / E004 / E005 / W001: installation --------------------------------------


def test_e003_engine_without_middleware() -> None:
    middleware = [DJANGOS if path == OURS else path for path in GOOD_MIDDLEWARE]
    for engine_path in (DB, CACHED_DB):
        found = run(
            checks.check_installation,
            SESSION_ENGINE=engine_path,
            MIDDLEWARE=middleware,
        )
        assert found == ["django_sessionguard.E003"]


def test_e003_not_raised_for_a_subclass() -> None:
    middleware = [CUSTOM_OURS if path == OURS else path for path in GOOD_MIDDLEWARE]
    assert run(checks.check_installation, MIDDLEWARE=middleware) == []


def test_e004_both_session_middlewares() -> None:
    middleware = [DJANGOS, *GOOD_MIDDLEWARE]
    assert run(checks.check_installation, MIDDLEWARE=middleware) == [
        "django_sessionguard.E004"
    ]


@pytest.mark.parametrize("auth", [AUTH, CUSTOM_AUTH])
def test_e005_authentication_before_sessions(auth: str) -> None:
    middleware = [auth, OURS, "django.middleware.common.CommonMiddleware"]
    assert run(checks.check_installation, MIDDLEWARE=middleware) == [
        "django_sessionguard.E005"
    ]


def test_e005_not_raised_in_the_right_order() -> None:
    middleware = [OURS, CUSTOM_AUTH]
    assert run(checks.check_installation, MIDDLEWARE=middleware) == []


@pytest.mark.parametrize(
    "engine_path",
    [
        "django.contrib.sessions.backends.signed_cookies",
        "django.contrib.sessions.backends.cache",
    ],
)
def test_w001_middleware_without_engine(engine_path: str) -> None:
    assert run(checks.check_installation, SESSION_ENGINE=engine_path) == [
        "django_sessionguard.W001"
    ]


def test_installation_good() -> None:
    for engine_path in (DB, CACHED_DB):
        found = run(
            checks.check_installation,
            SESSION_ENGINE=engine_path,
            MIDDLEWARE=GOOD_MIDDLEWARE,
        )
        assert found == []


def test_other_engines_without_our_middleware_are_not_our_business() -> None:
    middleware = [DJANGOS if path == OURS else path for path in GOOD_MIDDLEWARE]
    assert (
        run(
            checks.check_installation,
            SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
            MIDDLEWARE=middleware,
        )
        == []
    )


# -- W002: a cache every process shares ---------------------------------------------


def caches_with(backend: str) -> dict[str, Any]:
    return {
        "default": {"BACKEND": LOCMEM},
        "sessions": {"BACKEND": backend, "LOCATION": "redis://127.0.0.1:6379/7"},
    }


@pytest.mark.parametrize(
    "backend", [LOCMEM, "django.core.cache.backends.dummy.DummyCache"]
)
def test_w002_process_local_cache(backend: str) -> None:
    found = run(
        checks.check_shared_cache,
        SESSION_ENGINE=CACHED_DB,
        SESSION_CACHE_ALIAS="sessions",
        CACHES=caches_with(backend),
        DEBUG=False,
    )
    assert found == ["django_sessionguard.W002"]


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({"SESSION_ENGINE": CACHED_DB, "DEBUG": True}, id="debug"),
        pytest.param({"SESSION_ENGINE": DB, "DEBUG": False}, id="db-engine"),
    ],
)
def test_w002_not_raised_when_it_does_not_matter(settings: dict[str, Any]) -> None:
    found = run(
        checks.check_shared_cache,
        SESSION_CACHE_ALIAS="sessions",
        CACHES=caches_with(LOCMEM),
        **settings,
    )
    assert found == []


def test_w002_not_raised_for_a_shared_cache() -> None:
    found = run(
        checks.check_shared_cache,
        SESSION_ENGINE=CACHED_DB,
        SESSION_CACHE_ALIAS="sessions",
        CACHES=caches_with(REDIS),
        DEBUG=False,
    )
    assert found == []


# -- W010 / W011: the cookie (DEBUG off, or check --deploy) -----------------------


@pytest.mark.parametrize("engine_path", [DB, CACHED_DB])
@pytest.mark.parametrize(
    ("secure", "httponly", "expected"),
    [
        (False, True, ["django_sessionguard.W010"]),
        (True, False, ["django_sessionguard.W011"]),
        (False, False, ["django_sessionguard.W010", "django_sessionguard.W011"]),
        (True, True, []),
    ],
)
def test_cookie_deploy_checks(
    engine_path: str, secure: bool, httponly: bool, expected: list[str]
) -> None:
    found = run(
        cookie_checks.check_session_cookie,
        SESSION_ENGINE=engine_path,
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=httponly,
        DEBUG=False,
    )
    assert found == expected


def cookie_ids(*, debug: bool, deploy: bool) -> list[str]:
    with override_settings(
        SESSION_COOKIE_SECURE=False, SESSION_COOKIE_HTTPONLY=False, DEBUG=debug
    ):
        found = ids(run_checks(include_deployment_checks=deploy))
    return sorted(
        i
        for i in found
        if i in ("django_sessionguard.W010", "django_sessionguard.W011")
    )


@pytest.mark.parametrize(
    ("debug", "deploy", "expected"),
    [
        pytest.param(True, False, [], id="check-debug-on"),
        pytest.param(
            False,
            False,
            ["django_sessionguard.W010", "django_sessionguard.W011"],
            id="check-debug-off",
        ),
        pytest.param(
            True,
            True,
            ["django_sessionguard.W010", "django_sessionguard.W011"],
            id="deploy-debug-on",
        ),
        pytest.param(
            False,
            True,
            ["django_sessionguard.W010", "django_sessionguard.W011"],
            id="deploy-debug-off",
        ),
    ],
)
def test_cookie_checks_run_with_debug_off_or_deploy(
    debug: bool, deploy: bool, expected: list[str]
) -> None:
    """Once each, in a plain ``check`` with DEBUG off and in every ``--deploy``."""
    assert cookie_ids(debug=debug, deploy=deploy) == expected


@pytest.mark.parametrize("debug", [False, True])
def test_cookie_checks_leave_other_engines_alone(debug: bool) -> None:
    for check in (
        cookie_checks.check_session_cookie,
        cookie_checks.check_session_cookie_for_deploy,
    ):
        found = run(
            check,
            SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
            SESSION_COOKIE_SECURE=False,
            SESSION_COOKIE_HTTPONLY=False,
            DEBUG=debug,
        )
        assert found == []


# -- every message is actionable ---------------------------------------------------


def test_every_message_has_a_hint() -> None:
    with override_settings(
        SESSIONGUARD_ACTIVITY_INTERVAL=-1,
        SESSIONGUARD_TRUSTED_PROXIES="nope",
        SESSIONGUARD_LIMIT_POLICY="nope",
        SESSIONGUARD_IDLE_TIMEOUT=3600,
        SESSIONGUARD_ABSOLUTE_TIMEOUT=60,
        SESSION_ENGINE=CACHED_DB,
        MIDDLEWARE=[AUTH, DJANGOS, OURS],
        CACHES=caches_with(LOCMEM),
        DEBUG=False,
        SESSION_COOKIE_SECURE=False,
        SESSION_COOKIE_HTTPONLY=False,
    ):
        messages = [
            message
            for message in run_checks(include_deployment_checks=True)
            if (message.id or "").startswith("django_sessionguard.")
        ]
    assert sorted(ids(messages)) == [
        "django_sessionguard.E001",
        "django_sessionguard.E002",
        "django_sessionguard.E004",
        "django_sessionguard.E005",
        "django_sessionguard.E006",
        "django_sessionguard.W002",
        "django_sessionguard.W003",
        "django_sessionguard.W010",
        "django_sessionguard.W011",
        "django_sessionguard.W031",
    ]
    for message in messages:
        assert message.hint


# -- E006 / W003: the policy settings -----------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PROFILE", "AAL9"),
        ("IDLE_TIMEOUT", -5),
        ("IDLE_TIMEOUT", "no.such.callable"),
        ("IDLE_TIMEOUT", [60]),
        ("ABSOLUTE_TIMEOUT", "3600"),
        ("MAX_SESSIONS", 0),
        ("MAX_SESSIONS", 2.5),
        ("MAX_SESSIONS", "django.conf.settings"),  # importable, not callable
        ("LIMIT_POLICY", "evict_newest"),
        ("IP_CHANGE", "block"),
        ("UA_CHANGE", True),
        ("PASSIVE_PATHS", "/api/"),
        ("PASSIVE_PATHS", ["api/"]),
        ("EVENT_RETENTION", "1 year"),
    ],
)
def test_e006_bad_policy_setting(name: str, value: Any) -> None:
    with override_settings(**{f"SESSIONGUARD_{name}": value}):
        messages = checks.check_settings(app_configs=None)
    assert ids(messages) == ["django_sessionguard.E006"]
    assert f"SESSIONGUARD_{name}" in messages[0].msg


def test_e006_bad_profile_is_reported_once() -> None:
    assert run(checks.check_settings, SESSIONGUARD_PROFILE="AAL9") == [
        "django_sessionguard.E006"
    ]


@pytest.mark.parametrize(
    "settings",
    [
        {"SESSIONGUARD_PROFILE": "AAL2"},
        {"SESSIONGUARD_IDLE_TIMEOUT": 900, "SESSIONGUARD_ABSOLUTE_TIMEOUT": 3600},
        {"SESSIONGUARD_IDLE_TIMEOUT": "django.contrib.auth.get_user_model"},
        {"SESSIONGUARD_MAX_SESSIONS": 3, "SESSIONGUARD_LIMIT_POLICY": "deny_new"},
        {"SESSIONGUARD_IP_CHANGE": "revoke", "SESSIONGUARD_UA_CHANGE": "ignore"},
        {"SESSIONGUARD_PASSIVE_PATHS": ["/api/poll/"]},
        {"SESSIONGUARD_EVENT_RETENTION": None},
    ],
)
def test_e006_good_policy_settings(settings: dict[str, Any]) -> None:
    assert run(checks.check_settings, **settings) == []


@pytest.mark.parametrize(("idle", "absolute"), [(3600, 3600), (7200, 3600)])
def test_w003_idle_not_shorter_than_absolute(idle: int, absolute: int) -> None:
    assert run(
        checks.check_settings,
        SESSIONGUARD_IDLE_TIMEOUT=idle,
        SESSIONGUARD_ABSOLUTE_TIMEOUT=absolute,
    ) == ["django_sessionguard.W003"]


def test_w003_not_raised_for_a_profile_or_callables() -> None:
    for profile in ("AAL1", "AAL2", "AAL3"):
        assert run(checks.check_settings, SESSIONGUARD_PROFILE=profile) == []
    assert (
        run(
            checks.check_settings,
            SESSIONGUARD_IDLE_TIMEOUT="django.contrib.auth.get_user_model",
            SESSIONGUARD_ABSOLUTE_TIMEOUT=60,
        )
        == []
    )


# -- E007: the pages' settings --------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BASE_TEMPLATE", ""),
        ("BASE_TEMPLATE", None),
        ("MASK_IP", "yes"),
        ("REAUTH_FOR_REVOKE", None),
        ("REAUTH_MAX_AGE", -1),
        ("REAUTH_MAX_AGE", "5 minutes"),
    ],
)
def test_e007_bad_page_setting(name: str, value: Any) -> None:
    with override_settings(**{f"SESSIONGUARD_{name}": value}):
        messages = checks.check_page_settings(app_configs=None)
    assert ids(messages) == ["django_sessionguard.E007"]
    assert f"SESSIONGUARD_{name}" in messages[0].msg
    assert messages[0].hint


def test_e007_good_page_settings() -> None:
    assert (
        run(
            checks.check_page_settings,
            SESSIONGUARD_BASE_TEMPLATE="base.html",
            SESSIONGUARD_MASK_IP=True,
            SESSIONGUARD_REAUTH_FOR_REVOKE=True,
            SESSIONGUARD_REAUTH_MAX_AGE=timedelta(minutes=10),
        )
        == []
    )


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_every_setting_is_validated_at_start_up(name: str) -> None:
    """A value of no valid type, in any ``SESSIONGUARD_*`` setting, is a check error.

    Never a crash of the checks, and never a pass left for the first request
    that reads the setting to fail.
    """
    with override_settings(**{f"SESSIONGUARD_{name}": object()}):
        messages = run_checks(include_deployment_checks=True)
    errors = [
        message
        for message in messages
        if message.is_serious() and f"SESSIONGUARD_{name}" in message.msg
    ]
    assert errors, messages
    assert all((error.id or "").startswith("django_sessionguard.E") for error in errors)


# -- W080: the session limit under MySQL's REPEATABLE READ --------------------------


@pytest.mark.parametrize(
    ("vendor", "settings_dict", "expected"),
    [
        pytest.param(
            "mysql",
            {"ATOMIC_REQUESTS": True, "OPTIONS": {"isolation_level": level}},
            ["django_sessionguard.W080"],
            id=f"atomic-{level}",
        )
        for level in ("repeatable read", "REPEATABLE READ", "serializable", None)
    ]
    + [
        pytest.param(
            "mysql",
            {"ATOMIC_REQUESTS": True, "OPTIONS": {}},
            [],
            id="atomic-django-default-read-committed",
        ),
        pytest.param(
            "mysql",
            {"ATOMIC_REQUESTS": True, "OPTIONS": {"isolation_level": "READ COMMITTED"}},
            [],
            id="atomic-read-committed",
        ),
        pytest.param(
            "mysql",
            {
                "ATOMIC_REQUESTS": False,
                "OPTIONS": {"isolation_level": "repeatable read"},
            },
            [],
            id="no-outer-transaction",
        ),
        pytest.param(
            "postgresql",
            {"ATOMIC_REQUESTS": True, "OPTIONS": {}},
            [],
            id="postgresql",
        ),
    ],
)
def test_w080_outer_transaction_above_read_committed_on_mysql(
    vendor: str, settings_dict: dict[str, Any], expected: list[str]
) -> None:
    assert (
        ids(isolation_checks.isolation_messages("default", vendor, settings_dict))
        == expected
    )


def test_w080_names_the_database_and_the_level() -> None:
    (message,) = isolation_checks.isolation_messages(
        "sessions_db",
        "mysql",
        {"ATOMIC_REQUESTS": True, "OPTIONS": {"isolation_level": None}},
    )
    assert "'sessions_db'" in message.msg
    assert "unset, so the server's default" in message.msg
    assert '"read committed"' in str(message.hint)


@pytest.mark.parametrize("atomic_requests", [False, True])
def test_w080_on_this_legs_database(
    atomic_requests: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The registered check reads the database that records sessions: the
    test settings keep Django's default isolation, which is always fine; with
    REPEATABLE READ and ATOMIC_REQUESTS only MySQL/MariaDB is warned about."""
    from django.db import connection

    assert (
        run(isolation_checks.check_limit_isolation, SESSIONGUARD_MAX_SESSIONS=3) == []
    )
    options = connection.settings_dict.get("OPTIONS") or {}
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", atomic_requests)
    monkeypatch.setitem(
        connection.settings_dict,
        "OPTIONS",
        {**options, "isolation_level": "repeatable read"},
    )
    warned = atomic_requests and connection.vendor == "mysql"
    assert run(isolation_checks.check_limit_isolation, SESSIONGUARD_MAX_SESSIONS=3) == (
        ["django_sessionguard.W080"] if warned else []
    )
    # Without a limit there is nothing to count.
    assert (
        run(isolation_checks.check_limit_isolation, SESSIONGUARD_MAX_SESSIONS=None)
        == []
    )
