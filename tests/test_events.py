"""The audit trail: every event is a row, a ``session_event`` signal and one
JSON log line on the ``django_sessionguard`` logger, and nothing a client
sends can forge a log line.

Each kind is produced the way it happens on a site, through the test client
and the services.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client

from django_sessionguard import services
from django_sessionguard.events import EventKind
from django_sessionguard.faults import SessionCacheUnavailable
from django_sessionguard.models import SessionEvent
from django_sessionguard.signals import session_event
from tests.conftest import Clock
from tests.lifecycle_support import (
    CACHED_DB,
    FIREFOX_WINDOWS,
    OTHER_IP,
    browser,
    log_in,
    reference_of,
)

pytestmark = pytest.mark.django_db


class Trail:
    """What was announced while the test ran: signals and log records."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.signals: list[Any] = []
        self.caplog = caplog

    def receive(self, sender: Any, event: Any, **kwargs: Any) -> None:
        self.signals.append(event)

    @property
    def records(self) -> list[logging.LogRecord]:
        return [
            record
            for record in self.caplog.records
            if record.name == "django_sessionguard"
            and hasattr(record, "sessionguard_event")
        ]

    def lines(self) -> list[dict[str, Any]]:
        """Each record's message, parsed: ``sessionguard {json}``."""
        parsed = []
        for record in self.records:
            message = record.getMessage()
            assert "\n" not in message
            assert "\r" not in message
            prefix, _, payload = message.partition(" ")
            assert prefix == "sessionguard"
            parsed.append(json.loads(payload))
        return parsed


@pytest.fixture
def trail(caplog: pytest.LogCaptureFixture) -> Iterator[Trail]:
    caplog.set_level(logging.INFO, logger="django_sessionguard")
    recorder = Trail(caplog)
    session_event.connect(recorder.receive)
    yield recorder
    session_event.disconnect(recorder.receive)


# -- one scenario per kind -------------------------------------------------------


def signed_in(alice: Any) -> Client:
    client = browser()
    log_in(client)
    return client


def created(alice: Any, settings: Any, clock: Clock) -> None:
    browser().get("/write/")


def login(alice: Any, settings: Any, clock: Clock) -> None:
    signed_in(alice)


def logout(alice: Any, settings: Any, clock: Clock) -> None:
    signed_in(alice).post("/logout/")


def expired_idle(alice: Any, settings: Any, clock: Clock) -> None:
    settings.SESSIONGUARD_IDLE_TIMEOUT = 60
    client = signed_in(alice)
    clock.advance(61)
    client.get("/read/")


def expired_absolute(alice: Any, settings: Any, clock: Clock) -> None:
    settings.SESSIONGUARD_ABSOLUTE_TIMEOUT = 60
    client = signed_in(alice)
    clock.advance(61)
    client.get("/read/")


def revoked_user(alice: Any, settings: Any, clock: Clock) -> None:
    services.revoke_session(alice, reference_of(signed_in(alice)), actor=alice)


def revoked_staff(alice: Any, settings: Any, clock: Clock) -> None:
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_user("root", is_staff=True)
    services.revoke_session(alice, reference_of(signed_in(alice)), actor=root)


def revoked_system(alice: Any, settings: Any, clock: Clock) -> None:
    services.revoke_session(alice, reference_of(signed_in(alice)))


def evicted(alice: Any, settings: Any, clock: Clock) -> None:
    settings.SESSIONGUARD_MAX_SESSIONS = 1
    signed_in(alice)
    signed_in(alice)


def login_denied(alice: Any, settings: Any, clock: Clock) -> None:
    settings.SESSIONGUARD_MAX_SESSIONS = 1
    settings.SESSIONGUARD_LIMIT_POLICY = "deny_new"
    signed_in(alice)
    browser().post("/login/", {"username": "alice", "password": "pw"})


def ip_changed(alice: Any, settings: Any, clock: Clock) -> None:
    signed_in(alice).get("/read/", REMOTE_ADDR=OTHER_IP)


def ua_changed(alice: Any, settings: Any, clock: Clock) -> None:
    settings.SESSIONGUARD_UA_CHANGE = "log"
    signed_in(alice).get("/read/", HTTP_USER_AGENT=FIREFOX_WINDOWS)


def password_changed(alice: Any, settings: Any, clock: Clock) -> None:
    alice.set_password("new")
    alice.save()


def key_guessing(alice: Any, settings: Any, clock: Clock) -> None:
    from django.conf import settings as django_settings

    settings.SESSIONGUARD_GUESSING_THRESHOLD = 3
    client = browser()
    for digit in "123":
        client.cookies[django_settings.SESSION_COOKIE_NAME] = digit * 32
        client.get("/read/")


def new_device(alice: Any, settings: Any, clock: Clock) -> None:
    settings.SESSIONGUARD_NEW_DEVICE_DETECTION = True
    signed_in(alice)
    log_in(browser(OTHER_IP, FIREFOX_WINDOWS))


