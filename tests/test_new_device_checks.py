"""The new-device settings: typed accessors, and the checks that guard them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.checks import CheckMessage

from django_sessionguard.checks import check_new_device_settings
from django_sessionguard.conf import DEFAULTS, conf


class WithoutTheApp:
    """A URLconf that does not include ``django_sessionguard.urls``."""

    urlpatterns: list[Any] = []


def ids(messages: list[CheckMessage]) -> list[str]:
    return [message.id for message in messages if message.id]


def test_defaults(settings: Any) -> None:
    assert conf.NEW_DEVICE_DETECTION is False
    assert conf.NEW_DEVICE_EMAIL is False
    assert conf.new_device_detection is False
    assert conf.NEW_DEVICE_LOOKBACK == 90 * 86400
    assert conf.NEW_DEVICE_LINK_MAX_AGE == 7 * 86400
    assert conf.NEW_DEVICE_FROM_EMAIL is None
    assert conf.PASSWORD_RESET_URL == "password_reset"
    assert check_new_device_settings() == []


def test_email_implies_detection(settings: Any) -> None:
    settings.SESSIONGUARD_NEW_DEVICE_EMAIL = True
    assert conf.new_device_detection is True


def test_durations_take_seconds_or_timedeltas(settings: Any) -> None:
    settings.SESSIONGUARD_NEW_DEVICE_LOOKBACK = timedelta(days=30)
    settings.SESSIONGUARD_NEW_DEVICE_LINK_MAX_AGE = 3600.5
    assert conf.NEW_DEVICE_LOOKBACK == 30 * 86400
    assert conf.NEW_DEVICE_LINK_MAX_AGE == 3600


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NEW_DEVICE_DETECTION", "yes"),
        ("NEW_DEVICE_EMAIL", 1),
        ("NEW_DEVICE_LOOKBACK", 0),
        ("NEW_DEVICE_LOOKBACK", "90 days"),
        ("NEW_DEVICE_LINK_MAX_AGE", -5),
        ("NEW_DEVICE_LINK_MAX_AGE", None),
        ("NEW_DEVICE_FROM_EMAIL", ""),
        ("NEW_DEVICE_FROM_EMAIL", ["a@example.com"]),
        ("PASSWORD_RESET_URL", "  "),
        ("PASSWORD_RESET_URL", 42),
    ],
)
def test_bad_values_are_e050(settings: Any, name: str, value: Any) -> None:
    assert name in DEFAULTS
    setattr(settings, f"SESSIONGUARD_{name}", value)
    with pytest.raises(ValueError, match=f"SESSIONGUARD_{name}"):
        getattr(conf, name)
    messages = check_new_device_settings()
    assert ids(messages) == ["django_sessionguard.E050"]
    assert f"SESSIONGUARD_{name}" in messages[0].msg
    assert messages[0].hint


def test_none_turns_the_password_reset_link_off(settings: Any) -> None:
    settings.SESSIONGUARD_PASSWORD_RESET_URL = None
    assert conf.PASSWORD_RESET_URL is None
    assert check_new_device_settings() == []


def test_w050_nothing_to_compare(settings: Any) -> None:
    settings.SESSIONGUARD_NEW_DEVICE_DETECTION = True
    settings.SESSIONGUARD_TRACK_IP = False
    assert check_new_device_settings() == []  # the device still compares
    settings.SESSIONGUARD_TRACK_USER_AGENT = False
    assert ids(check_new_device_settings()) == ["django_sessionguard.W050"]
    settings.SESSIONGUARD_NEW_DEVICE_DETECTION = False
    assert check_new_device_settings() == []  # off: nothing to warn about


def test_w051_events_kept_shorter_than_the_link(settings: Any) -> None:
    settings.SESSIONGUARD_NEW_DEVICE_EMAIL = True
    settings.SESSIONGUARD_EVENT_RETENTION = timedelta(days=3)
    assert ids(check_new_device_settings()) == ["django_sessionguard.W051"]
    settings.SESSIONGUARD_NEW_DEVICE_LINK_MAX_AGE = timedelta(days=3)
    assert check_new_device_settings() == []
    settings.SESSIONGUARD_EVENT_RETENTION = None  # kept forever
    assert check_new_device_settings() == []


def test_w052_the_link_needs_the_app_urls(settings: Any) -> None:
    settings.SESSIONGUARD_NEW_DEVICE_EMAIL = True
    assert check_new_device_settings() == []
    settings.ROOT_URLCONF = WithoutTheApp
    assert ids(check_new_device_settings()) == ["django_sessionguard.W052"]
    settings.SESSIONGUARD_NEW_DEVICE_EMAIL = False
    settings.SESSIONGUARD_NEW_DEVICE_DETECTION = True
    assert check_new_device_settings() == []  # no email, no link


@pytest.mark.django_db
def test_w052_without_the_urls_no_email_and_the_sign_in_goes_on(
    settings: Any,
    django_user_model: Any,
    django_capture_on_commit_callbacks: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from django.contrib.auth import views as auth_views
    from django.core import mail
    from django.urls import path

    from tests.lifecycle_support import CHROME_120, FIREFOX_WINDOWS, IP, browser
    from tests.new_device_support import IP_AWAY

    class LoginOnly:
        urlpatterns = [path("login/", auth_views.LoginView.as_view())]

    settings.ROOT_URLCONF = LoginOnly
    settings.SESSIONGUARD_NEW_DEVICE_EMAIL = True
    django_user_model.objects.create_user("alice", "alice@example.com", "pw")
    for ip, user_agent in ((IP, CHROME_120), (IP_AWAY, FIREFOX_WINDOWS)):
        with django_capture_on_commit_callbacks(execute=True):
            response = browser(ip, user_agent).post(
                "/login/", {"username": "alice", "password": "pw"}
            )
        assert response.status_code == 302
    assert mail.outbox == []
    assert "could not be sent (NoReverseMatch)" in caplog.text
