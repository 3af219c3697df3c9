"""Session-key guessing: many unknown well-formed keys from one client.

Through the test client and the real middleware, on both engines: the
threshold crossing records exactly one event per window (row, signals, log
lines without any key), ``SESSIONGUARD_GUESSING_BLOCK`` answers 429 for a
cool-down, valid sessions are untouched and cost nothing more, and forwarding
headers from an untrusted peer neither hide an attacker nor frame someone else.
"""

from __future__ import annotations

import logging
import secrets
import string
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.db import connection
from django.http import HttpResponseBase
from django.test import Client
from django.test.utils import CaptureQueriesContext

from django_sessionguard import services
from django_sessionguard.events import EventKind
from django_sessionguard.keys import hash_key, reference_for
from django_sessionguard.models import SessionEvent
from django_sessionguard.signals import key_guessing_detected, session_event
from tests.conftest import Clock
from tests.lifecycle_support import JSON, browser, log_in, reference_of

pytestmark = pytest.mark.django_db

ATTACKER = "198.51.100.66"
VICTIM = "203.0.113.50"
THRESHOLD = 5
WINDOW = 300
ALPHABET = string.ascii_lowercase + string.digits


def unknown_key() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(32))


@pytest.fixture(autouse=True)
def detection(settings: Any) -> None:
    settings.SESSIONGUARD_GUESSING_THRESHOLD = THRESHOLD
    settings.SESSIONGUARD_GUESSING_WINDOW = WINDOW


