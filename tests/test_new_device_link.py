"""The "This wasn't me: sign out everywhere" link: signed, single-use, expiring.

GET only shows a confirmation (mail scanners fetch links); POST with a CSRF
token signs every session of that user out, once.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core import mail, signing
from django.db import connection
from django.test import Client

from django_sessionguard import new_device_links
from django_sessionguard.events import EndReason, EventKind
from django_sessionguard.models import Session, SessionEvent
from tests import new_device_support as fixtures
from tests.conftest import Clock, server_database
from tests.lifecycle_support import (
    CHROME_120,
    FIREFOX_WINDOWS,
    IP,
    IPHONE,
    OTHER_IP,
    browser,
    log_in,
    reference_of,
    whoami,
)
from tests.new_device_support import IP_AWAY, SignIn, link_path

pytestmark = pytest.mark.django_db

alice, bob, sign_in = fixtures.alice, fixtures.bob, fixtures.sign_in


@pytest.fixture(autouse=True)
def email_on(settings: Any) -> None:
    settings.SESSIONGUARD_NEW_DEVICE_EMAIL = True


class Scene:
    """Alice at home on two devices, a stranger signed in as her, and Bob."""

    def __init__(self, sign_in: SignIn) -> None:
        self.home = sign_in(IP, CHROME_120)
        self.phone = sign_in(IP, IPHONE)  # known network: no email
        self.stranger = sign_in(IP_AWAY, FIREFOX_WINDOWS)
        self.bob = sign_in(IP, CHROME_120, username="bob")
        [message] = mail.outbox
        self.link = link_path(message)
        self.reported = reference_of(self.stranger)
        # Whoever clicks: not signed in (the email is read elsewhere).
        self.reader = Client(
            enforce_csrf_checks=True, REMOTE_ADDR=OTHER_IP, HTTP_USER_AGENT=IPHONE
        )

    def confirm(self, client: Client | None = None) -> Any:
        """GET the page, then POST its form with the CSRF token it set."""
        client = client or self.reader
        page = client.get(self.link)
        token = client.cookies["csrftoken"].value
        return page, client.post(self.link, {"csrfmiddlewaretoken": token})


@pytest.fixture
def scene(alice: Any, bob: Any, sign_in: SignIn) -> Scene:
    return Scene(sign_in)


def signed_in(*clients: Client) -> list[str | None]:
    return [whoami(client) for client in clients]


def test_get_changes_nothing(scene: Scene) -> None:
    events = SessionEvent.objects.count()
    for _ in range(3):  # a mail scanner, a link preview, the user
        response = scene.reader.get(scene.link)
        assert response.status_code == 200
    content = response.content.decode()
    assert "Sign out everywhere?" in content
    assert "Firefox 121.0 on Windows 10" in content  # the reported sign-in
    assert "192.0.2.0/24" in content
    assert 'method="post"' in content
    assert "csrfmiddlewaretoken" in content
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    assert SessionEvent.objects.count() == events
    assert signed_in(scene.home, scene.phone, scene.stranger) == ["alice"] * 3


def test_post_signs_out_every_session_of_that_user_only(
    engine: str, scene: Scene, alice: Any
) -> None:
    page, response = scene.confirm()

    assert page.status_code == 200
    assert response.status_code == 200
    assert "You are signed out everywhere" in response.content.decode()
    assert "3 sessions were ended" in response.content.decode()
    assert signed_in(scene.home, scene.phone, scene.stranger) == [None] * 3
    assert whoami(scene.bob) == "bob"
    assert not Session.objects.filter(user__username="alice").exists()
    ended = SessionEvent.objects.filter(kind=EventKind.REVOKED_BY_USER)
    assert ended.count() == 3
    for event in ended:
        assert event.user_id == event.actor_id == alice.pk
        assert event.detail == {"reason": EndReason.NEW_DEVICE_LINK}
    reported = SessionEvent.objects.get(kind=EventKind.NEW_DEVICE_REPORTED)
    assert reported.session_ref == scene.reported
    assert reported.actor_id == alice.pk
    assert reported.ip_address == OTHER_IP  # who clicked
    assert reported.device.startswith("Mobile Safari")
    assert reported.detail == {"ended": 3}


def test_the_stranger_is_told_they_were_signed_out(scene: Scene) -> None:
    scene.confirm()
    response = scene.stranger.get("/read/")
    assert response.json()["user"] is None


def test_a_link_cannot_be_replayed(scene: Scene, sign_in: SignIn) -> None:
    _, first = scene.confirm()
    assert first.status_code == 200
    again = sign_in(IP, CHROME_120)  # alice signs in again afterwards
    events = SessionEvent.objects.count()

    replay = scene.reader.post(
        scene.link, {"csrfmiddlewaretoken": scene.reader.cookies["csrftoken"].value}
    )
    elsewhere = Client(REMOTE_ADDR=IP_AWAY).post(scene.link)
    get_after = scene.reader.get(scene.link)

    for response in (replay, elsewhere):
        assert response.status_code == 400
        assert "This link was already used" in response.content.decode()
    assert get_after.status_code == 400
    assert "This link was already used" in get_after.content.decode()
    assert whoami(again) == "alice"
    assert SessionEvent.objects.count() == events


def test_an_expired_link_does_nothing(scene: Scene, clock: Clock) -> None:
    clock.advance(7 * 24 * 3600 + 1)  # the default: 7 days
    page = scene.reader.get(scene.link)
    response = Client().post(scene.link)  # no CSRF enforcement in this client
    assert page.status_code == 400
    assert "This link has expired" in page.content.decode()
    assert response.status_code == 400
    assert signed_in(scene.home, scene.stranger) == ["alice", "alice"]
    assert not SessionEvent.objects.filter(kind=EventKind.NEW_DEVICE_REPORTED).exists()


def test_an_expired_link_with_a_valid_csrf_token_does_nothing(
    scene: Scene, clock: Clock, settings: Any
) -> None:
    settings.SESSIONGUARD_NEW_DEVICE_LINK_MAX_AGE = 3600
    page = scene.reader.get(scene.link)  # sets the CSRF cookie while valid
    assert page.status_code == 200
    clock.advance(3601)
    response = scene.reader.post(
        scene.link, {"csrfmiddlewaretoken": scene.reader.cookies["csrftoken"].value}
    )
    assert response.status_code == 400
    assert "This link has expired" in response.content.decode()
    assert signed_in(scene.home, scene.stranger) == ["alice", "alice"]


def test_post_needs_the_csrf_token(scene: Scene) -> None:
    response = scene.reader.post(scene.link)
    assert response.status_code == 403
    assert signed_in(scene.home, scene.stranger) == ["alice", "alice"]


def tampered(link: str) -> list[str]:
    token = link.rstrip("/").rsplit("/", 1)[1]
    payload, timestamp, signature = token.split(":")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    bob_payload = signing.b64_encode(b'{"u":"2","r":"' + b"0" * 32 + b'"}').decode()
    return [
        f"{payload}:{timestamp}:{flipped}",
        f"{bob_payload}:{timestamp}:{signature}",
        f"{payload}:{timestamp}",
        payload,
        "x",
        "::",
        "a" * 2000,
        # Signed by this site, for another purpose.
        signing.dumps({"u": "1", "r": "0" * 32}),
    ]


def test_tampered_or_foreign_tokens_are_refused(scene: Scene) -> None:
    events = SessionEvent.objects.count()
    for token in tampered(scene.link):
        path = f"/account/sessions/new-device/{token}/"
        page = scene.reader.get(path)
        assert page.status_code == 400, token
        assert "This link is not valid" in page.content.decode()
        response = Client().post(path)  # no CSRF enforcement in this client
        assert response.status_code == 400, token
    assert SessionEvent.objects.count() == events
    assert signed_in(scene.home, scene.stranger) == ["alice", "alice"]


def test_a_signed_link_without_its_detection_is_refused(
    scene: Scene, alice: Any
) -> None:
    """Only links issued for a recorded new-device sign-in work."""
    token = new_device_links.make_token(alice, reference_of(scene.home))
    path = f"/account/sessions/new-device/{token}/"
    assert scene.reader.get(path).status_code == 400
    assert Client().post(path).status_code == 400
    assert whoami(scene.home) == "alice"


def test_erasing_the_history_spends_the_link(scene: Scene, alice: Any) -> None:
    SessionEvent.objects.filter(user=alice).delete()
    response = Client().post(scene.link)
    assert response.status_code == 400
    assert whoami(scene.stranger) == "alice"


def test_a_link_of_a_deleted_user(scene: Scene, alice: Any) -> None:
    alice.delete()
    response = scene.reader.get(scene.link)
    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()


def test_clicking_while_signed_in_as_that_user(scene: Scene) -> None:
    client = scene.home
    page = client.get(scene.link)
    assert page.status_code == 200
    response = client.post(scene.link)
    assert response.status_code == 200
    assert whoami(client) is None
    assert signed_in(scene.phone, scene.stranger) == [None, None]


def test_clicking_while_signed_in_as_someone_else(scene: Scene) -> None:
    response = scene.bob.post(scene.link)
    assert response.status_code == 200
    assert whoami(scene.bob) == "bob"
    assert whoami(scene.home) is None


@pytest.mark.urls("tests.new_device_urls")
def test_the_done_page_points_at_password_reset(
    alice: Any, bob: Any, sign_in: SignIn
) -> None:
    scene = Scene(sign_in)
    _, response = scene.confirm()
    assert 'href="/password-reset/"' in response.content.decode()


def test_the_page_is_not_indexed_and_leaks_no_referrer(scene: Scene) -> None:
    response = scene.reader.get(scene.link)
    content = response.content.decode()
    assert '<meta name="referrer" content="no-referrer">' in content
    assert response["X-Robots-Tag"] == "noindex, nofollow"


# -- two clicks at once -------------------------------------------------------------


@server_database
@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_once_end_the_sessions_once(
    alice: Any, bob: Any, django_user_model: Any, settings: Any
) -> None:
    for client in (browser(IP, CHROME_120), browser(IP, IPHONE)):
        log_in(client)
    log_in(browser(IP_AWAY, FIREFOX_WINDOWS))  # transactional: the email is sent
    link = link_path(mail.outbox[0])
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def click() -> None:
        try:
            barrier.wait()
            statuses.append(Client().post(link).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200, 400, 400, 400]
    assert SessionEvent.objects.filter(kind=EventKind.NEW_DEVICE_REPORTED).count() == 1
    assert SessionEvent.objects.filter(kind=EventKind.REVOKED_BY_USER).count() == 3
