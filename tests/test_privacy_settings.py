"""The privacy settings: validated at start-up, contradictions warned about.

``E040``: a switch (the three tracking switches and
``ERASE_ON_USER_DELETE``) that is not True/False. ``W040`` / ``W041``: an IP or
User-Agent change policy other than ``"ignore"`` while that data is not
tracked (nothing is kept to compare, so the policy can never act).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import CheckMessage
from django.core.management import call_command
from django.test import override_settings

from django_sessionguard.checks import check_privacy_settings
from django_sessionguard.conf import DEFAULTS, conf
from django_sessionguard.management.commands.sessionguard_policy import effective_policy
from django_sessionguard.privacy import client_filter

FLAGS = ("TRACK_IP", "TRACK_USER_AGENT", "ANONYMIZE_IP", "ERASE_ON_USER_DELETE")


def messages(**settings: Any) -> list[CheckMessage]:
    with override_settings(**settings):
        return check_privacy_settings(app_configs=None)


def ids(found: list[CheckMessage]) -> list[str]:
    return [message.id or "" for message in found]


def test_defaults_track_everything_in_full() -> None:
    assert (DEFAULTS["TRACK_IP"], DEFAULTS["TRACK_USER_AGENT"]) == (True, True)
    assert DEFAULTS["ANONYMIZE_IP"] is False
    assert DEFAULTS["ERASE_ON_USER_DELETE"] is False  # opt-in
    assert conf.ERASE_ON_USER_DELETE is False
    assert (conf.TRACK_IP, conf.TRACK_USER_AGENT, conf.ANONYMIZE_IP) == (
        True,
        True,
        False,
    )
    # At the defaults binding a request applies no function at all.
    assert conf.client_filter is None
    assert messages() == []


@pytest.mark.parametrize("name", FLAGS)
@pytest.mark.parametrize("value", ["yes", 1, 0, None, "False"])
def test_e040_a_switch_must_be_a_bool(name: str, value: Any) -> None:
    found = messages(**{f"SESSIONGUARD_{name}": value})
    assert ids(found) == ["django_sessionguard.E040"]
    assert f"SESSIONGUARD_{name}" in found[0].msg
    assert found[0].hint


def test_e040_stops_manage_py_check() -> None:
    from django.core.management.base import SystemCheckError

    with (
        override_settings(SESSIONGUARD_TRACK_IP="no"),
        pytest.raises(SystemCheckError, match="E040"),
    ):
        call_command("check")


@pytest.mark.parametrize("action", ["log", "revoke"])
def test_w040_ip_policy_without_ip_tracking(action: str) -> None:
    found = messages(SESSIONGUARD_TRACK_IP=False, SESSIONGUARD_IP_CHANGE=action)
    assert ids(found) == ["django_sessionguard.W040"]
    assert f'SESSIONGUARD_IP_CHANGE is "{action}"' in found[0].msg
    assert "ANONYMIZE_IP" in (found[0].hint or "")


def test_w041_default_ua_policy_without_user_agent_tracking() -> None:
    """UA_CHANGE defaults to "revoke": turning User-Agents off alone warns."""
    found = messages(SESSIONGUARD_TRACK_USER_AGENT=False)
    assert ids(found) == ["django_sessionguard.W041"]
    assert 'SESSIONGUARD_UA_CHANGE is "revoke"' in found[0].msg


def test_ignore_acknowledges_the_contradiction() -> None:
    assert (
        messages(
            SESSIONGUARD_TRACK_IP=False,
            SESSIONGUARD_TRACK_USER_AGENT=False,
            SESSIONGUARD_IP_CHANGE="ignore",
            SESSIONGUARD_UA_CHANGE="ignore",
        )
        == []
    )


def test_anonymizing_keeps_ip_policies_meaningful() -> None:
    assert (
        messages(SESSIONGUARD_ANONYMIZE_IP=True, SESSIONGUARD_IP_CHANGE="revoke") == []
    )


def test_a_bad_policy_is_left_to_e006() -> None:
    found = messages(SESSIONGUARD_TRACK_IP=False, SESSIONGUARD_IP_CHANGE="shout")
    assert found == []


def test_both_warnings_at_once() -> None:
    found = messages(
        SESSIONGUARD_TRACK_IP=False,
        SESSIONGUARD_TRACK_USER_AGENT=False,
        SESSIONGUARD_IP_CHANGE="log",
    )
    assert ids(found) == ["django_sessionguard.W040", "django_sessionguard.W041"]


@pytest.mark.django_db
def test_manage_py_check_reports_the_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with override_settings(SESSIONGUARD_TRACK_USER_AGENT=False):
        call_command("check")
    assert "django_sessionguard.W041" in capsys.readouterr().err


def test_the_filter_is_chosen_once_per_settings(settings: Any) -> None:
    settings.SESSIONGUARD_ANONYMIZE_IP = True
    first = conf.client_filter
    assert first is not None
    assert first is conf.client_filter  # kept, not rebuilt per request
    assert first("198.51.100.7", "UA") == ("198.51.100.0", "UA")
    settings.SESSIONGUARD_TRACK_USER_AGENT = False
    assert conf.client_filter is not first  # a setting change picks again
    assert conf.client_filter("198.51.100.7", "UA") == ("198.51.100.0", "")  # type: ignore[misc]


@pytest.mark.parametrize(
    ("track_ip", "track_ua", "anonymize", "expected"),
    [
        (True, True, False, None),
        (False, True, False, (None, "UA")),
        (True, False, False, ("2001:db8:85a3::1", "")),
        (True, True, True, ("2001:db8:85a3::", "UA")),
        (False, False, True, (None, "")),
    ],
)
def test_client_filter(
    track_ip: bool, track_ua: bool, anonymize: bool, expected: Any
) -> None:
    keep = client_filter(track_ip, track_ua, anonymize)
    if expected is None:
        assert keep is None
    else:
        assert keep is not None
        assert keep("2001:db8:85a3::1", "UA") == expected


def test_policy_command_lists_the_switches(settings: Any) -> None:
    settings.SESSIONGUARD_TRACK_IP = False
    settings.SESSIONGUARD_ANONYMIZE_IP = True
    other = effective_policy()["other"]
    assert other["track_ip"] is False
    assert other["track_user_agent"] is True
    assert other["anonymize_ip"] is True
