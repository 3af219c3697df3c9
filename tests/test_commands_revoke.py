"""``sessionguard_revoke``: end a user's sessions from the shell, on every engine."""

from __future__ import annotations

import pickle
from io import StringIO
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from django_sessionguard.backends.cached_db import TOMBSTONE
from django_sessionguard.events import EventKind
from django_sessionguard.keys import hash_key
from django_sessionguard.models import Session, SessionEvent

pytestmark = pytest.mark.django_db

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)


def signed_in(username: str = "alice") -> Client:
    client = Client(REMOTE_ADDR="198.51.100.9", HTTP_USER_AGENT=CHROME)
    response = client.post("/login/", {"username": username, "password": "pw"})
    assert response.status_code == 302, response.content
    assert client.get("/read/").json()["user"] == username
    return client


def reference_of(client: Client) -> str:
    key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    return Session.objects.get(key_hash=hash_key(key)).reference


def is_anonymous(client: Client) -> bool:
    response = client.get("/read/")
    return response.status_code == 200 and response.json()["user"] is None


def cached_session_keys() -> list[str]:
    """Session-cache keys holding anything but an ended session's tombstone."""
    cache = caches[django_settings.SESSION_CACHE_ALIAS]
    store = getattr(cache, "_cache", None)
    if isinstance(store, dict):  # local memory
        return [
            key
            for key, value in store.items()
            if "django_sessionguard" in key and pickle.loads(value) != TOMBSTONE  # noqa: S301
        ]
    from django_redis import get_redis_connection

    connection = get_redis_connection(django_settings.SESSION_CACHE_ALIAS)
    prefix = django_settings.CACHES[django_settings.SESSION_CACHE_ALIAS]["KEY_PREFIX"]
    return [
        key.decode()
        for key in connection.scan_iter(match=f"{prefix}:*django_sessionguard*")
        if cache.client.decode(connection.get(key)) != TOMBSTONE
    ]


def test_all_ends_every_session_everywhere(engine: str, user: Any) -> None:
    clients = [signed_in() for _ in range(3)]
    out = StringIO()
    call_command(
        "sessionguard_revoke",
        user="alice",
        all=True,
        reason="laptop stolen",
        stdout=out,
    )
    assert out.getvalue() == "Ended 3 sessions of alice.\n"
    assert not Session.objects.exists()
    assert cached_session_keys() == []
    assert all(is_anonymous(client) for client in clients)
    events = SessionEvent.objects.filter(kind=EventKind.REVOKED_BY_SYSTEM)
    assert events.count() == 3
    for event in events:
        assert event.user_id == user.pk
        assert event.actor_id is None  # the system, not a person
        assert event.detail == {"reason": "laptop stolen"}


def test_others_than_keeps_the_named_session(engine: str, user: Any) -> None:
    keep, *others = [signed_in() for _ in range(3)]
    out = StringIO()
    call_command(
        "sessionguard_revoke", user="alice", others_than=reference_of(keep), stdout=out
    )
    assert out.getvalue() == "Ended 2 sessions of alice.\n"
    assert keep.get("/read/").json()["user"] == "alice"
    assert all(is_anonymous(client) for client in others)
    assert Session.objects.count() == 1


def test_user_by_id_and_one_session_wording(user: Any, django_user_model: Any) -> None:
    bob = django_user_model.objects.create_user("bob", password="pw")
    signed_in("bob")
    signed_in("alice")
    out = StringIO()
    call_command("sessionguard_revoke", user=str(bob.pk), all=True, stdout=out)
    assert out.getvalue() == "Ended 1 session of bob.\n"
    assert list(Session.objects.values_list("user_id", flat=True)) == [user.pk]


def test_user_id_option_settles_a_username_that_looks_like_an_id(
    user: Any, django_user_model: Any
) -> None:
    # A username equal to another user's id: "--user" refuses to guess.
    lookalike = django_user_model.objects.create_user(str(user.pk), password="pw")
    signed_in("alice")
    signed_in(lookalike.username)
    with pytest.raises(CommandError, match="username of one user and the id of"):
        call_command("sessionguard_revoke", user=str(user.pk), all=True)
    assert Session.objects.count() == 2
    call_command("sessionguard_revoke", user_id=str(user.pk), all=True, verbosity=0)
    assert list(Session.objects.values_list("user_id", flat=True)) == [lookalike.pk]


def test_nothing_to_end_is_not_an_error(user: Any) -> None:
    out = StringIO()
    call_command("sessionguard_revoke", user="alice", all=True, stdout=out)
    assert out.getvalue() == "Ended 0 sessions of alice.\n"


# -- bad input ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["nobody", "999999", "-1", "1" * 40])
def test_unknown_user(user: Any, value: str) -> None:
    with pytest.raises(CommandError, match="No user with username or id"):
        call_command("sessionguard_revoke", user=value, all=True)


def test_unknown_user_id(user: Any) -> None:
    with pytest.raises(CommandError, match="No user with id 'abc'"):
        call_command("sessionguard_revoke", user_id="abc", all=True)


@pytest.mark.parametrize("reference", ["x", "g" * 32, "ABCDEF" * 6])
def test_malformed_reference(user: Any, reference: str) -> None:
    signed_in()
    with pytest.raises(CommandError, match="is not a session reference"):
        call_command("sessionguard_revoke", user="alice", others_than=reference)
    assert Session.objects.count() == 1


def test_a_reference_that_is_not_theirs_ends_nothing(
    user: Any, django_user_model: Any
) -> None:
    """A mistyped or foreign reference must not end *all* of the user's sessions."""
    django_user_model.objects.create_user("bob", password="pw")
    bobs = reference_of(signed_in("bob"))
    signed_in("alice")
    for reference in (bobs, "0" * 32):
        with pytest.raises(CommandError, match="alice has no live session with"):
            call_command("sessionguard_revoke", user="alice", others_than=reference)
    assert Session.objects.count() == 2


def test_all_or_others_than_is_required(user: Any) -> None:
    with pytest.raises(CommandError, match="one of the arguments --all --others-than"):
        call_command("sessionguard_revoke", user="alice")


def test_all_and_others_than_exclude_each_other(user: Any) -> None:
    ref = reference_of(signed_in())
    with pytest.raises(CommandError, match="not allowed with argument"):
        call_command("sessionguard_revoke", user="alice", all=True, others_than=ref)
    assert Session.objects.count() == 1


def test_user_is_required() -> None:
    with pytest.raises(CommandError, match="one of the arguments --user --user-id"):
        call_command("sessionguard_revoke", all=True)
