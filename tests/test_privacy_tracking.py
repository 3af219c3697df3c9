"""``SESSIONGUARD_TRACK_IP`` / ``SESSIONGUARD_TRACK_USER_AGENT`` off: nothing is kept.

A browser with a known address and User-Agent uses the site the way a person
does (an anonymous visit, the login form, reads after the activity interval, a
write, the devices page and its API, signing out, a revocation); then every
place the data could reach is searched for it: the session and event tables
(session data decoded), every cache entry (Redis itself on the Redis leg),
every log record, and every SQL statement sent. A control run with tracking on
finds the data in the same places, so the searches can see it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from django_sessionguard import services
from django_sessionguard.backends.base import SessionGuardStore
from django_sessionguard.events import EventKind
from django_sessionguard.models import Session, SessionEvent
from tests.conftest import Clock
from tests.lifecycle_support import CACHED_DB, FIREFOX_WINDOWS, IPHONE, log_in
from tests.privacy_support import (
    DERIVED,
    IP,
    USER_AGENT,
    SQLRecorder,
    cache_text,
    log_text,
    table_text,
)

pytestmark = pytest.mark.django_db

API = reverse("sessionguard:api-list")
PAGE = reverse("sessionguard:list")


@dataclass
class Traces:
    """Where the visit's data could be, as text, at two moments."""

    live_tables: str  # while the session is alive
    live_cache: str
    final_tables: str  # after signing out and a revocation
    final_cache: str
    logs: str
    sql: str

    def everywhere(self) -> Iterator[tuple[str, str]]:
        yield "tables (live)", self.live_tables
        yield "cache (live)", self.live_cache
        yield "tables", self.final_tables
        yield "cache", self.final_cache
        yield "logs", self.logs
        yield "SQL", self.sql


def visit(
    user: Any, clock: Clock, caplog: pytest.LogCaptureFixture, **extra: Any
) -> Traces:
    """Everything a person does, then where it left traces."""
    caplog.set_level("DEBUG")
    with SQLRecorder() as sql:
        browser = Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=USER_AGENT, **extra)
        assert browser.get("/write/").status_code == 200  # anonymous: created
        log_in(browser)
        clock.advance(120)
        assert browser.get("/read/").json()["user"] == "alice"  # activity touch
        assert browser.get("/write/", {"value": 2}).status_code == 200
        assert browser.get(PAGE).status_code == 200
        assert browser.get(API).status_code == 200
        live_tables, live_cache = table_text(), cache_text()
        other = Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=USER_AGENT, **extra)
        log_in(other)
        browser.post("/logout/")  # logout event from the bound client
        services.revoke_all_sessions(user)  # ending events built from the row
    return Traces(
        live_tables=live_tables,
        live_cache=live_cache,
        final_tables=table_text(),
        final_cache=cache_text(),
        logs=log_text(caplog.records),
        sql=sql.text,
    )


def test_control_with_tracking_on_the_searches_find_the_data(
    engine: str, user: Any, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    traces = visit(user, clock, caplog)
    for text in (traces.live_tables, traces.final_tables, traces.logs, traces.sql):
        assert IP in text
        assert all(value in text for value in DERIVED)
    for text in (traces.live_tables, traces.sql):
        assert USER_AGENT in text
    if engine == CACHED_DB:
        assert IP in traces.live_cache
        assert USER_AGENT in traces.live_cache


@pytest.mark.parametrize(
    "off",
    [("TRACK_IP",), ("TRACK_USER_AGENT",), ("TRACK_IP", "TRACK_USER_AGENT")],
    ids=["ip", "user_agent", "both"],
)
def test_with_tracking_off_nothing_is_kept_anywhere(
    engine: str,
    user: Any,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
    settings: Any,
    off: tuple[str, ...],
) -> None:
    for name in off:
        setattr(settings, f"SESSIONGUARD_{name}", False)

    traces = visit(user, clock, caplog)

    absent = []
    if "TRACK_IP" in off:
        absent.append("198.51.100.")  # not the address, nor its network
    if "TRACK_USER_AGENT" in off:
        absent.extend([USER_AGENT, "PrivacyProbe", *DERIVED])
    for place, text in traces.everywhere():
        for value in absent:
            assert value not in text, f"{value!r} found in {place}"
    # What stays on is still recorded (the switches are independent).
    if "TRACK_IP" not in off:
        assert IP in traces.final_tables
    if "TRACK_USER_AGENT" not in off:
        assert "Firefox" in traces.final_tables
    # The audit trail itself goes on: the same events, without the data.
    kinds = set(SessionEvent.objects.values_list("kind", flat=True))
    assert {EventKind.CREATED, EventKind.LOGIN, EventKind.LOGOUT} <= kinds


def test_with_tracking_off_the_row_keeps_no_device(
    engine: str, user: Any, settings: Any
) -> None:
    settings.SESSIONGUARD_TRACK_USER_AGENT = False
    settings.SESSIONGUARD_TRACK_IP = False
    browser = Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=IPHONE)
    log_in(browser)
    row = Session.objects.get(user=user)
    assert (row.ip_address, row.user_agent) == (None, "")
    assert (row.browser, row.browser_version, row.os, row.os_version) == ("",) * 4
    assert row.device_type == "other"  # the column's default, not a parse result
    event = SessionEvent.objects.get(kind=EventKind.LOGIN)
    assert (event.ip_address, event.device) == (None, "")


