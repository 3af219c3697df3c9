"""Switching from django-user-sessions or django-qsessions, as docs/migrating.md says.

Neither package is installed here: their tables are recreated with the
columns their models declare (``user_sessions_session``: key, data, expiry,
user, user_agent, last_activity, ip, created; ``qsessions_session``: key,
data, expiry, user, user_agent, created_at, updated_at, ip), and their rows
are encoded the way both packages encode them: with Django's
``SessionBase.encode`` from a class named ``SessionStore``, so under Django's
signing salt ``django.contrib.sessions.SessionStore``. The documented command,
``sessionguard_import --table <their table>`` with the default
``--from-engine``, must then keep their users signed in.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.apps.registry import Apps
from django.conf import settings as django_settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, SessionBase
from django.core.management import call_command
from django.db import connection, models
from django.test import Client
from django.utils import timezone
from django.utils.crypto import get_random_string

from django_sessionguard.keys import hash_key
from django_sessionguard.models import Session

pytestmark = pytest.mark.django_db

FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0"
IP = "203.0.113.9"

_apps = Apps()


class UserSessionsSession(models.Model):
    """``user_sessions.models.Session`` (django-user-sessions): table and columns."""

    session_key = models.CharField(max_length=40, primary_key=True)
    session_data = models.TextField()
    expire_date = models.DateTimeField(db_index=True)
    user_id = models.IntegerField(null=True)
    user_agent = models.CharField(max_length=200)
    last_activity = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True)
    created = models.DateTimeField()

    class Meta:
        apps = _apps
        app_label = "user_sessions"
        db_table = "user_sessions_session"

    def __str__(self) -> str:
        return self.session_key


class QSessionsSession(models.Model):
    """``qsessions.models.Session`` (django-qsessions), its table and columns."""

    session_key = models.CharField(max_length=40, primary_key=True)
    session_data = models.TextField()
    expire_date = models.DateTimeField(db_index=True)
    user_id = models.IntegerField(null=True)
    # qsessions declares it nullable; so must the copy.
    user_agent = models.CharField(max_length=300, null=True)  # noqa: DJ001
    created_at = models.DateTimeField(null=True)
    updated_at = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True)

    class Meta:
        apps = _apps
        app_label = "qsessions"
        db_table = "qsessions_session"

    def __str__(self) -> str:
        return self.session_key


class SessionStore(SessionBase):
    """Encodes as both packages' stores do (``SessionBase.encode``, this class name)."""


PEER_MODELS = {
    "user_sessions_session": UserSessionsSession,
    "qsessions_session": QSessionsSession,
}


@pytest.fixture(scope="module")
def peer_tables(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    with django_db_blocker.unblock():
        with connection.schema_editor() as editor:
            for model in PEER_MODELS.values():
                editor.create_model(model)
        try:
            yield
        finally:
            with connection.schema_editor() as editor:
                for model in PEER_MODELS.values():
                    editor.delete_model(model)


def signed_in_data(user: Any, **extra: Any) -> dict[str, Any]:
    return {
        SESSION_KEY: str(user.pk),
        BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
        HASH_SESSION_KEY: user.get_session_auth_hash(),
        **extra,
    }


def peer_row(table: str, user: Any, data: dict[str, Any]) -> str:
    """A live signed-in row in a peer's table; returns its cookie value."""
    key = get_random_string(32, VALID_KEY_CHARS)
    now = timezone.now()
    common = {
        "session_key": key,
        "session_data": SessionStore().encode(data),
        "expire_date": now + timedelta(days=7),
        "user_id": user.pk,
        "user_agent": FIREFOX_ANDROID,
        "ip": IP,
    }
    if table == "user_sessions_session":
        UserSessionsSession.objects.create(**common, last_activity=now, created=now)
    else:
        QSessionsSession.objects.create(**common, created_at=now, updated_at=now)
    return key


@pytest.mark.parametrize(
    ("table", "extra"),
    [
        ("user_sessions_session", {}),
        # qsessions also keeps the IP and User-Agent inside the data.
        (
            "qsessions_session",
            {"_qsessions_ip": IP, "_qsessions_user_agent": FIREFOX_ANDROID},
        ),
    ],
)
def test_import_from_a_peer_table_keeps_the_user_signed_in(
    peer_tables: None, settings: Any, user: Any, table: str, extra: dict[str, Any]
) -> None:
    key = peer_row(table, user, signed_in_data(user, counter=5, **extra))
    settings.SESSION_ENGINE = "django_sessionguard.backends.db"

    call_command("sessionguard_import", table=table, verbosity=0)

    row = Session.objects.get(key_hash=hash_key(key))
    assert row.user_id == user.pk
    # What the peer's other columns held is not carried over (docs/migrating.md).
    assert (row.ip_address, row.user_agent) == (None, "")
    client = Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=FIREFOX_ANDROID)
    client.cookies[django_settings.SESSION_COOKIE_NAME] = key
    assert client.get("/read/").json() == {"user": "alice", "counter": 5}
    row.refresh_from_db()
    assert (row.ip_address, row.browser, row.os) == (IP, "Firefox Mobile", "Android")


def test_a_peer_row_imported_twice_is_copied_once(
    peer_tables: None, settings: Any, user: Any
) -> None:
    peer_row("user_sessions_session", user, signed_in_data(user))
    settings.SESSION_ENGINE = "django_sessionguard.backends.db"
    call_command("sessionguard_import", table="user_sessions_session", verbosity=0)
    call_command("sessionguard_import", table="user_sessions_session", verbosity=0)
    assert Session.objects.for_user(user).count() == 1
