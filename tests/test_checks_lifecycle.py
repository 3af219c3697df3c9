"""Start-up checks for the lifecycle policy (ids in ``docs/checks.md``).

Invalid values of the policy settings are ``E006`` (see ``test_checks.py``);
these are the checks about how the values fit together: W021 (looser than
the chosen profile), W022 (idle timeout too short for the activity
interval), E021 / W023 (the global "not valid before" cut-off).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test.utils import override_settings

from django_sessionguard import checks


def ids(**settings: Any) -> list[str]:
    with override_settings(**settings):
        messages = [
            *checks.check_settings(app_configs=None),
            *checks.check_lifecycle_policy(app_configs=None),
        ]
    for message in messages:
        assert message.hint
    return [message.id or "" for message in messages]


def lifecycle_messages(**settings: Any) -> list[Any]:
    with override_settings(**settings):
        return list(checks.check_lifecycle_policy(app_configs=None))


# -- W021: looser than the profile ----------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [
        {"SESSIONGUARD_PROFILE": "AAL2", "SESSIONGUARD_IDLE_TIMEOUT": 7200},
        {"SESSIONGUARD_PROFILE": "AAL2", "SESSIONGUARD_IDLE_TIMEOUT": None},
        {
            "SESSIONGUARD_PROFILE": "AAL2",
            "SESSIONGUARD_ABSOLUTE_TIMEOUT": timedelta(days=2),
        },
        {"SESSIONGUARD_PROFILE": "AAL3", "SESSIONGUARD_IDLE_TIMEOUT": 3600},
        {"SESSIONGUARD_PROFILE": "AAL1", "SESSIONGUARD_ABSOLUTE_TIMEOUT": None},
    ],
)
def test_w021_explicit_value_looser_than_the_profile(settings: dict[str, Any]) -> None:
    assert ids(**settings) == ["django_sessionguard.W021"]


def test_w021_names_the_setting_and_the_profile_value() -> None:
    [message] = lifecycle_messages(
        SESSIONGUARD_PROFILE="AAL3", SESSIONGUARD_IDLE_TIMEOUT=None
    )
    assert message.msg == (
        "SESSIONGUARD_IDLE_TIMEOUT is None (disabled), looser than the 900 s "
        "that SESSIONGUARD_PROFILE = 'AAL3' asks for."
    )


@pytest.mark.parametrize(
    "settings",
    [
        {"SESSIONGUARD_PROFILE": "AAL2"},
        {"SESSIONGUARD_PROFILE": "AAL2", "SESSIONGUARD_IDLE_TIMEOUT": 1800},
        {"SESSIONGUARD_PROFILE": "AAL2", "SESSIONGUARD_IDLE_TIMEOUT": 3600},
        {
            "SESSIONGUARD_PROFILE": "AAL3",
            "SESSIONGUARD_ABSOLUTE_TIMEOUT": timedelta(hours=8),
        },
        # AAL1 sets no idle timeout: nothing to be looser than.
        {"SESSIONGUARD_PROFILE": "AAL1", "SESSIONGUARD_IDLE_TIMEOUT": None},
        # A per-user callable cannot be compared at start-up.
        {
            "SESSIONGUARD_PROFILE": "AAL3",
            "SESSIONGUARD_IDLE_TIMEOUT": "tests.lifecycle_support.idle_for_staff",
        },
        # Without a profile, anything goes.
        {"SESSIONGUARD_IDLE_TIMEOUT": None, "SESSIONGUARD_ABSOLUTE_TIMEOUT": None},
    ],
)
def test_w021_not_raised(settings: dict[str, Any]) -> None:
    assert ids(**settings) == []


# -- W022: idle timeout vs activity interval -------------------------------------


def test_w022_idle_shorter_than_twice_the_activity_interval() -> None:
    assert ids(SESSIONGUARD_IDLE_TIMEOUT=100, SESSIONGUARD_ACTIVITY_INTERVAL=60) == [
        "django_sessionguard.W022"
    ]
    assert ids(SESSIONGUARD_IDLE_TIMEOUT=900, SESSIONGUARD_ACTIVITY_INTERVAL=600) == [
        "django_sessionguard.W022"
    ]


@pytest.mark.parametrize(
    "settings",
    [
        {"SESSIONGUARD_IDLE_TIMEOUT": 120, "SESSIONGUARD_ACTIVITY_INTERVAL": 60},
        {"SESSIONGUARD_PROFILE": "AAL3"},  # 15 min vs the default 60 s
        {
            "SESSIONGUARD_IDLE_TIMEOUT": "tests.lifecycle_support.idle_for_staff",
            "SESSIONGUARD_ACTIVITY_INTERVAL": 3600,
        },
    ],
)
def test_w022_not_raised(settings: dict[str, Any]) -> None:
    assert ids(**settings) == []


# -- E021 / W023: not valid before ----------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2026-01-31T12:00:00",  # no offset
        datetime(2026, 1, 31, 12, 0),  # noqa: DTZ001 (naive on purpose)
        1767225600,
    ],
)
def test_e021_bad_not_valid_before(value: Any) -> None:
    assert ids(SESSIONGUARD_NOT_VALID_BEFORE=value) == ["django_sessionguard.E021"]


@pytest.mark.parametrize(
    "value",
    [
        None,
        "2026-01-31T12:00:00Z",
        "2026-01-31T13:00:00+01:00",
        datetime(2026, 1, 1, tzinfo=UTC),
    ],
)
def test_e021_good_not_valid_before(value: Any) -> None:
    assert ids(SESSIONGUARD_NOT_VALID_BEFORE=value) == []


def test_w023_not_valid_before_in_the_future() -> None:
    future = datetime.now(tz=UTC) + timedelta(days=1)
    assert ids(SESSIONGUARD_NOT_VALID_BEFORE=future) == ["django_sessionguard.W023"]


# -- values the lifecycle needs to be positive -------------------------------------


@pytest.mark.parametrize(
    "name", ["IDLE_TIMEOUT", "ABSOLUTE_TIMEOUT", "EVENT_RETENTION"]
)
def test_zero_is_not_a_timeout(name: str) -> None:
    assert ids(**{f"SESSIONGUARD_{name}": 0}) == ["django_sessionguard.E006"]


def test_a_bad_timeout_is_reported_once() -> None:
    """W021/W022 stay quiet when the values they compare are invalid (E006)."""
    assert ids(
        SESSIONGUARD_PROFILE="AAL2",
        SESSIONGUARD_IDLE_TIMEOUT="no.such.callable",
    ) == ["django_sessionguard.E006"]


#: The suite serves plain HTTP with DEBUG off, so a plain ``check`` gives the
#: cookie recommendations for production (see test_security_checks.py).
PLAIN_HTTP_WARNINGS = [
    "django_sessionguard.W010",
    "django_sessionguard.W031",
    "django_sessionguard.W032",
]


@pytest.mark.django_db  # Django 6's check command may open the database
def test_the_test_project_passes_every_check() -> None:
    with override_settings(SILENCED_SYSTEM_CHECKS=PLAIN_HTTP_WARNINGS):
        call_command("check", fail_level="WARNING")
    with override_settings(DEBUG=True):
        call_command("check", fail_level="WARNING")
