"""The session cookie's checks (``E032``/``E033`` in every ``check``, ``W030``-``W032``
with ``DEBUG`` off), the hardening settings' own checks, and the example
project's production settings passing ``check --deploy`` cleanly."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.checks import CheckMessage, Error, run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from django_sessionguard import checks
from django_sessionguard.checks import ENGINES

# run_checks() includes the model checks, which open the database on Django 6.1.
pytestmark = pytest.mark.django_db

EXAMPLE = Path(__file__).resolve().parent.parent / "example_project"

#: What docs/security.md recommends: no deploy check fires.
RECOMMENDED: dict[str, Any] = {
    "DEBUG": False,
    "SESSION_ENGINE": "django_sessionguard.backends.db",
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "__Host-sessionid",
    "SESSION_COOKIE_PATH": "/",
    "SESSION_COOKIE_DOMAIN": None,
    "SESSIONGUARD_PROFILE": "AAL2",
}


def cookie_messages(deploy: bool = False, **changes: Any) -> list[CheckMessage]:
    """Our security-tagged messages of ``manage.py check`` (``--deploy``) for the
    recommended settings + changes: the session cookie's checks."""
    with override_settings(**{**RECOMMENDED, **changes}):
        return [
            m
            for m in run_checks(tags=["security"], include_deployment_checks=deploy)
            if (m.id or "").startswith("django_sessionguard.")
        ]


def production(**changes: Any) -> list[str]:
    """Sorted ids a plain ``manage.py check`` gives for RECOMMENDED + changes."""
    return sorted(m.id or "" for m in cookie_messages(**changes))


def deploy_ids(**changes: Any) -> list[str]:
    with override_settings(**{**RECOMMENDED, **changes}):
        return [
            m.id or ""
            for m in run_checks(include_deployment_checks=True)
            if (m.id or "").startswith("django_sessionguard.")
        ]


@pytest.mark.parametrize(
    "engine_path",
    ["django_sessionguard.backends.db", "django_sessionguard.backends.cached_db"],
)
def test_recommended_settings_are_clean(engine_path: str) -> None:
    assert production(SESSION_ENGINE=engine_path) == []


# -- W030 / E032: SameSite ---------------------------------------------------------


@pytest.mark.parametrize("samesite", [None, False, "None", "none"])
def test_w030_samesite_none(samesite: Any) -> None:
    assert production(SESSION_COOKIE_SAMESITE=samesite) == ["django_sessionguard.W030"]


@pytest.mark.parametrize("samesite", ["None", "none"])
def test_e032_samesite_none_without_secure(samesite: str) -> None:
    messages = cookie_messages(
        SESSION_COOKIE_NAME="sessionid",
        SESSION_COOKIE_SAMESITE=samesite,
        SESSION_COOKIE_SECURE=False,
    )
    e032 = [m for m in messages if m.id == "django_sessionguard.E032"]
    assert len(e032) == 1
    assert isinstance(e032[0], Error)
    assert "django_sessionguard.W030" not in [m.id for m in messages]


@pytest.mark.parametrize("samesite", ["Lax", "Strict", "strict"])
def test_w030_e032_not_raised(samesite: str) -> None:
    assert production(SESSION_COOKIE_SAMESITE=samesite) == []


# -- W031 / E033: the cookie name's prefix ------------------------------------------


@pytest.mark.parametrize("name", ["sessionid", "__Secure-sessionid", "host-session"])
def test_w031_no_host_prefix(name: str) -> None:
    assert production(SESSION_COOKIE_NAME=name) == ["django_sessionguard.W031"]


@pytest.mark.parametrize(
    ("changes", "broken"),
    [
        ({"SESSION_COOKIE_SECURE": False}, "SESSION_COOKIE_SECURE"),
        ({"SESSION_COOKIE_DOMAIN": ".example.com"}, "SESSION_COOKIE_DOMAIN"),
        ({"SESSION_COOKIE_PATH": "/app/"}, "SESSION_COOKIE_PATH"),
        ({"SESSION_COOKIE_NAME": "__host-sid", "SESSION_COOKIE_PATH": "/a"}, "PATH"),
        (
            {"SESSION_COOKIE_NAME": "__Secure-sid", "SESSION_COOKIE_SECURE": False},
            "SESSION_COOKIE_SECURE",
        ),
    ],
)
def test_e033_prefix_rules_broken(changes: dict[str, Any], broken: str) -> None:
    messages = cookie_messages(**changes)
    e033 = [m for m in messages if m.id == "django_sessionguard.E033"]
    assert len(e033) == 1
    assert isinstance(e033[0], Error)
    assert broken in e033[0].msg
    assert "django_sessionguard.W031" not in [m.id for m in messages]


