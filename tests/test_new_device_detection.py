"""New-device detection at sign-in: what counts as new, the event and the signal.

The rule (docs/notifications.md): a sign-in is new when neither its device
family (device type + browser family + OS family) nor its network (IPv4 /24,
IPv6 /48) appears in the user's sessions and sign-ins of the look-back window;
only what is known on both sides is compared.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from django_sessionguard.events import EventKind
from django_sessionguard.models import Session, SessionEvent
from django_sessionguard.signals import new_device_login
from tests import new_device_support as fixtures
from tests.conftest import Clock
from tests.lifecycle_support import (
    CHROME_120,
    CHROME_130,
    FIREFOX_WINDOWS,
    IP,
    IPHONE,
    OTHER_IP,
    browser,
    reference_of,
)
from tests.new_device_support import (
    IP_AWAY,
    IP_HOME_OTHER,
    IPAD,
    IPV6_AWAY,
    IPV6_HOME,
    IPV6_HOME_OTHER,
    SignIn,
    new_device_events,
)

pytestmark = pytest.mark.django_db

alice, bob, sign_in = fixtures.alice, fixtures.bob, fixtures.sign_in


@pytest.fixture(autouse=True)
def detection(settings: Any) -> None:
    settings.SESSIONGUARD_NEW_DEVICE_DETECTION = True


@pytest.fixture
def signals() -> Any:
    received: list[dict[str, Any]] = []

    def receive(sender: Any, **kwargs: Any) -> None:
        received.append({"sender": sender, **kwargs})

    new_device_login.connect(receive)
    yield received
    new_device_login.disconnect(receive)


def test_first_sign_in_is_not_new(alice: Any, sign_in: SignIn, signals: Any) -> None:
    sign_in()
    assert new_device_events() == []
    assert signals == []


def test_known_device_and_network(alice: Any, sign_in: SignIn, signals: Any) -> None:
    sign_in()
    sign_in()
    assert new_device_events() == []
    assert signals == []


def test_new_family_on_a_new_network_is_new(
    engine: str, alice: Any, sign_in: SignIn, signals: Any
) -> None:
    sign_in()
    client = sign_in(IP_AWAY, FIREFOX_WINDOWS)

    [event] = new_device_events()
    reference = reference_of(client)
    assert event.session_ref == reference
    assert event.user_id == alice.pk
    assert event.ip_address == IP_AWAY
    assert event.device.startswith("Firefox 121")
    assert event.detail == {"compared": ["device", "network"]}
    [signal] = signals
    assert signal["sender"] is SessionEvent
    assert signal["user"] == alice
    assert signal["reference"] == reference
    assert signal["event"] == event
    assert signal["request"].path == "/login/"
    # Detection alone sends no email.
    assert mail.outbox == []


def test_a_browser_update_is_not_a_new_device(alice: Any, sign_in: SignIn) -> None:
    sign_in(IP, CHROME_120)
    sign_in(IP_AWAY, CHROME_130)
    assert new_device_events() == []


def test_known_device_on_a_new_network_is_not_new(alice: Any, sign_in: SignIn) -> None:
    sign_in(IP, CHROME_120)
    sign_in(IP_AWAY, CHROME_120)
    assert new_device_events() == []


def test_new_device_on_a_known_network_is_not_new(alice: Any, sign_in: SignIn) -> None:
    sign_in(IP, CHROME_120)
    sign_in(IP_HOME_OTHER, IPHONE)  # same /24, another device family
    assert new_device_events() == []


def test_ipv6_networks_are_compared_by_48(alice: Any, sign_in: SignIn) -> None:
    sign_in(IPV6_HOME, CHROME_120)
    sign_in(IPV6_HOME_OTHER, IPHONE)
    assert new_device_events() == []
    sign_in(IPV6_AWAY, FIREFOX_WINDOWS)
    assert len(new_device_events()) == 1


def test_device_type_is_part_of_the_family(alice: Any, sign_in: SignIn) -> None:
    sign_in(IP, IPHONE)
    sign_in(IP_AWAY, IPAD)  # Mobile Safari on iOS too, but a tablet
    [event] = new_device_events()
    assert event.device.startswith("Mobile Safari")


def test_history_includes_signed_out_sessions(alice: Any, sign_in: SignIn) -> None:
    """The sign-in events remember devices whose sessions are gone."""
    sign_in(IP, FIREFOX_WINDOWS).post("/logout/")
    assert not Session.objects.filter(user=alice).exists()
    sign_in(OTHER_IP, FIREFOX_WINDOWS)
    assert new_device_events() == []


def test_history_includes_live_sessions_that_moved(alice: Any, sign_in: SignIn) -> None:
    """A session's row carries the network it moved to (its sign-in does not)."""
    client = sign_in(IP, CHROME_120)
    client.get("/read/", REMOTE_ADDR=IP_AWAY)  # the session is now used from there
    sign_in(IP_AWAY, IPHONE)
    assert new_device_events() == []


