"""Timeouts, policy, session limits and password changes while Redis is down.

Endings that follow from a session's own data (timeouts) still end it for the
request; endings by decision (policy, limits, revocation) are refused with
nothing done, and a session whose password hash no longer matches is never
served.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from django_sessionguard.events import EventKind
from django_sessionguard.faults import SessionCacheUnavailable
from django_sessionguard.models import Session, SessionEvent
from tests.faults.conftest import cookie, log_in, warnings_logged
from tests.faults.redis_server import RedisServer
from tests.user_sessions import UBUNTU_FIREFOX

pytestmark = [pytest.mark.faults, pytest.mark.services("redis"), pytest.mark.django_db]

Browser = Callable[..., Any]


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


def test_a_password_changed_while_redis_is_down_is_never_served_with_the_old_one(
    redis: RedisServer, browser: Browser, user: Any
) -> None:
    laptop, phone = browser(), browser()
    log_in(laptop)
    log_in(phone)
    redis.kill()

    user.set_password("new password")
    with pytest.raises(SessionCacheUnavailable):
        user.save()  # saved; ending the other sessions is refused
    user.refresh_from_db()
    assert user.check_password("new password")

    # Django's own check (the session's password hash no longer matches)
    # would sign them out, which cannot be made effective yet: a 503, never
    # the old user's pages.
    for client in (laptop, phone):
        assert client.get("/read/").status_code == 503

    redis.restart()
    assert whoami(laptop) is None
    assert whoami(phone) is None