def test_e033_not_raised_for_a_well_formed_secure_prefix() -> None:
    # __Secure- only needs Secure; W031 still recommends __Host-.
    assert production(
        SESSION_COOKIE_NAME="__Secure-sessionid", SESSION_COOKIE_DOMAIN=".example.com"
    ) == ["django_sessionguard.W031"]


# -- W032: timeouts -------------------------------------------------------------------


def test_w032_no_timeout_at_all() -> None:
    assert production(SESSIONGUARD_PROFILE=None) == ["django_sessionguard.W032"]


@pytest.mark.parametrize(
    "timeouts",
    [
        {"SESSIONGUARD_PROFILE": "AAL1"},
        {"SESSIONGUARD_PROFILE": None, "SESSIONGUARD_IDLE_TIMEOUT": 900},
        {"SESSIONGUARD_PROFILE": None, "SESSIONGUARD_ABSOLUTE_TIMEOUT": 3600},
        {
            "SESSIONGUARD_PROFILE": None,
            "SESSIONGUARD_IDLE_TIMEOUT": "tests.lifecycle_support.idle_for_staff",
        },
    ],
)
def test_w032_not_raised(timeouts: dict[str, Any]) -> None:
    assert production(**timeouts) == []


def test_w032_leaves_a_bad_timeout_to_e006() -> None:
    ids = deploy_ids(SESSIONGUARD_PROFILE=None, SESSIONGUARD_IDLE_TIMEOUT="soon")
    assert "django_sessionguard.W032" not in ids
    assert "django_sessionguard.E006" in ids


# -- when these checks run ------------------------------------------------------------

WORST = {
    "SESSION_COOKIE_SAMESITE": "None",
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_NAME": "__Host-sessionid",
    "SESSION_COOKIE_DOMAIN": ".example.com",
    "SESSIONGUARD_PROFILE": None,
}


#: What WORST gives: E032, E033 (browsers refuse the cookie), W010 (not Secure)
#: and W032 (no timeout); E032 and E033 leave no room for W030 and W031.
WORST_IDS = [
    "django_sessionguard.E032",
    "django_sessionguard.E033",
    "django_sessionguard.W010",
    "django_sessionguard.W032",
]
ERRORS = ["django_sessionguard.E032", "django_sessionguard.E033"]


def all_ids(*, debug: bool, deploy: bool) -> list[str]:
    """Our ids from every check ``manage.py check`` (``--deploy``) runs for WORST."""
    with override_settings(**{**RECOMMENDED, **WORST, "DEBUG": debug}):
        return sorted(
            m.id or ""
            for m in run_checks(include_deployment_checks=deploy)
            if (m.id or "").startswith("django_sessionguard.")
        )


@pytest.mark.parametrize("deploy", [False, True], ids=["check", "check-deploy"])
def test_with_debug_off_every_check_reports_everything_once(deploy: bool) -> None:
    assert all_ids(debug=False, deploy=deploy) == WORST_IDS


def test_with_debug_on_a_plain_check_reports_only_cookies_browsers_refuse() -> None:
    assert all_ids(debug=True, deploy=False) == ERRORS


def test_with_debug_on_check_deploy_adds_the_secure_and_httponly_warnings() -> None:
    assert all_ids(debug=True, deploy=True) == [*ERRORS, "django_sessionguard.W010"]


@pytest.mark.parametrize("check_id", ERRORS)
def test_an_unusable_cookie_stops_manage_py_check_even_with_debug_on(
    check_id: str,
) -> None:
    with (
        override_settings(**{**RECOMMENDED, **WORST, "DEBUG": True}),
        pytest.raises(SystemCheckError, match=re.escape(check_id)),
    ):
        call_command("check")


