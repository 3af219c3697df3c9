"""The new-device email: when it is sent, what it says, and what it never contains."""

from __future__ import annotations

import logging
import smtplib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import django
import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone
from django.utils.formats import date_format

from django_sessionguard import locations
from django_sessionguard.keys import hash_key
from tests import new_device_support as fixtures
from tests.lifecycle_support import (
    CHROME_120,
    CHROME_130,
    FIREFOX_WINDOWS,
    IP,
    OTHER_IP,
    browser,
    cookie,
    log_in,
)
from tests.new_device_support import (
    EMAIL,
    IP_AWAY,
    SignIn,
    html_body,
    link_path,
    new_device_events,
)

pytestmark = pytest.mark.django_db

alice, bob, sign_in = fixtures.alice, fixtures.bob, fixtures.sign_in


@pytest.fixture(autouse=True)
def email_on(settings: Any) -> None:
    settings.SESSIONGUARD_NEW_DEVICE_EMAIL = True
    settings.DEFAULT_FROM_EMAIL = "security@example.com"


def text_of(message: mail.EmailMessage) -> str:
    """Everything a recipient could read: headers, text body and HTML body."""
    return "\n".join(
        [message.message().as_string(), str(message.body), html_body(message)]
    )


def test_no_email_for_a_known_device(alice: Any, sign_in: SignIn) -> None:
    sign_in(IP, CHROME_120)
    sign_in(IP_AWAY, CHROME_130)  # a browser update, from elsewhere
    sign_in(IP, FIREFOX_WINDOWS)  # another browser, at home
    assert mail.outbox == []


def test_the_email_for_a_new_device(
    engine: str, alice: Any, sign_in: SignIn, settings: Any
) -> None:
    settings.TIME_ZONE = "Asia/Tokyo"
    sign_in(IP, CHROME_120)
    sign_in(IP_AWAY, FIREFOX_WINDOWS)

    [message] = mail.outbox
    [event] = new_device_events()
    assert message.to == [EMAIL]
    assert message.from_email == "security@example.com"
    assert message.subject == "New sign-in to your testserver account"
    shown_time = date_format(
        timezone.localtime(event.timestamp, ZoneInfo("Asia/Tokyo")), "DATETIME_FORMAT"
    )
    for body in (str(message.body), html_body(message)):
        assert "Hello alice," in body
        assert "Desktop" in body
        assert "Firefox 121.0" in body
        assert "Windows 10" in body
        assert f"{shown_time} (Asia/Tokyo)" in body
        assert "192.0.2.0/24" in body  # the masked network, not the address
        assert IP_AWAY not in body
        assert "This wasn&#x27;t me: sign out everywhere" in body or (
            "This wasn't me: sign out everywhere" in body
        )
        assert "/account/sessions/new-device/" in body
        assert "7 days" in body
    assert link_path(message) in html_body(message)


def test_the_link_opens_the_confirmation_page(alice: Any, sign_in: SignIn) -> None:
    sign_in(IP, CHROME_120)
    sign_in(IP_AWAY, FIREFOX_WINDOWS)
    response = browser(IP_AWAY, FIREFOX_WINDOWS).get(link_path(mail.outbox[0]))
    assert response.status_code == 200
    assert b"Sign out everywhere?" in response.content


def test_no_session_key_in_any_email(engine: str, alice: Any, sign_in: SignIn) -> None:
    clients = [sign_in(IP, CHROME_120), sign_in(IP_AWAY, FIREFOX_WINDOWS)]
    [message] = mail.outbox
    everything = text_of(message)
    for client in clients:
        key = cookie(client)
        assert key not in everything
        assert hash_key(key) not in everything


