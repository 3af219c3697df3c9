"""Signed-in sessions for the end-user page tests, made as a browser gets one.

Shared by ``test_user_page``, ``test_user_api``, ``test_reauth`` and the
browser tests: a real session of the configured engine, bound to a user, with
the IP address and User-Agent a request would have recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.test import Client
from django.utils import timezone

from django_sessionguard.models import Session

WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
ANDROID_FIREFOX = "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0"
UBUNTU_FIREFOX = (
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"
)
ANDROID_TABLET_CHROME = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/123.0.6312.118 Safari/537.36"
)
MAC_SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4.1 Safari/605.1.15"
)


@dataclass
class SignedIn:
    """A client holding a signed-in session's cookie."""

    client: Client
    cookie: str
    reference: str

    def username(self) -> str | None:
        """Who the server thinks this client is (``None``: anonymous)."""
        user: str | None = self.client.get("/read/").json()["user"]
        return user


def start_session(
    user: Any, *, user_agent: str = WINDOWS_CHROME, ip: str | None = "127.0.0.1"
) -> tuple[str, str]:
    """Create a signed-in session of the configured engine: ``(cookie, reference)``."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store.bind_request(ip_address=ip, user_agent=user_agent)
    store[SESSION_KEY] = user._meta.pk.value_to_string(user)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return store.session_key, store.reference


def sign_in(
    user: Any,
    *,
    user_agent: str = WINDOWS_CHROME,
    ip: str = "127.0.0.1",
    **client_kwargs: Any,
) -> SignedIn:
    """A test client signed in as ``user`` from ``user_agent`` at ``ip``."""
    cookie, reference = start_session(user, user_agent=user_agent, ip=ip)
    client = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip, **client_kwargs)
    client.cookies[settings.SESSION_COOKIE_NAME] = cookie
    return SignedIn(client, cookie, reference)


def age(reference: str, *, active: timedelta, signed_in: timedelta) -> None:
    """Move a session's last activity and sign-in time into the past."""
    now = timezone.now()
    Session.objects.filter(reference=reference).update(
        last_activity=now - active,
        created_at=now - signed_in,
        authenticated_at=now - signed_in,
    )


def is_live(reference: str) -> bool:
    return Session.objects.filter(reference=reference).exists()
