"""``sessionguard_policy``: what is in force, for the security documentation."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from django_sessionguard.conf import DEFAULTS
from django_sessionguard.management.commands.sessionguard_policy import duration


def stricter_for_staff(user: Any) -> int | None:
    """A per-user timeout, named by dotted path in the tests below."""
    return 600 if user.is_staff else None


def text(**options: Any) -> dict[str, str]:
    out = StringIO()
    call_command("sessionguard_policy", stdout=out, **options)
    lines = out.getvalue().splitlines()
    assert lines[:2] == ["django-sessionguard effective session policy", ""]
    rows = {}
    for line in lines[2:]:
        label, _, value = line.partition(":")
        rows[label] = value.strip()
    return rows


def as_json(**options: Any) -> dict[str, Any]:
    out = StringIO()
    call_command("sessionguard_policy", format="json", stdout=out, **options)
    data: dict[str, Any] = json.loads(out.getvalue())
    return data


def test_defaults_as_text() -> None:
    rows = text()
    assert rows["Session engine"] == "django_sessionguard.backends.db"
    assert rows["Profile"] == "none"
    assert rows["Idle timeout"] == "none"
    assert rows["Absolute timeout"] == "none"
    assert rows["Sessions per user"] == "unlimited"
    assert rows["Over the limit"] == (
        "evict_oldest (the least recently active session ends)"
    )
    assert rows["IP address change"] == "log (audit event only)"
    assert rows["Browser change"] == "revoke (the session ends)"
    assert rows["Activity recorded"] == "at most every 1 minute"
    assert rows["Passive paths"] == "none"
    assert rows["Trusted proxies"] == "none (the connecting address is the client)"
    assert rows["Event retention"] == "365 days"
    assert rows["SESSION_COOKIE_HTTPONLY"] == "True"
    assert rows["SESSION_COOKIE_SAMESITE"] == "'Lax'"
    assert "Session cache alias" not in rows


def test_profile_values_say_where_they_come_from(settings: Any) -> None:
    settings.SESSIONGUARD_PROFILE = "AAL2"
    settings.SESSIONGUARD_IDLE_TIMEOUT = timedelta(minutes=20)
    rows = text()
    assert rows["Profile"] == "AAL2 (NIST SP 800-63B rev 4)"
    assert rows["Idle timeout"] == "20 minutes"
    assert rows["Absolute timeout"] == "1 day (from profile AAL2)"
    data = as_json()
    assert data["profile"] == "AAL2"
    assert data["idle_timeout"] == {
        "seconds": 1200,
        "callable": None,
        "source": "setting",
    }
    assert data["absolute_timeout"] == {
        "seconds": 86400,
        "callable": None,
        "source": "profile",
    }


def test_per_user_callables_are_named(settings: Any) -> None:
    path = f"{__name__}.stricter_for_staff"
    settings.SESSIONGUARD_IDLE_TIMEOUT = path
    settings.SESSIONGUARD_MAX_SESSIONS = path
    rows = text()
    assert rows["Idle timeout"] == f"per-user callable {path}"
    assert rows["Sessions per user"] == f"per-user callable {path}"
    data = as_json()
    assert data["idle_timeout"] == {
        "seconds": None,
        "callable": path,
        "source": "setting",
    }
    assert data["max_sessions"] == path


def test_everything_else_as_json(settings: Any) -> None:
    settings.SESSION_ENGINE = "django_sessionguard.backends.cached_db"
    settings.SESSIONGUARD_MAX_SESSIONS = 3
    settings.SESSIONGUARD_LIMIT_POLICY = "deny_new"
    settings.SESSIONGUARD_IP_CHANGE = "ignore"
    settings.SESSIONGUARD_UA_CHANGE = "log"
    settings.SESSIONGUARD_ACTIVITY_INTERVAL = 90
    settings.SESSIONGUARD_PASSIVE_PATHS = ["/health/", "/poll/"]
    settings.SESSIONGUARD_TRUSTED_PROXIES = ["10.0.0.0/8", "::1"]
    settings.SESSIONGUARD_EVENT_RETENTION = None
    settings.SESSION_COOKIE_SECURE = True
    data = as_json()
    assert data["engine"] == "django_sessionguard.backends.cached_db"
    assert data["session_cache_alias"] == "sessions"
    assert data["max_sessions"] == 3
    assert data["limit_policy"] == "deny_new"
    assert (data["ip_change"], data["ua_change"]) == ("ignore", "log")
    assert data["activity_interval"] == 90
    assert data["passive_paths"] == ["/health/", "/poll/"]
    assert data["trusted_proxies"] == ["10.0.0.0/8", "::1/128"]
    assert data["event_retention"] is None
    assert data["cookie"]["SESSION_COOKIE_SECURE"] is True
    # Every other SESSIONGUARD_* setting is listed too, so none goes unseen.
    shown = {
        "PROFILE", "IDLE_TIMEOUT", "ABSOLUTE_TIMEOUT", "MAX_SESSIONS",
        "LIMIT_POLICY", "IP_CHANGE", "UA_CHANGE", "ACTIVITY_INTERVAL",
        "PASSIVE_PATHS", "TRUSTED_PROXIES", "EVENT_RETENTION",
    }  # fmt: skip
    assert set(data["other"]) == {name.lower() for name in DEFAULTS} - {
        name.lower() for name in shown
    }

    rows = text()
    assert rows["Session cache alias"] == "sessions"
    assert rows["Sessions per user"] == "3"
    assert rows["Over the limit"] == "deny_new (the new sign-in is refused)"
    assert rows["IP address change"] == "ignore"
    assert rows["Browser change"] == "log (audit event only)"
    assert rows["Activity recorded"] == "at most every 90 seconds"
    assert rows["Passive paths"] == "/health/, /poll/"
    assert rows["Trusted proxies"] == "10.0.0.0/8, ::1/128"
    assert rows["Event retention"] == "forever (nothing is purged)"


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0 seconds"),
        (1, "1 second"),
        (59, "59 seconds"),
        (60, "1 minute"),
        (5400, "90 minutes"),
        (3600, "1 hour"),
        (86400 * 30, "30 days"),
    ],
)
def test_duration(seconds: int, expected: str) -> None:
    assert duration(seconds) == expected


def test_a_misconfigured_policy_is_a_clear_error(settings: Any) -> None:
    settings.SESSIONGUARD_LIMIT_POLICY = "first_come"
    with pytest.raises(CommandError, match="misconfigured: SESSIONGUARD_LIMIT_POLICY"):
        call_command("sessionguard_policy")


def test_unknown_format() -> None:
    with pytest.raises(CommandError, match="invalid choice: 'yaml'"):
        call_command("sessionguard_policy", "--format", "yaml")
    with pytest.raises(CommandError, match="--format must be text or json"):
        call_command("sessionguard_policy", format="yaml")