def new_device_reported(alice: Any, settings: Any, clock: Clock) -> None:
    from django_sessionguard.new_device_links import make_token

    new_device(alice, settings, clock)
    reported = SessionEvent.objects.get(kind=EventKind.NEW_DEVICE).session_ref
    Client().post(f"/account/sessions/new-device/{make_token(alice, reported)}/")


SCENARIOS: dict[str, Callable[[Any, Any, Clock], None]] = {
    EventKind.CREATED: created,
    EventKind.LOGIN: login,
    EventKind.LOGOUT: logout,
    EventKind.EXPIRED_IDLE: expired_idle,
    EventKind.EXPIRED_ABSOLUTE: expired_absolute,
    EventKind.REVOKED_BY_USER: revoked_user,
    EventKind.REVOKED_BY_STAFF: revoked_staff,
    EventKind.REVOKED_BY_SYSTEM: revoked_system,
    EventKind.EVICTED: evicted,
    EventKind.LOGIN_DENIED: login_denied,
    EventKind.IP_CHANGED: ip_changed,
    EventKind.UA_CHANGED: ua_changed,
    EventKind.PASSWORD_CHANGED: password_changed,
    EventKind.KEY_GUESSING: key_guessing,
    EventKind.NEW_DEVICE: new_device,
    EventKind.NEW_DEVICE_REPORTED: new_device_reported,
}


def test_every_kind_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(EventKind.values)


@pytest.mark.parametrize("kind", EventKind.values)
def test_each_event_is_a_row_a_signal_and_one_json_log_line(
    engine: str, user: Any, settings: Any, clock: Clock, trail: Trail, kind: str
) -> None:
    SCENARIOS[kind](user, settings, clock)

    rows = list(SessionEvent.objects.order_by("id"))
    assert kind in [row.kind for row in rows]
    # Every row was announced exactly once, in order, and nothing else was.
    assert [event.pk for event in trail.signals] == [row.pk for row in rows]
    lines = trail.lines()
    assert len(lines) == len(rows)
    for row, line in zip(rows, lines, strict=True):
        assert line["event"] == row.kind
        assert line["session"] == row.session_ref
        assert line["user_id"] == row.user_id
        assert line["actor_id"] == row.actor_id
        assert line["ip"] == row.ip_address
        assert line["device"] == row.device
        assert line["at"] == row.timestamp.isoformat()
        assert line.get("detail", {}) == row.detail
    row = next(row for row in rows if row.kind == kind)
    if kind == EventKind.KEY_GUESSING:  # about a client, not a session or user
        assert (row.session_ref, row.user_id) == ("", None)
        return
    if kind != EventKind.PASSWORD_CHANGED:  # changed in the shell: no session
        assert len(row.session_ref) == 32
    assert row.user_id == user.pk or kind == EventKind.CREATED


def test_events_name_sessions_by_reference_only(
    engine: str, user: Any, trail: Trail
) -> None:
    from django.conf import settings as django_settings

    client = signed_in(user)
    secret = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    client.post("/logout/")
    assert secret not in "\n".join(record.getMessage() for record in trail.records)
    assert not SessionEvent.objects.filter(session_ref=secret).exists()


# -- hostile input --------------------------------------------------------------

FORGED = '{"event": "login", "user_id": 1}'
HOSTILE_AGENTS = [
    f"Mozilla/5.0 Chrome/120.0\r\nsessionguard {FORGED}",
    f"Mozilla/5.0 Chrome/120.0\nsessionguard {FORGED}",
    "Mozilla/5.0\u2028Chrome\u0085/120\x00\x1b[31m",
]


@pytest.mark.parametrize("agent", HOSTILE_AGENTS, ids=["crlf", "lf", "unicode"])
def test_a_user_agent_cannot_forge_a_log_line(
    engine: str, user: Any, settings: Any, trail: Trail, agent: str
) -> None:
    settings.SESSIONGUARD_UA_CHANGE = "log"
    client = browser(user_agent=agent)
    log_in(client)
    client.get("/read/", HTTP_USER_AGENT=FIREFOX_WINDOWS)
    client.get("/read/", HTTP_USER_AGENT=agent)

    handler_output = io.StringIO()
    handler = logging.StreamHandler(handler_output)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for record in trail.records:
        handler.emit(record)
    written = handler_output.getvalue().splitlines()

    assert len(written) == len(trail.records) == SessionEvent.objects.count()
    for line in written:
        prefix, _, payload = line.partition(" ")
        assert prefix == "sessionguard"
        assert isinstance(json.loads(payload), dict)
    assert [line["event"] for line in trail.lines()].count("login") == 1
    for event in SessionEvent.objects.all():
        assert "\n" not in event.device
        assert "\r" not in json.dumps(event.detail, ensure_ascii=False)


def test_a_failed_revocation_announces_nothing(
    settings: Any, user: Any, trail: Trail, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SESSION_ENGINE = CACHED_DB
    reference = reference_of(signed_in(user))
    before = len(trail.signals)
    cache = caches[settings.SESSION_CACHE_ALIAS]

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "set_many", broken)  # ending writes tombstones
    with pytest.raises(SessionCacheUnavailable):
        services.revoke_session(user, reference, actor=user)
    assert len(trail.signals) == before
    assert len(trail.lines()) == before
