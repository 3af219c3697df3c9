"""Shared by the new-device tests: browsers on known networks, the email, its link."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client

from django_sessionguard.events import EventKind
from django_sessionguard.models import SessionEvent
from tests.lifecycle_support import CHROME_120, IP, browser, log_in

#: Same /24 as ``IP`` (home), and two other networks.
IP_HOME_OTHER = "198.51.100.200"
IP_AWAY = "192.0.2.44"  # neither IP nor lifecycle_support.OTHER_IP's /24
IPV6_HOME = "2001:db8:85a3:1::10"
IPV6_HOME_OTHER = "2001:db8:85a3:ffff::99"  # same /48
IPV6_AWAY = "2001:db8:aaaa::1"
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)
PASSWORD = "pw"
EMAIL = "alice@example.com"

SignIn = Callable[..., Client]


@pytest.fixture
def alice(django_user_model: Any) -> Any:
    """A user with an email address, password ``"pw"``."""
    return django_user_model.objects.create_user("alice", EMAIL, PASSWORD)


@pytest.fixture
def bob(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("bob", "bob@example.com", PASSWORD)


@pytest.fixture
def sign_in(django_capture_on_commit_callbacks: Any) -> SignIn:
    """Sign in through the login form; run what waits for the commit (the email)."""

    def sign_in(
        ip: str = IP, user_agent: str = CHROME_120, username: str = "alice"
    ) -> Client:
        client = browser(ip, user_agent)
        with django_capture_on_commit_callbacks(execute=True):
            log_in(client, username)
        return client

    return sign_in


def new_device_events() -> list[SessionEvent]:
    return list(SessionEvent.objects.filter(kind=EventKind.NEW_DEVICE).order_by("id"))


def link_path(message: mail.EmailMessage) -> str:
    """The path of the "This wasn't me" link in the email's text body."""
    found = re.search(r"https?://\S+/new-device/\S+/", str(message.body))
    assert found, message.body
    return urlsplit(found.group(0)).path


def html_body(message: mail.EmailMessage) -> str:
    alternatives = getattr(message, "alternatives", [])
    html = [content for content, mimetype in alternatives if mimetype == "text/html"]
    assert len(html) == 1
    return str(html[0])
