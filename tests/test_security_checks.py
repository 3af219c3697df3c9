"""Deploy checks for production session settings (``check --deploy``, ``DEBUG`` off),
the hardening settings' own checks, and the example project's production
settings passing ``check --deploy`` cleanly."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.checks import CheckMessage, Error, run_checks
from django.test import override_settings

from django_sessionguard import checks

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


def production(**changes: Any) -> list[str]:
    """Ids of the production-settings check for the recommended settings + changes."""
    with override_settings(**{**RECOMMENDED, **changes}):
        return [m.id or "" for m in checks.check_production_session_settings()]


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
    with override_settings(
        **{
            **RECOMMENDED,
            "SESSION_COOKIE_NAME": "sessionid",
            "SESSION_COOKIE_SAMESITE": samesite,
            "SESSION_COOKIE_SECURE": False,
        }
    ):
        messages = checks.check_production_session_settings()
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
    with override_settings(**{**RECOMMENDED, **changes}):
        messages = checks.check_production_session_settings()
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


def test_deploy_only() -> None:
    with override_settings(**{**RECOMMENDED, **WORST}):
        plain = [m.id for m in run_checks()]
        deploy = [m.id for m in run_checks(include_deployment_checks=True)]
    for check_id in ("E032", "E033", "W032"):
        assert f"django_sessionguard.{check_id}" not in plain
        assert f"django_sessionguard.{check_id}" in deploy


def test_silent_with_debug_on() -> None:
    assert production(DEBUG=True, **WORST) == []


def test_silent_for_other_engines() -> None:
    engine = "django.contrib.sessions.backends.signed_cookies"
    assert production(SESSION_ENGINE=engine, **WORST) == []


def test_every_message_is_actionable() -> None:
    with override_settings(**{**RECOMMENDED, **WORST}):
        messages: list[CheckMessage] = checks.check_production_session_settings()
    assert sorted(m.id or "" for m in messages) == [
        "django_sessionguard.E032",
        "django_sessionguard.E033",
        "django_sessionguard.W032",
    ]
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