def test_the_recommendations_are_silent_with_debug_on() -> None:
    # W030-W032 need DEBUG off, whichever check runs.
    weak = {
        "SESSION_COOKIE_SAMESITE": None,
        "SESSION_COOKIE_NAME": "sessionid",
        "SESSIONGUARD_PROFILE": None,
    }
    assert production(**weak) == [
        "django_sessionguard.W030",
        "django_sessionguard.W031",
        "django_sessionguard.W032",
    ]
    assert production(DEBUG=True, **weak) == []
    with override_settings(**{**RECOMMENDED, **weak, "DEBUG": True}):
        deploy = [m.id for m in run_checks(include_deployment_checks=True)]
    for check_id in ("W030", "W031", "W032"):
        assert f"django_sessionguard.{check_id}" not in deploy


def test_silent_for_other_engines() -> None:
    engine = "django.contrib.sessions.backends.signed_cookies"
    assert production(SESSION_ENGINE=engine, **WORST) == []
    assert production(SESSION_ENGINE=engine, DEBUG=True, **WORST) == []


@pytest.mark.parametrize("engine_path", ENGINES)
def test_every_message_is_actionable(engine_path: str) -> None:
    messages = cookie_messages(deploy=True, SESSION_ENGINE=engine_path, **WORST)
    assert sorted(m.id or "" for m in messages) == WORST_IDS
    assert all(m.hint for m in messages)


# -- E031: the guessing settings -------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GUESSING_THRESHOLD", 0),
        ("GUESSING_THRESHOLD", "20"),
        ("GUESSING_THRESHOLD", True),
        ("GUESSING_WINDOW", 0),
        ("GUESSING_WINDOW", "5 minutes"),
        ("GUESSING_WINDOW", None),
        ("GUESSING_BLOCK", "yes"),
        ("GUESSING_BLOCK", None),
    ],
)
def test_e031_bad_guessing_setting(name: str, value: Any) -> None:
    with override_settings(**{f"SESSIONGUARD_{name}": value}):
        messages = checks.check_hardening_settings()
    assert [m.id for m in messages] == ["django_sessionguard.E031"]
    assert f"SESSIONGUARD_{name}" in messages[0].msg


@pytest.mark.parametrize(
    "values",
    [
        {"SESSIONGUARD_GUESSING_THRESHOLD": None},
        {"SESSIONGUARD_GUESSING_THRESHOLD": 50, "SESSIONGUARD_GUESSING_WINDOW": 60},
        {"SESSIONGUARD_GUESSING_WINDOW": __import__("datetime").timedelta(minutes=10)},
        {"SESSIONGUARD_GUESSING_BLOCK": True},
    ],
)
def test_e031_good_guessing_settings(values: dict[str, Any]) -> None:
    with override_settings(**values):
        assert checks.check_hardening_settings() == []


# -- the example project --------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "settings_module",
    ["example_project.settings", "example_project.settings_production"],
)
@pytest.mark.parametrize(
    ("preload", "silenced"),
    [("1", []), ("", ["security.W021"])],
    ids=["hsts-preload", "default"],
)
def test_example_project_passes_check_deploy_with_debug_off(
    settings_module: str, preload: str, silenced: list[str]
) -> None:
    """Clean under ``check --deploy``, whether HSTS preload is asked for or not.

    Preloading is opt-in (``DJANGO_HSTS_PRELOAD=1``): it is hard to undo. While
    it is off, Django's own check asking for it (``security.W021``) is silenced,
    and nothing else is.
    """
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "sessions.example.com",
        "DJANGO_HSTS_PRELOAD": preload,
    }

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 (our interpreter, manage.py)
            [sys.executable, "manage.py", *args],
            cwd=EXAMPLE,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        f"System check identified no issues ({len(silenced)} silenced)."
        in result.stdout
    )
    shown = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; "
        "print(settings.SECURE_HSTS_PRELOAD, settings.SILENCED_SYSTEM_CHECKS)",
    )
    assert shown.stdout.split("\n")[-2] == f"{preload == '1'} {silenced}", shown


@pytest.mark.slow
def test_the_demo_settings_pass_a_plain_check_with_debug_on(tmp_path: Path) -> None:
    """``make demo`` (DEBUG on, plain HTTP): no cookie check says anything."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "example_project.settings",
        "DJANGO_DEBUG": "1",
        # Django 6.1's check opens the database: keep the demo's file out of the tree.
        "DEMO_DB": str(tmp_path / "check.sqlite3"),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--fail-level", "WARNING"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
