"""``SESSIONGUARD_ANONYMIZE_IP``: only the network is stored (IPv4 /24, IPv6 /48).

Stored means every place: the session row, its cache entries, events and log
lines. ``SESSIONGUARD_MASK_IP`` is the display-only twin (the page shows the
network, the record keeps the address); the two compose. A move inside the
kept network is not an IP change.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from django_sessionguard.events import EventKind
from django_sessionguard.models import Session, SessionEvent
from django_sessionguard.privacy import anonymize_ip, same_network
from tests.conftest import Clock
from tests.lifecycle_support import CACHED_DB, JSON, log_in
from tests.privacy_support import (
    USER_AGENT,
    SQLRecorder,
    cache_text,
    log_text,
    table_text,
)

pytestmark = pytest.mark.django_db

PAGE = reverse("sessionguard:list")
API = reverse("sessionguard:api-list")


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.77", "203.0.113.0"),
        ("10.1.2.3", "10.1.2.0"),
        ("203.0.113.0", "203.0.113.0"),
        ("2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::"),
        ("2001:db8:85a3::", "2001:db8:85a3::"),
        ("::1", "::"),
        ("fe80::1%eth0", "fe80::"),
        ("::ffff:198.51.100.7", "198.51.100.0"),
        ("::ffff:c633:6407", "198.51.100.0"),
        ("", None),
        (None, None),
        ("not an address", None),
        ("198.51.100.7/24", None),
    ],
)
def test_anonymize_ip(address: str | None, network: str | None) -> None:
    assert anonymize_ip(address) == network


def test_same_network() -> None:
    assert same_network("198.51.100.7", "198.51.100.250")
    assert same_network("198.51.100.7", "::ffff:198.51.100.9")
    assert not same_network("198.51.100.7", "198.51.101.7")
    assert same_network("2001:db8:85a3:1::1", "2001:db8:85a3:ffff::2")
    assert not same_network("2001:db8:85a3::1", "2001:db8:85a4::1")
    assert not same_network(None, None)


@pytest.mark.parametrize(
    ("remote_addr", "stored", "full"),
    [
        ("198.51.100.77", "198.51.100.0", "198.51.100.77"),
        (
            "2001:db8:85a3:8d3:1319:8a2e:370:7348",
            "2001:db8:85a3::",
            "2001:db8:85a3:8d3",
        ),
        ("::ffff:198.51.100.77", "198.51.100.0", "198.51.100.77"),
    ],
    ids=["ipv4", "ipv6", "ipv4-mapped"],
)
def test_only_the_network_is_stored_anywhere(
    engine: str,
    user: Any,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
    settings: Any,
    remote_addr: str,
    stored: str,
    full: str,
) -> None:
    settings.SESSIONGUARD_ANONYMIZE_IP = True
    caplog.set_level("DEBUG")
    with SQLRecorder() as sql:
        browser = Client(REMOTE_ADDR=remote_addr, HTTP_USER_AGENT=USER_AGENT)
        browser.get("/write/")
        log_in(browser)
        clock.advance(120)
        assert browser.get("/read/").json()["user"] == "alice"
        row = Session.objects.get(user=user)
        live = table_text() + cache_text()
        browser.post("/logout/")

    assert row.ip_address == stored
    assert set(SessionEvent.objects.values_list("ip_address", flat=True)) == {stored}
    for place, text in [
        ("tables/cache", live),
        ("tables", table_text()),
        ("logs", log_text(caplog.records)),
        ("SQL", sql.text),
    ]:
        assert full not in text, place
        assert stored in text, place
    if engine == CACHED_DB:
        assert stored in live


def test_forwarded_addresses_are_anonymized_too(
    engine: str, user: Any, settings: Any
) -> None:
    settings.SESSIONGUARD_ANONYMIZE_IP = True
    settings.SESSIONGUARD_TRUSTED_PROXIES = ["10.0.0.0/8"]
    browser = Client(
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="::ffff:203.0.113.99",
        HTTP_USER_AGENT=USER_AGENT,
    )
    log_in(browser)
    assert Session.objects.get(user=user).ip_address == "203.0.113.0"


# -- IP changes ---------------------------------------------------------------------


def test_a_move_inside_the_network_is_not_a_change(
    engine: str, user: Any, settings: Any
) -> None:
    settings.SESSIONGUARD_ANONYMIZE_IP = True
    settings.SESSIONGUARD_IP_CHANGE = "revoke"
    browser = Client(REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT=USER_AGENT)
    log_in(browser)

    moved = browser.get("/read/", REMOTE_ADDR="198.51.100.250")

    assert moved.json()["user"] == "alice"
    assert not SessionEvent.objects.filter(kind=EventKind.IP_CHANGED).exists()


def test_without_anonymizing_the_same_move_is_a_change(
    engine: str, user: Any, settings: Any
) -> None:
    settings.SESSIONGUARD_IP_CHANGE = "revoke"
    browser = Client(REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT=USER_AGENT)
    log_in(browser)

    moved = browser.get("/read/", REMOTE_ADDR="198.51.100.250", **JSON)

    assert moved.status_code == 401
    assert SessionEvent.objects.get(kind=EventKind.IP_CHANGED).detail == {
        "from": "198.51.100.7",
        "to": "198.51.100.250",
    }


def test_a_move_to_another_network_is_recorded_as_networks(
    engine: str, user: Any, settings: Any
) -> None:
    settings.SESSIONGUARD_ANONYMIZE_IP = True
    settings.SESSIONGUARD_IP_CHANGE = "revoke"
    browser = Client(REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT=USER_AGENT)
    log_in(browser)

    moved = browser.get("/read/", REMOTE_ADDR="198.51.101.7", **JSON)

    assert moved.status_code == 401
    changed = SessionEvent.objects.get(kind=EventKind.IP_CHANGED)
    assert changed.detail == {"from": "198.51.100.0", "to": "198.51.101.0"}
    assert changed.ip_address == "198.51.101.0"
    revoked = SessionEvent.objects.get(kind=EventKind.REVOKED_BY_SYSTEM)
    assert revoked.ip_address == "198.51.101.0"


def test_turning_anonymization_on_is_not_a_change_and_shortens_the_row(
    engine: str, user: Any, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Addresses recorded in full before are compared by their network."""
    settings.SESSIONGUARD_IP_CHANGE = "revoke"
    browser = Client(REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT=USER_AGENT)
    log_in(browser)
    assert Session.objects.get(user=user).ip_address == "198.51.100.7"
    settings.SESSIONGUARD_ANONYMIZE_IP = True

    assert browser.get("/read/").json()["user"] == "alice"
    assert Session.objects.get(user=user).ip_address == "198.51.100.0"
    assert not SessionEvent.objects.filter(kind=EventKind.IP_CHANGED).exists()

    caplog.set_level("INFO")
    assert browser.get("/read/", REMOTE_ADDR="203.0.113.5", **JSON).status_code == 401
    changed = SessionEvent.objects.get(kind=EventKind.IP_CHANGED)
    assert changed.detail == {"from": "198.51.100.0", "to": "203.0.113.0"}
    assert "198.51.100.7" not in log_text(caplog.records)


