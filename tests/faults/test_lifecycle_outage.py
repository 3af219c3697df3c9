"""Timeouts, policy, session limits and password changes while Redis is down.

Endings that follow from a session's own data (timeouts) still end it for the
request; endings by decision (policy, limits, revocation) are refused with
nothing done. A password change goes through: the sessions signed in with the
old password end in the database, and any copy Redis keeps of them is refused
by Django's own session check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import make_password
from django.core.cache import caches

from django_sessionguard.backends.cached_db import TOMBSTONE, SessionStore
from django_sessionguard.events import EventKind
from django_sessionguard.keys import hash_key
from django_sessionguard.models import Session, SessionEvent
from tests.faults.conftest import cookie, log_in, warnings_logged
from tests.faults.redis_server import RedisServer
from tests.user_sessions import UBUNTU_FIREFOX

pytestmark = [pytest.mark.faults, pytest.mark.services("redis"), pytest.mark.django_db]

Browser = Callable[..., Any]


def cached_entry(key: str) -> Any:
    cache = caches[django_settings.SESSION_CACHE_ALIAS]
    return cache.get(SessionStore.data_cache_key(hash_key(key)))


def whoami(client: Any) -> str | None:
    response = client.get("/read/")
    assert response.status_code == 200, response.status_code
    user: str | None = response.json()["user"]
    return user


def test_an_idle_timeout_still_ends_the_session_for_the_request(
    redis: RedisServer,
    browser: Browser,
    user: Any,
    settings: Any,
    clock: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.SESSIONGUARD_IDLE_TIMEOUT = 600
    client = browser()
    log_in(client)
    key = cookie(client)
    redis.kill()
    clock.advance(700)

    response = client.get("/read/", HTTP_ACCEPT="text/html")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert not cookie(client)  # the cookie is deleted
    assert SessionEvent.objects.filter(kind=EventKind.EXPIRED_IDLE).count() == 1
    # The cached copy could not be sealed, so the row stays too: either ends
    # the same way, being past the same deadline.
    assert Session.objects.filter(user=user).exists()
    assert warnings_logged(caplog, "could not make 1 ended session(s) unusable") == 1

    redis.restart()
    replay = browser()
    replay.cookies[settings.SESSION_COOKIE_NAME] = key
    assert replay.get("/read/", HTTP_ACCEPT="text/html").status_code == 302
    assert not Session.objects.filter(user=user).exists()


def test_a_browser_change_that_policy_revokes_is_refused_with_nothing_done(
    redis: RedisServer, browser: Browser, user: Any, settings: Any
) -> None:
    settings.SESSIONGUARD_UA_CHANGE = "revoke"
    client = browser()
    log_in(client)
    redis.kill()

    response = client.get("/read/", HTTP_USER_AGENT=UBUNTU_FIREFOX)
    assert response.status_code == 503
    assert not SessionEvent.objects.filter(kind=EventKind.REVOKED_BY_SYSTEM).exists()
    assert whoami(client) == "alice"  # from its own browser: untouched

    redis.restart()
    response = client.get("/read/", HTTP_USER_AGENT=UBUNTU_FIREFOX)
    assert response.status_code == 302  # revoked now, sent to the login page
    assert SessionEvent.objects.filter(kind=EventKind.REVOKED_BY_SYSTEM).count() == 1
    assert whoami(client) is None


@pytest.mark.parametrize("policy", ["evict_oldest", "deny_new"])
def test_a_sign_in_the_session_limit_must_act_on_is_refused(
    redis: RedisServer, browser: Browser, user: Any, settings: Any, policy: str
) -> None:
    settings.SESSIONGUARD_MAX_SESSIONS = 1
    settings.SESSIONGUARD_LIMIT_POLICY = policy
    laptop, phone = browser(), browser()
    log_in(laptop)
    redis.kill()

    response = phone.post("/login/", {"username": "alice", "password": "pw"})
    assert response.status_code == 503
    assert whoami(phone) is None
    assert whoami(laptop) == "alice"
    assert Session.objects.filter(user=user).count() == 1
    assert not SessionEvent.objects.filter(kind=EventKind.EVICTED).exists()

    redis.restart()
    response = phone.post("/login/", {"username": "alice", "password": "pw"})
    if policy == "evict_oldest":
        assert response.status_code == 302
        assert whoami(phone) == "alice"
        assert whoami(laptop) is None
    else:
        assert whoami(phone) is None
        assert whoami(laptop) == "alice"


NEW_PASSWORD = "a new password 1"


def change_password(client: Any) -> Any:
    """Post Django's own ``PasswordChangeView`` form."""
    return client.post(
        "/password-change/",
        {
            "old_password": "pw",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )


def revoked_for_password_change() -> list[str]:
    return [
        event.detail.get("reason", "")
        for event in SessionEvent.objects.filter(kind__startswith="revoked")
    ]


def test_a_password_changed_while_redis_is_down_keeps_this_session_only(
    redis: RedisServer,
    browser: Browser,
    user: Any,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    laptop, phone = browser(), browser()
    log_in(laptop)
    log_in(phone)
    laptop_key, phone_key = cookie(laptop), cookie(phone)
    redis.kill()

    response = change_password(laptop)

    # Saved, and the page says so: Django's update_session_auth_hash ran.
    assert response.status_code == 302
    assert response["Location"] == "/password-change/done/"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert cookie(laptop) != laptop_key  # a new key, with the new hash
    assert whoami(laptop) == "alice"
    # The phone is signed out now, from the database, without a 503.
    assert whoami(phone) is None
    assert revoked_for_password_change() == ["password_changed"]
    assert SessionEvent.objects.filter(kind=EventKind.PASSWORD_CHANGED).count() == 1
    # One row left, the laptop's new key: neither the phone's nor the
    # laptop's old key is listed or usable.
    assert [row.key_hash for row in Session.objects.filter(user=user)] == [
        hash_key(cookie(laptop))
    ]
    for old_key in (laptop_key, phone_key):
        replay = browser()
        replay.cookies[settings.SESSION_COOKIE_NAME] = old_key
        assert whoami(replay) is None
    assert warnings_logged(caplog, "ended in the database only") == 2

    redis.restart()
    assert whoami(laptop) == "alice"
    assert whoami(phone) is None


def test_copies_redis_kept_through_a_password_change_are_refused(
    redis: RedisServer, browser: Browser, user: Any
) -> None:
    laptop, phone = browser(), browser()
    log_in(laptop)
    log_in(phone)
    assert whoami(phone) == "alice"
    copies = {
        cookie(client): cached_entry(cookie(client)) for client in (laptop, phone)
    }
    redis.kill()

    user.set_password(NEW_PASSWORD)
    user.save()  # the shell, a reset, staff: every session ends
    assert not Session.objects.filter(user=user).exists()

    # Redis answers again with the copies it held (a partition that healed:
    # the tombstones never reached it).
    redis.restart()
    cache = caches[django_settings.SESSION_CACHE_ALIAS]
    for key, entry in copies.items():
        assert isinstance(entry, tuple)  # a live copy, served as it is
        cache.set(SessionStore.data_cache_key(hash_key(key)), entry)

    # Django's session check refuses them (the old password's hash), and their
    # tombstones are written now.
    for client in (laptop, phone):
        key = cookie(client)
        assert whoami(client) is None
        assert cached_entry(key) == TOMBSTONE
    assert revoked_for_password_change() == ["password_changed"] * 2


def test_a_session_signed_out_by_a_password_changed_elsewhere_is_anonymous(
    redis: RedisServer,
    browser: Browser,
    user: Any,
    django_user_model: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    phone = browser()
    log_in(phone)
    key = cookie(phone)
    redis.kill()
    # Changed without save() (a bulk update, another application sharing the
    # user table): no signal, so the phone's row is still there.
    django_user_model.objects.filter(pk=user.pk).update(
        password=make_password(NEW_PASSWORD)
    )

    # Django's check flushes the phone's session; the tombstone cannot be
    # written, but the session is refused for good: anonymous, not a 503.
    assert whoami(phone) is None
    assert not Session.objects.filter(key_hash=hash_key(key)).exists()
    assert warnings_logged(caplog, "ended in the database only") == 1

    redis.restart()
    replay = browser()
    replay.cookies[django_settings.SESSION_COOKIE_NAME] = key
    assert whoami(replay) is None