def test_approximate_place_from_geoip(
    alice: Any, sign_in: SignIn, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_user_page import FakeGeoIP

    monkeypatch.setattr(locations, "_geoip", FakeGeoIP)
    settings.SESSIONGUARD_GEOIP = True
    sign_in(IP, CHROME_120)
    sign_in(OTHER_IP, FIREFOX_WINDOWS)  # 203.0.113.7: Lisbon in the fake database
    body = str(mail.outbox[0].body)
    assert "Approximate place: Lisbon, Portugal" in body
    assert "203.0.113" not in body


def test_approximate_place_from_the_locator(
    alice: Any, sign_in: SignIn, settings: Any
) -> None:
    from tests import locators

    locators.ASKED.clear()
    settings.SESSIONGUARD_LOCATE = "tests.locators.fixed_places"
    sign_in(IP, CHROME_120)
    sign_in(OTHER_IP, FIREFOX_WINDOWS)  # 203.0.113.7: Porto for this locator
    [message] = mail.outbox
    for body in (str(message.body), html_body(message)):
        assert "Porto, Portugal" in body
        assert "203.0.113" not in body
    assert OTHER_IP in locators.ASKED


def test_a_failing_locator_never_stops_the_email(
    alice: Any, sign_in: SignIn, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.SESSIONGUARD_LOCATE = "tests.locators.failing"
    caplog.set_level(logging.WARNING, logger="django_sessionguard")
    sign_in(IP, CHROME_120)
    sign_in(OTHER_IP, FIREFOX_WINDOWS)
    [message] = mail.outbox
    # No place from the locator: the masked network, as without one.
    assert "Approximate place: 203.0.113.0/24" in str(message.body)
    logged = [r.getMessage() for r in caplog.records]
    assert any("tests.locators.failing failed (ConnectionError)" in m for m in logged)
    assert not any("could not be sent" in m for m in logged)


def test_the_locator_is_not_asked_when_ips_are_not_tracked(
    alice: Any, sign_in: SignIn, settings: Any
) -> None:
    from tests import locators

    locators.ASKED.clear()
    settings.SESSIONGUARD_LOCATE = "tests.locators.fixed_places"
    settings.SESSIONGUARD_TRACK_IP = False
    sign_in(IP, CHROME_120)
    sign_in(OTHER_IP, FIREFOX_WINDOWS)
    [message] = mail.outbox
    assert "Approximate place" not in str(message.body)
    assert locators.ASKED == []


def test_nothing_about_what_the_site_does_not_track(
    alice: Any, sign_in: SignIn, settings: Any
) -> None:
    settings.SESSIONGUARD_TRACK_IP = False
    sign_in(IP, CHROME_120)
    sign_in(IP_AWAY, FIREFOX_WINDOWS)
    body = str(mail.outbox[0].body)
    assert "Firefox" in body
    assert "Approximate place" not in body
    assert "192.0.2" not in body


def test_nothing_about_the_browser_when_user_agents_are_not_tracked(
    alice: Any, sign_in: SignIn, settings: Any
) -> None:
    settings.SESSIONGUARD_TRACK_USER_AGENT = False
    sign_in(IP, CHROME_120)
    sign_in(OTHER_IP, FIREFOX_WINDOWS)
    body = str(mail.outbox[0].body)
    assert "Approximate place: 203.0.113.0/24" in body
    assert "Browser" not in body
    assert "Firefox" not in body


def test_no_email_without_an_address(
    alice: Any, sign_in: SignIn, django_user_model: Any
) -> None:
    django_user_model.objects.create_user("carol", "", "pw")
    sign_in(IP, CHROME_120, username="carol")
    sign_in(IP_AWAY, FIREFOX_WINDOWS, username="carol")
    assert mail.outbox == []
    assert len(new_device_events()) == 1  # detected and signalled all the same


def test_sent_only_once_the_sign_in_commits(
    alice: Any, sign_in: SignIn, django_capture_on_commit_callbacks: Any
) -> None:
    sign_in(IP, CHROME_120)
    client = browser(IP_AWAY, FIREFOX_WINDOWS)
    with django_capture_on_commit_callbacks() as callbacks:
        log_in(client)
    assert mail.outbox == []  # the test's transaction has not committed
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1


class FailingBackend(BaseEmailBackend):
    """An SMTP server that refuses, quoting the message back (as some do)."""

    def send_messages(self, email_messages: Any) -> int:
        raise smtplib.SMTPDataError(554, f"rejected: {email_messages[0].body}")


def test_a_failure_to_send_never_fails_the_sign_in(
    alice: Any, sign_in: SignIn, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    if django.VERSION >= (6, 1):  # MAILERS replaces the deprecated EMAIL_BACKEND
        settings.MAILERS = {"default": {"BACKEND": f"{__name__}.FailingBackend"}}
    else:
        settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    sign_in(IP, CHROME_120)
    with caplog.at_level(logging.ERROR, logger="django_sessionguard"):
        client = sign_in(IP_AWAY, FIREFOX_WINDOWS)  # asserts it signed in
    assert client.get("/read/").json()["user"] == "alice"
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    message = record.getMessage()
    assert message == (
        "sessionguard: the new-device email to user "
        f"{alice.pk} could not be sent (SMTPDataError)."
    )
    assert record.exc_info is None
    assert cookie(client) not in caplog.text
    assert "new-device/" not in caplog.text


def test_templates_can_be_overridden(
    alice: Any, sign_in: SignIn, settings: Any, tmp_path: Path
) -> None:
    override = tmp_path / "django_sessionguard" / "email"
    override.mkdir(parents=True)
    (override / "new_device_subject.txt").write_text(
        "Security alert for {{ user.get_username }}: {{ device }}\n"
    )
    settings.TEMPLATES = [
        {
            **django_settings.TEMPLATES[0],
            "DIRS": [tmp_path, *django_settings.TEMPLATES[0]["DIRS"]],
        }
    ]
    sign_in(IP, CHROME_120)
    sign_in(IP_AWAY, FIREFOX_WINDOWS)
    [message] = mail.outbox
    assert message.subject == "Security alert for alice: Firefox 121.0 on Windows 10"
    assert "This wasn't me: sign out everywhere" in str(message.body)  # default body


def test_sender_setting(alice: Any, sign_in: SignIn, settings: Any) -> None:
    settings.SESSIONGUARD_NEW_DEVICE_FROM_EMAIL = "no-reply@example.com"
    sign_in(IP, CHROME_120)
    sign_in(IP_AWAY, FIREFOX_WINDOWS)
    assert mail.outbox[0].from_email == "no-reply@example.com"


@pytest.mark.urls("tests.new_device_urls")
def test_password_reset_link_when_the_site_has_one(alice: Any, sign_in: SignIn) -> None:
    sign_in(IP, CHROME_120)
    sign_in(IP_AWAY, FIREFOX_WINDOWS)
    body = str(mail.outbox[0].body)
    assert "Then change your password:\nhttp://testserver/password-reset/" in body


def test_no_password_reset_link_when_the_site_has_none(
    alice: Any, sign_in: SignIn
) -> None:
    sign_in(IP, CHROME_120)
    sign_in(IP_AWAY, FIREFOX_WINDOWS)
    assert "change your password" not in str(mail.outbox[0].body)


def test_https_links_on_a_secure_site(
    alice: Any, sign_in: SignIn, django_capture_on_commit_callbacks: Any
) -> None:
    sign_in(IP, CHROME_120)
    with django_capture_on_commit_callbacks(execute=True):
        log_in(browser(IP_AWAY, FIREFOX_WINDOWS), secure=True)
    assert "https://testserver/account/sessions/new-device/" in str(mail.outbox[0].body)