def test_an_old_full_address_in_an_event_is_anonymized_when_stored(
    engine: str, user: Any, settings: Any
) -> None:
    """Events built from a row recorded before the switch keep only the network."""
    browser = Client(REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT=USER_AGENT)
    log_in(browser)
    settings.SESSIONGUARD_ANONYMIZE_IP = True
    from django_sessionguard import services

    services.revoke_all_sessions(user)
    ended = SessionEvent.objects.get(kind=EventKind.REVOKED_BY_SYSTEM)
    assert ended.ip_address == "198.51.100.0"


# -- display (MASK_IP) and storage (ANONYMIZE_IP) ------------------------------------


def test_mask_ip_is_display_only(engine: str, user: Any, settings: Any) -> None:
    settings.SESSIONGUARD_MASK_IP = True
    browser = Client(REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT=USER_AGENT)
    log_in(browser)
    assert "198.51.100.0/24" in browser.get(PAGE).content.decode()
    assert Session.objects.get(user=user).ip_address == "198.51.100.7"


@pytest.mark.parametrize(
    ("remote_addr", "shown_masked", "shown_plain"),
    [
        ("198.51.100.7", "198.51.100.0/24", "198.51.100.0"),
        ("2001:db8:85a3:8d3::7", "2001:db8:85a3::/48", "2001:db8:85a3::"),
    ],
)
def test_anonymize_and_mask_compose(
    engine: str,
    user: Any,
    settings: Any,
    remote_addr: str,
    shown_masked: str,
    shown_plain: str,
) -> None:
    settings.SESSIONGUARD_ANONYMIZE_IP = True
    browser = Client(REMOTE_ADDR=remote_addr, HTTP_USER_AGENT=USER_AGENT)
    log_in(browser)
    assert browser.get(API).json()["sessions"][0]["ip"] == shown_plain
    settings.SESSIONGUARD_MASK_IP = True
    assert browser.get(API).json()["sessions"][0]["ip"] == shown_masked
    assert shown_masked in browser.get(PAGE).content.decode()


def test_anonymizing_without_tracking_stores_nothing(
    engine: str, user: Any, settings: Any
) -> None:
    settings.SESSIONGUARD_ANONYMIZE_IP = True
    settings.SESSIONGUARD_TRACK_IP = False
    log_in(Client(REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT=USER_AGENT))
    assert Session.objects.get(user=user).ip_address is None
    assert "198.51.100." not in table_text() + cache_text()
