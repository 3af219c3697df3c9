"""A new password, a deactivation or a deletion ends the user's sessions at once.

Django only invalidates other sessions lazily (the session auth hash stops
matching on their next request); here they end everywhere immediately, cache
included, with a reason the signed-out browser is told.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import caches
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from django_sessionguard import services
from django_sessionguard.events import EventKind
from django_sessionguard.models import Session, SessionEvent
from tests.lifecycle_support import (
    CACHED_DB,
    browser,
    cached_entries,
    key_hash_of,
    log_in,
    reference_of,
    row_exists,
    signed_out_message,
    whoami,
)

PASSWORD_MESSAGE = "You were signed out because your password was changed."


@pytest.fixture
def alice(user: Any) -> Any:
    return user


@pytest.fixture
def laptop(alice: Any) -> Client:
    client = browser()
    log_in(client)
    return client


@pytest.fixture
def phone(alice: Any) -> Client:
    client = browser(ip="203.0.113.50")
    log_in(client)
    return client


def assert_ended(client: Client, key_hash: str) -> Any:
    assert not row_exists(key_hash)
    assert cached_entries(key_hash) == []
    response = client.get("/read/")
    assert response.json()["user"] is None
    return response


def ended_reasons(kind: str) -> list[str]:
    return [
        event.detail.get("reason", "")
        for event in SessionEvent.objects.filter(kind=kind)
    ]


@pytest.mark.django_db
@pytest.mark.urls("tests.lifecycle_urls")
def test_password_change_keeps_this_session_and_ends_the_others(
    engine: str, alice: Any, laptop: Client, phone: Client
) -> None:
    tablet = browser()
    log_in(tablet)
    others = [(phone, key_hash_of(phone)), (tablet, key_hash_of(tablet))]
    where = reference_of(laptop)

    response = laptop.post(
        "/password-change/",
        {
            "old_password": "pw",
            "new_password1": "a new password 1",
            "new_password2": "a new password 1",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/password-change/done/"
    assert whoami(laptop) == "alice"
    for client, key_hash in others:
        assert signed_out_message(assert_ended(client, key_hash)) == PASSWORD_MESSAGE
    assert Session.objects.filter(user=alice).count() == 1
    changed = SessionEvent.objects.get(kind=EventKind.PASSWORD_CHANGED)
    assert (changed.user, changed.actor, changed.session_ref) == (alice, alice, where)
    revoked = SessionEvent.objects.filter(kind=EventKind.REVOKED_BY_USER)
    assert revoked.count() == 2
    assert {event.actor for event in revoked} == {alice}
    assert ended_reasons(EventKind.REVOKED_BY_USER) == ["password_changed"] * 2


@pytest.mark.django_db
@pytest.mark.urls("tests.lifecycle_urls")
def test_password_reset_ends_every_session(
    engine: str, alice: Any, laptop: Client, phone: Client
) -> None:
    hashes = [key_hash_of(laptop), key_hash_of(phone)]
    stranger = browser(ip="192.0.2.1")
    alice.refresh_from_db()  # the token covers last_login, set by the sign-ins
    uid = urlsafe_base64_encode(force_bytes(alice.pk))
    token = default_token_generator.make_token(alice)

    form = stranger.get(f"/reset/{uid}/{token}/")
    assert form.status_code == 302
    done = stranger.post(
        form["Location"],
        {"new_password1": "reset password 1", "new_password2": "reset password 1"},
    )

    assert done.status_code == 302
    assert done["Location"] == "/reset/done/"
    for client, key_hash in zip([laptop, phone], hashes, strict=True):
        assert signed_out_message(assert_ended(client, key_hash)) == PASSWORD_MESSAGE
    assert not Session.objects.filter(user=alice).exists()
    changed = SessionEvent.objects.get(kind=EventKind.PASSWORD_CHANGED)
    assert (changed.user, changed.actor, changed.session_ref) == (alice, None, "")
    assert ended_reasons(EventKind.REVOKED_BY_SYSTEM) == ["password_changed"] * 2
    log_in(laptop, password="reset password 1")


@pytest.mark.django_db
def test_set_password_in_the_shell_ends_every_session(
    engine: str, alice: Any, laptop: Client, phone: Client
) -> None:
    hashes = [key_hash_of(laptop), key_hash_of(phone)]
    alice.set_password("shell password")
    alice.save()
    for client, key_hash in zip([laptop, phone], hashes, strict=True):
        assert_ended(client, key_hash)


@pytest.mark.django_db
def test_staff_changing_a_password_ends_all_of_that_users_sessions(
    engine: str, alice: Any, laptop: Client, django_user_model: Any
) -> None:
    django_user_model.objects.create_superuser("root", password="pw")
    admin = browser()
    log_in(admin, "root")
    key_hash = key_hash_of(laptop)

    response = admin.post(
        f"/admin/auth/user/{alice.pk}/password/",
        {"password1": "set by staff 1", "password2": "set by staff 1"},
    )

    assert response.status_code == 302
    assert_ended(laptop, key_hash)
    assert whoami(admin) == "root"
    event = SessionEvent.objects.get(kind=EventKind.REVOKED_BY_STAFF)
    assert (event.user, event.actor.username) == (alice, "root")
    assert event.detail == {"reason": "password_changed"}


@pytest.mark.django_db
def test_saving_other_fields_ends_nothing(
    engine: str, alice: Any, laptop: Client
) -> None:
    alice.first_name = "Alice"
    alice.save()
    alice.save(update_fields=["last_login"])
    assert whoami(laptop) == "alice"
    assert not SessionEvent.objects.filter(
        kind__in=[EventKind.PASSWORD_CHANGED, EventKind.REVOKED_BY_SYSTEM]
    ).exists()


@pytest.mark.django_db
def test_deactivating_a_user_ends_every_session(
    engine: str, alice: Any, laptop: Client, phone: Client
) -> None:
    hashes = [key_hash_of(laptop), key_hash_of(phone)]
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    for client, key_hash in zip([laptop, phone], hashes, strict=True):
        response = assert_ended(client, key_hash)
        assert signed_out_message(response) == (
            "You were signed out because your account was deactivated."
        )
    assert ended_reasons(EventKind.REVOKED_BY_SYSTEM) == ["user_deactivated"] * 2


@pytest.mark.django_db(transaction=True)
def test_deleting_a_user_ends_every_session_cache_included(
    engine: str, alice: Any, laptop: Client, phone: Client
) -> None:
    """Transactional, so PostgreSQL checks the deferred foreign keys at commit
    (the audit events written while the user is deleted must not dangle)."""
    hashes = [key_hash_of(laptop), key_hash_of(phone)]
    references = {reference_of(laptop), reference_of(phone)}

    alice.delete()

    for client, key_hash in zip([laptop, phone], hashes, strict=True):
        assert_ended(client, key_hash)
    assert Session.objects.count() == 0
    events = SessionEvent.objects.filter(kind=EventKind.REVOKED_BY_SYSTEM)
    assert {event.session_ref for event in events} == references
    assert {event.user_id for event in events} == {None}  # the user is gone
    assert ended_reasons(EventKind.REVOKED_BY_SYSTEM) == ["user_deleted"] * 2


class FastPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """A preferred hasher cheap enough for tests (one iteration)."""

    iterations = 1


@pytest.mark.django_db
def test_a_password_hash_upgrade_at_sign_in_is_not_a_password_change(
    engine: str, settings: Any, django_user_model: Any
) -> None:
    """Django re-hashes a password with the preferred hasher when its user signs
    in. The password is the same, so this app ends no session and records no
    password change. (Django's own session-hash check may still sign the other
    sessions out on their next request, since the hash it signs changed; that is
    Django's behaviour and not asserted here.)"""
    settings.PASSWORD_HASHERS = [
        "tests.test_password_change.FastPBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    bob = django_user_model.objects.create(
        username="bob", password=make_password("pw", hasher="md5")
    )
    phone = browser(ip="203.0.113.50")
    phone.force_login(bob)
    phone_hash = key_hash_of(phone)

    laptop = browser()
    log_in(laptop, username="bob")

    bob.refresh_from_db()
    assert bob.password.startswith("pbkdf2_sha256$")  # the upgrade happened
    assert row_exists(phone_hash)
    assert Session.objects.filter(user=bob).count() == 2
    assert not SessionEvent.objects.filter(
        user=bob,
        kind__in=[
            EventKind.PASSWORD_CHANGED,
            EventKind.REVOKED_BY_USER,
            EventKind.REVOKED_BY_SYSTEM,
            EventKind.REVOKED_BY_STAFF,
        ],
    ).exists()


# -- while the session cache is down ---------------------------------------------


def cache_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every call to the session cache fails, as when Redis is stopped."""
    cache = caches[django_settings.SESSION_CACHE_ALIAS]

    def down(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("cache down")

    for name in ("get", "get_many", "set", "set_many", "add", "delete_many"):
        monkeypatch.setattr(cache, name, down)


@pytest.mark.django_db
@pytest.mark.urls("tests.lifecycle_urls")
def test_a_password_change_goes_through_while_the_session_cache_is_down(
    settings: Any,
    alice: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.SESSION_ENGINE = CACHED_DB
    laptop, phone = browser(), browser(ip="203.0.113.50")
    log_in(laptop)
    log_in(phone)
    phone_hash = key_hash_of(phone)
    cache_down(monkeypatch)

    response = laptop.post(
        "/password-change/",
        {
            "old_password": "pw",
            "new_password1": "a new password 1",
            "new_password2": "a new password 1",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/password-change/done/"
    assert whoami(laptop) == "alice"
    assert whoami(phone) is None
    assert not row_exists(phone_hash)
    assert Session.objects.filter(user=alice).count() == 1  # the laptop's new key
    assert ended_reasons(EventKind.REVOKED_BY_USER) == ["password_changed"]
    assert "ended in the database only" in caplog.text


@pytest.mark.django_db
def test_without_the_cache_only_sessions_django_refuses_are_ended(
    settings: Any,
    alice: Any,
    django_user_model: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A session signed in with the new password (here: after a change that
    sent no signal) would stay usable from a cached copy if its row went
    without a tombstone: it is left, and the ERROR says so."""
    settings.SESSION_ENGINE = CACHED_DB
    laptop, phone = browser(), browser(ip="203.0.113.50")
    log_in(laptop)
    django_user_model.objects.filter(pk=alice.pk).update(
        password=make_password("a new password 1")
    )
    log_in(phone, password="a new password 1")
    alice.refresh_from_db()
    cache_down(monkeypatch)

    ended = services.end_sessions_after_password_change(alice, None)

    assert ended == 1
    assert not row_exists(key_hash_of(laptop))
    assert row_exists(key_hash_of(phone))
    assert "1 other session(s) of a user whose password changed" in caplog.text
    monkeypatch.undo()
    assert whoami(phone) == "alice"