def test_history_older_than_the_look_back_is_forgotten(
    alice: Any, sign_in: SignIn, settings: Any, clock: Clock
) -> None:
    settings.SESSIONGUARD_NEW_DEVICE_LOOKBACK = 3600
    sign_in(IP, CHROME_120).post("/logout/")
    sign_in(IP_HOME_OTHER, IPHONE).post("/logout/")  # known network
    clock.advance(1800)
    sign_in(IP, CHROME_120).post("/logout/")  # known: within the hour
    assert new_device_events() == []
    clock.advance(3000)  # the iPhone's sign-in is now 80 minutes old
    sign_in(IP_AWAY, IPHONE)  # within the hour it would not be new
    [event] = new_device_events()
    assert event.device.startswith("Mobile Safari")


def test_only_the_users_own_history_counts(
    alice: Any, bob: Any, sign_in: SignIn
) -> None:
    sign_in(IP, CHROME_120)
    sign_in(IP_AWAY, FIREFOX_WINDOWS, username="bob")
    sign_in(IP_AWAY, FIREFOX_WINDOWS)  # bob used this, alice never did
    [event] = new_device_events()
    assert event.user_id == alice.pk


def test_sign_ins_record_their_device_family(alice: Any, sign_in: SignIn) -> None:
    sign_in(IP, CHROME_130)
    login = SessionEvent.objects.get(kind=EventKind.LOGIN)
    assert login.detail == {
        "device_type": "desktop",
        "browser": "Chrome",
        "os": "Windows",
    }


def test_off_by_default(alice: Any, sign_in: SignIn, settings: Any) -> None:
    del settings.SESSIONGUARD_NEW_DEVICE_DETECTION
    sign_in()
    sign_in(IP_AWAY, FIREFOX_WINDOWS)
    assert new_device_events() == []


def test_a_refused_sign_in_is_not_judged(
    alice: Any, sign_in: SignIn, settings: Any
) -> None:
    settings.SESSIONGUARD_MAX_SESSIONS = 1
    settings.SESSIONGUARD_LIMIT_POLICY = "deny_new"
    sign_in()
    response = browser(IP_AWAY, FIREFOX_WINDOWS).post(
        "/login/", {"username": "alice", "password": "pw"}
    )
    assert response["Location"] == "/login/"
    assert new_device_events() == []


def test_with_the_session_limit_evicting(
    engine: str, alice: Any, sign_in: SignIn, settings: Any
) -> None:
    settings.SESSIONGUARD_MAX_SESSIONS = 1
    sign_in()
    client = sign_in(IP_AWAY, FIREFOX_WINDOWS)
    [event] = new_device_events()
    assert event.session_ref == reference_of(client)


# -- privacy settings ---------------------------------------------------------------


def test_without_ip_tracking_the_device_alone_decides(
    alice: Any, sign_in: SignIn, settings: Any
) -> None:
    settings.SESSIONGUARD_TRACK_IP = False
    sign_in(IP, CHROME_120)
    sign_in(IP_AWAY, CHROME_130)  # known family
    assert new_device_events() == []
    sign_in(IP, IPHONE)  # same address, but that is not known any more
    [event] = new_device_events()
    assert event.detail == {"compared": ["device"]}
    assert event.ip_address is None


def test_without_user_agent_tracking_the_network_alone_decides(
    alice: Any, sign_in: SignIn, settings: Any
) -> None:
    settings.SESSIONGUARD_TRACK_USER_AGENT = False
    sign_in(IP, CHROME_120)
    sign_in(IP_HOME_OTHER, IPHONE)  # known network
    assert new_device_events() == []
    sign_in(IP_AWAY, CHROME_120)  # same browser, but it is not recorded
    [event] = new_device_events()
    assert event.detail == {"compared": ["network"]}
    assert event.device == ""
    assert SessionEvent.objects.filter(kind=EventKind.LOGIN, detail={}).count() == 3


def test_with_nothing_tracked_nothing_is_new(
    alice: Any, sign_in: SignIn, settings: Any
) -> None:
    settings.SESSIONGUARD_TRACK_IP = False
    settings.SESSIONGUARD_TRACK_USER_AGENT = False
    sign_in(IP, CHROME_120)
    sign_in(IP_AWAY, IPHONE)
    assert new_device_events() == []


def test_with_anonymized_addresses_networks_still_compare(
    alice: Any, sign_in: SignIn, settings: Any
) -> None:
    settings.SESSIONGUARD_ANONYMIZE_IP = True
    sign_in(IP, CHROME_120)
    sign_in(IP_HOME_OTHER, IPHONE)
    assert new_device_events() == []
    sign_in(IP_AWAY, FIREFOX_WINDOWS)
    [event] = new_device_events()
    assert event.ip_address == "192.0.2.0"


def test_history_from_before_ip_tracking_compares_devices_only(
    alice: Any, sign_in: SignIn, settings: Any
) -> None:
    """Unknown is not evidence: with no address on record, the device decides."""
    settings.SESSIONGUARD_TRACK_IP = False
    sign_in(IP, CHROME_120).post("/logout/")
    settings.SESSIONGUARD_TRACK_IP = True
    sign_in(IP_AWAY, CHROME_120)
    assert new_device_events() == []
    sign_in(IP_AWAY, IPHONE)  # the away network is known now; the device is not
    assert new_device_events() == []
    sign_in(OTHER_IP, FIREFOX_WINDOWS)
    [event] = new_device_events()
    assert event.detail == {"compared": ["device", "network"]}