class Heard:
    """Signals and log records sent while a test runs."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog
        self.detected: list[dict[str, Any]] = []
        self.events: list[Any] = []

    def on_detected(self, sender: Any, signal: Any, **kwargs: Any) -> None:
        self.detected.append(kwargs)

    def on_event(self, sender: Any, event: Any, **kwargs: Any) -> None:
        self.events.append(event)

    def text(self) -> str:
        return "\n".join(
            f"{record.getMessage()} {record.__dict__}" for record in self.caplog.records
        )

    def warnings(self) -> list[logging.LogRecord]:
        return [
            record
            for record in self.caplog.records
            if hasattr(record, "sessionguard_guessing")
        ]


@pytest.fixture
def heard(caplog: pytest.LogCaptureFixture) -> Iterator[Heard]:
    caplog.set_level(logging.INFO, logger="django_sessionguard")
    recorder = Heard(caplog)
    key_guessing_detected.connect(recorder.on_detected)
    session_event.connect(recorder.on_event)
    yield recorder
    key_guessing_detected.disconnect(recorder.on_detected)
    session_event.disconnect(recorder.on_event)


def guess(
    client: Client, times: int, path: str = "/read/", **extra: Any
) -> tuple[list[str], list[HttpResponseBase]]:
    """Send ``times`` requests, each with a fresh well-formed key nobody issued."""
    keys, responses = [], []
    for _ in range(times):
        key = unknown_key()
        keys.append(key)
        client.cookies[django_settings.SESSION_COOKIE_NAME] = key
        responses.append(client.get(path, **extra))
    return keys, responses


def guessing_events() -> list[SessionEvent]:
    return list(SessionEvent.objects.filter(kind=EventKind.KEY_GUESSING))


# -- detection ------------------------------------------------------------------


def test_threshold_crossing_records_one_event_per_window(
    engine: str, clock: Clock, heard: Heard
) -> None:
    attacker = browser(ip=ATTACKER)
    keys, responses = guess(attacker, THRESHOLD - 1)
    assert guessing_events() == []
    assert all(response.json()["user"] is None for response in responses)

    more, responses = guess(attacker, 1 + 3 * THRESHOLD)
    keys += more
    assert all(response.status_code == 200 for response in responses)
    [event] = guessing_events()
    assert event.ip_address == ATTACKER
    assert (event.session_ref, event.user_id, event.actor_id) == ("", None, None)
    assert event.detail == {"unknown_keys": THRESHOLD, "window": WINDOW}
    assert heard.detected == [
        {"ip_address": ATTACKER, "count": THRESHOLD, "window": WINDOW, "event": event}
    ]
    assert [e.kind for e in heard.events] == [EventKind.KEY_GUESSING]
    [warning] = heard.warnings()
    assert warning.levelno == logging.WARNING
    assert warning.sessionguard_guessing == {  # type: ignore[attr-defined]
        "ip": ATTACKER,
        "unknown_keys": THRESHOLD,
        "window": WINDOW,
    }

    # The next window counts afresh: one more event once it is crossed again.
    clock.advance(WINDOW)
    guess(attacker, THRESHOLD - 1)
    assert len(guessing_events()) == 1
    more, _ = guess(attacker, THRESHOLD)
    keys += more
    assert len(guessing_events()) == 2
    assert len(heard.detected) == 2

    # Nothing that could lead back to a key tried is recorded or logged.
    logged = heard.text()
    stored = "\n".join(
        f"{e.session_ref} {e.device} {e.detail}" for e in SessionEvent.objects.all()
    )
    for key in keys:
        key_hash = hash_key(key)
        for secret in (key, key_hash, key_hash[:12], reference_for(key_hash)):
            assert secret not in logged
            assert secret not in stored


def test_counting_costs_no_database_write(engine: str, cache_calls: Any) -> None:
    attacker = browser(ip=ATTACKER)
    guess(attacker, 1)
    for _ in range(3):
        with CaptureQueriesContext(connection) as queries, cache_calls() as calls:
            guess(attacker, 1)
        assert queries.captured_queries
        for query in queries.captured_queries:
            assert query["sql"].lstrip().upper().startswith("SELECT"), query["sql"]
        # One counter increment per unknown key (after the session lookup).
        assert calls[-1:] == ["incr"]
        assert calls.count("incr") == 1


def test_one_counter_per_client_and_window(
    engine: str, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.SESSIONGUARD_GUESSING_BLOCK = True
    cache = caches[django_settings.SESSION_CACHE_ALIAS]
    written: dict[str, Any] = {}
    for name in ("incr", "add", "set"):
        real = getattr(cache, name)

        def spy(key: str, *args: Any, _real: Any = real, **kwargs: Any) -> Any:
            if key.startswith("django_sessionguard.guessing:"):
                written[key] = kwargs.get("timeout", args[1] if len(args) > 1 else None)
            return _real(key, *args, **kwargs)

        monkeypatch.setattr(cache, name, spy)

    guess(browser(ip=ATTACKER), 10 * THRESHOLD)
    # A counter and a block marker, both expiring with the window: memory is
    # bounded by the number of clients, not by the number of keys tried.
    assert len(written) == 2
    assert set(written.values()) - {None} == {WINDOW}


def test_disabled_with_none(engine: str, settings: Any, cache_calls: Any) -> None:
    settings.SESSIONGUARD_GUESSING_THRESHOLD = None
    with cache_calls() as calls:
        guess(browser(ip=ATTACKER), 5 * THRESHOLD)
    assert guessing_events() == []
    assert "incr" not in calls
    assert "add" not in calls


def test_malformed_cookies_are_not_counted(engine: str, cache_calls: Any) -> None:
    attacker = browser(ip=ATTACKER)
    with cache_calls() as calls:
        for value in ("A" * 32, "a" * 31, "x" * 65, "../../etc", "é" * 32) * 3:
            attacker.cookies[django_settings.SESSION_COOKIE_NAME] = value
            assert attacker.get("/read/").json()["user"] is None
    # Rejected before any lookup: nothing to count, and nothing counted.
    assert calls == []
    assert guessing_events() == []


def test_keys_of_ended_sessions_are_not_guesses(engine: str, user: Any) -> None:
    # A whole office behind one address, signed out by staff: each browser
    # comes back with a dead cookie the audit trail explains.
    laptops = [browser(ip=ATTACKER) for _ in range(THRESHOLD + 2)]
    cookies = []
    for laptop in laptops:
        log_in(laptop)
        cookies.append(laptop.cookies[django_settings.SESSION_COOKIE_NAME].value)
    services.revoke_all_sessions(user)
    for laptop, cookie in zip(laptops, cookies, strict=True):
        for _ in range(2):
            laptop.cookies[django_settings.SESSION_COOKIE_NAME] = cookie
            assert laptop.get("/read/").json()["user"] is None
    assert guessing_events() == []


def test_async_views_are_counted_too(engine: str) -> None:
    guess(browser(ip=ATTACKER), THRESHOLD, path="/async-read/")
    assert len(guessing_events()) == 1


def test_a_cache_outage_never_fails_the_request(
    engine: str, monkeypatch: pytest.MonkeyPatch, heard: Heard
) -> None:
    cache = caches[django_settings.SESSION_CACHE_ALIAS]

    def down(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "incr", down)
    monkeypatch.setattr(cache, "add", down)
    _, responses = guess(browser(ip=ATTACKER), THRESHOLD + 1)
    assert [r.status_code for r in responses] == [200] * (THRESHOLD + 1)
    assert "Could not count an unknown session key." in heard.text()
    assert guessing_events() == []


# -- the optional block ------------------------------------------------------------


def test_block_answers_429_for_a_cool_down(
    engine: str, settings: Any, clock: Clock
) -> None:
    settings.SESSIONGUARD_GUESSING_BLOCK = True
    attacker = browser(ip=ATTACKER)
    _, responses = guess(attacker, THRESHOLD + 2)
    statuses = [response.status_code for response in responses]
    assert statuses == [200] * (THRESHOLD - 1) + [429] * 3
    blocked = responses[-1]
    assert 0 < int(blocked["Retry-After"]) <= WINDOW
    assert "no-store" in blocked["Cache-Control"]
    # The unknown cookie is dropped, so a browser that merely had a stale one
    # is not stuck: its next request carries none.
    assert blocked.cookies[django_settings.SESSION_COOKIE_NAME]["max-age"] == 0
    assert attacker.get("/anon/").status_code == 200
    assert attacker.get("/read/").json()["user"] is None
    # JSON clients get JSON.
    _, [as_json] = guess(attacker, 1, **JSON)
    assert as_json.status_code == 429
    assert as_json.json()["error"] == "too_many_requests"
    assert len(guessing_events()) == 1

    # Over when the cool-down is.
    clock.advance(WINDOW + 1)
    _, [after] = guess(attacker, 1)
    assert after.status_code == 200


def test_no_429_without_the_block_setting(engine: str) -> None:
    _, responses = guess(browser(ip=ATTACKER), 3 * THRESHOLD)
    assert {response.status_code for response in responses} == {200}


def test_valid_sessions_are_untouched(
    engine: str, settings: Any, user: Any, cache_calls: Any
) -> None:
    settings.SESSIONGUARD_GUESSING_BLOCK = True
    owner = browser(ip=ATTACKER)  # the same address as the guesser (one NAT)
    log_in(owner)
    _, responses = guess(browser(ip=ATTACKER), THRESHOLD + 1)
    assert responses[-1].status_code == 429

    owner.get("/read/")  # records the first activity of the signed-in session
    with cache_calls() as calls:
        response = owner.get("/read/")
    assert response.status_code == 200
    assert response.json()["user"] == "alice"
    # The signed-in request costs what it costs without detection.
    cached = engine.endswith("cached_db")
    assert calls == (["get"] if cached else [])
    assert reference_of(owner)


# -- forwarding headers -------------------------------------------------------------


def test_spoofed_forwarded_for_neither_hides_nor_frames(
    engine: str, settings: Any
) -> None:
    settings.SESSIONGUARD_GUESSING_BLOCK = True
    attacker = browser(ip=ATTACKER)
    for n in range(THRESHOLD + 1):
        guess(
            attacker,
            1,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, {VICTIM}",
            HTTP_FORWARDED=f"for={VICTIM}",
        )
    # Counted against the connection's address, not the claimed ones.
    [event] = guessing_events()
    assert event.ip_address == ATTACKER
    # The address the attacker claimed is not blocked.
    _, [victim] = guess(browser(ip=VICTIM), 1)
    assert victim.status_code == 200


def test_behind_a_trusted_proxy_each_client_is_counted_apart(
    engine: str, settings: Any
) -> None:
    settings.SESSIONGUARD_TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.SESSIONGUARD_GUESSING_BLOCK = True
    proxy = browser(ip="10.0.0.2")
    guess(proxy, THRESHOLD - 1, HTTP_X_FORWARDED_FOR=ATTACKER)
    guess(proxy, THRESHOLD - 2, HTTP_X_FORWARDED_FOR=VICTIM)
    assert guessing_events() == []

    _, [blocked] = guess(proxy, 1, HTTP_X_FORWARDED_FOR=f"192.0.2.1, {ATTACKER}")
    # A hop left of the client the proxy saw is the attacker's own claim.
    assert blocked.status_code == 429
    [event] = guessing_events()
    assert event.ip_address == ATTACKER
    _, [other] = guess(proxy, 1, HTTP_X_FORWARDED_FOR=VICTIM)
    assert other.status_code == 200