def test_async_views_keep_nothing_either(
    engine: str, user: Any, clock: Clock, settings: Any
) -> None:
    settings.SESSIONGUARD_TRACK_IP = False
    settings.SESSIONGUARD_TRACK_USER_AGENT = False
    browser = Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=USER_AGENT)
    assert browser.get("/async-write/").status_code == 200
    log_in(browser)
    clock.advance(120)
    assert browser.get("/async-read/").json()["user"] == "alice"
    text = table_text() + cache_text()
    assert "198.51.100." not in text
    assert "PrivacyProbe" not in text


# -- turning tracking off on a running site -------------------------------------


def test_turning_tracking_off_ends_no_session_and_clears_the_row(
    engine: str, user: Any, clock: Clock, settings: Any
) -> None:
    """Sessions recorded with tracking on are not "changed" when it goes off.

    UA_CHANGE defaults to "revoke": comparing the old User-Agent with nothing
    would sign every user out at deploy time. Instead the next request clears
    what the row still holds; a cached copy (``cached_db``) is rewritten with
    the session's next write (see docs/privacy.md for clearing old records at
    once).
    """
    settings.SESSIONGUARD_IP_CHANGE = "revoke"
    browser = Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=USER_AGENT)
    log_in(browser)
    settings.SESSIONGUARD_TRACK_IP = False
    settings.SESSIONGUARD_TRACK_USER_AGENT = False

    clock.advance(5)  # within the activity interval: the change is written at once
    assert browser.get("/read/").json()["user"] == "alice"

    row = Session.objects.get(user=user)
    assert (row.ip_address, row.user_agent, row.browser, row.os) == (None, "", "", "")
    assert not SessionEvent.objects.filter(
        kind__in=[EventKind.IP_CHANGED, EventKind.UA_CHANGED]
    ).exists()
    assert browser.get("/write/", {"value": 3}).json()["user"] == "alice"
    assert "198.51.100." not in cache_text()
    assert "PrivacyProbe" not in cache_text()


@pytest.mark.parametrize("action", ["log", "revoke"])
def test_change_policies_cannot_fire_without_tracking(
    engine: str, user: Any, settings: Any, action: str
) -> None:
    """Nothing is kept to compare, so a new address or browser is no event."""
    settings.SESSIONGUARD_TRACK_IP = False
    settings.SESSIONGUARD_TRACK_USER_AGENT = False
    settings.SESSIONGUARD_IP_CHANGE = action
    settings.SESSIONGUARD_UA_CHANGE = action
    browser = Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=USER_AGENT)
    log_in(browser)

    moved = browser.get(
        "/read/", REMOTE_ADDR="203.0.113.200", HTTP_USER_AGENT=FIREFOX_WINDOWS
    )

    assert moved.json()["user"] == "alice"
    assert not SessionEvent.objects.filter(
        kind__in=[EventKind.IP_CHANGED, EventKind.UA_CHANGED]
    ).exists()


def test_each_policy_still_works_while_its_own_tracking_is_on(
    engine: str, user: Any, settings: Any
) -> None:
    settings.SESSIONGUARD_TRACK_USER_AGENT = False
    settings.SESSIONGUARD_IP_CHANGE = "revoke"
    browser = Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=USER_AGENT)
    log_in(browser)

    moved = browser.get(
        "/read/", REMOTE_ADDR="203.0.113.200", HTTP_ACCEPT="application/json"
    )

    assert moved.status_code == 401
    event = SessionEvent.objects.get(kind=EventKind.IP_CHANGED)
    assert event.detail == {"from": IP, "to": "203.0.113.200"}
    assert event.device == ""


def test_bound_values_follow_the_settings(settings: Any) -> None:
    """The store is told the client once; what it keeps is decided there."""
    store = SessionGuardStore()
    store.bind_request(ip_address=IP, user_agent=USER_AGENT)
    assert (store._client_ip, store._client_user_agent) == (IP, USER_AGENT)
    settings.SESSIONGUARD_TRACK_IP = False
    store.bind_request(ip_address=IP, user_agent=USER_AGENT)
    assert (store._client_ip, store._client_user_agent) == (None, USER_AGENT)
    settings.SESSIONGUARD_TRACK_IP = True
    settings.SESSIONGUARD_TRACK_USER_AGENT = False
    store.bind_request(ip_address=IP, user_agent=USER_AGENT)
    assert (store._client_ip, store._client_user_agent) == (IP, "")
