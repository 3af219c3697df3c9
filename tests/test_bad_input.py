"""Hostile or broken requests get an ordinary answer, never a 500.

User-Agent, forwarding headers, ``REMOTE_ADDR`` and the session cookie come
from the client. Whatever they hold, the request is served (anonymously when
the cookie is not a live session) and what is stored stays bounded and
printable.
"""

from __future__ import annotations

import random
import string
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.backends.signed_cookies import (
    SessionStore as SignedCookieStore,
)
from django.test import Client

from django_sessionguard.devices import FIELD_MAX_LENGTH, USER_AGENT_MAX_LENGTH
from django_sessionguard.models import Session, SessionEvent

pytestmark = pytest.mark.django_db

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)

BAD_USER_AGENTS = [
    pytest.param("A" * 10_000, id="10k-chars"),
    pytest.param(CHROME * 200, id="10k-chars-parseable"),
    pytest.param(bytes(range(256)).decode("latin-1"), id="binary"),
    pytest.param("Mozilla/5.0 😀🔥 (🤖; rv:1.0) Gecko/🦊", id="emoji"),
    pytest.param("ð\x9f\x98\x80 mojibake", id="utf8-as-latin1"),
    pytest.param("Mozilla/5.0\r\nX-Injected: 1\r\n\r\n<script>", id="crlf"),
    pytest.param("Mozilla\x00/5.0\x00", id="nul"),
    pytest.param("\x1b[31mred\x1b[0m\x07\x08", id="ansi-escapes"),
    pytest.param("bad\udcff\ud800surrogates", id="lone-surrogates"),
    pytest.param("\u202eevil\u2066\u200b", id="bidi-controls"),
    pytest.param("   ", id="blank"),
    pytest.param("", id="empty"),
]

BAD_FORWARDED_FOR = [
    pytest.param("1.2.3.4, <script>, ::1::", id="script"),
    pytest.param("<script>alert(1)</script>", id="only-garbage"),
    pytest.param(",,,,", id="commas"),
    pytest.param("unknown", id="unknown"),
    pytest.param("999.999.999.999", id="bad-octets"),
    pytest.param("1.2.3.4:99999999, [::1", id="bad-port-bracket"),
    pytest.param("1.2.3.4\x00, 5.6.7.8\x00", id="control-chars"),
    pytest.param('1.2.3.4, "5.6.7.8', id="unbalanced-quote"),
    pytest.param("1.2.3.4, " * 5_000, id="huge"),
    pytest.param("fe80::1%" + "x" * 100, id="long-zone"),
]

BAD_FORWARDED = [
    pytest.param('for="_gazonk"', id="obfuscated"),
    pytest.param("for=;;;,,,===", id="separators"),
    pytest.param('for="[2001:db8:cafe::17', id="unclosed-bracket"),
    pytest.param('for="1.2.3.4', id="unclosed-quote"),
    pytest.param("For=unknown;by=<script>;proto=gopher", id="unknown"),
    pytest.param("=" * 10_000, id="huge"),
    pytest.param("for=1.2.3.4\x00;for=\r\n", id="control-chars"),
]

BAD_REMOTE_ADDRS = ["", "not-an-ip", "999.1.1.1", "1.2.3.4, 5.6.7.8", "\x00"]


def forged_signed_cookie() -> str:
    session = SignedCookieStore()
    session["_auth_user_id"] = "1"
    session.save()
    key: str = session.session_key
    return key


FORGED_COOKIES = [
    pytest.param("random-32", id="random-never-issued"),
    pytest.param("random-64", id="random-64-never-issued"),
    pytest.param("x" * 10_000, id="over-long"),
    pytest.param("A" * 32, id="uppercase"),
    pytest.param("signed-cookie", id="django-signed-cookies-format"),
    pytest.param("a" * 31, id="too-short"),
    pytest.param("", id="empty"),
    pytest.param('"quoted;value,with=separators"', id="separators"),
    pytest.param("é" * 32, id="non-ascii"),
    pytest.param("../../../etc/passwd", id="path"),
    pytest.param("' OR 1=1 --", id="sql"),
]


def forged(value: str) -> str:
    alphabet = string.ascii_lowercase + string.digits
    if value == "random-32":
        return "".join(random.choices(alphabet, k=32))
    if value == "random-64":
        return "".join(random.choices(alphabet, k=64))
    if value == "signed-cookie":
        return forged_signed_cookie()
    return value


def assert_bounded_and_printable(session: Session) -> None:
    assert len(session.user_agent) <= USER_AGENT_MAX_LENGTH
    assert session.user_agent.isprintable()
    for field in ("browser", "browser_version", "os", "os_version"):
        value = getattr(session, field)
        assert len(value) <= FIELD_MAX_LENGTH
        assert value.isprintable()


def assert_anonymous(response: Any) -> None:
    assert response.status_code == 200
    assert response.json()["user"] is None


# -- User-Agent -----------------------------------------------------------------


@pytest.mark.parametrize("user_agent", BAD_USER_AGENTS)
def test_bad_user_agent_is_served_and_stored_bounded(
    engine: str, user_agent: str
) -> None:
    client = Client(HTTP_USER_AGENT=user_agent)
    response = client.get("/write/?value=1")
    assert response.status_code == 200
    assert_anonymous(client.get("/read/"))
    session = Session.objects.get()
    assert_bounded_and_printable(session)
    assert client.get("/read/").json()["counter"] == 1


@pytest.mark.parametrize("user_agent", BAD_USER_AGENTS)
def test_bad_user_agent_at_sign_in(engine: str, user: Any, user_agent: str) -> None:
    client = Client(HTTP_USER_AGENT=user_agent)
    response = client.post("/login/", {"username": "alice", "password": "pw"})
    assert response.status_code == 302
    assert client.get("/read/").json()["user"] == "alice"
    assert_bounded_and_printable(Session.objects.get())
    for event in SessionEvent.objects.all():
        assert event.device.isprintable()


@pytest.mark.parametrize("user_agent", BAD_USER_AGENTS)
def test_bad_user_agent_in_a_signed_in_session(
    engine: str, user: Any, user_agent: str
) -> None:
    client = Client(HTTP_USER_AGENT=CHROME)
    client.post("/login/", {"username": "alice", "password": "pw"})
    # A different browser on a signed-in session is policy's business (it may
    # end the session); it is never a server error.
    response = client.get("/read/", HTTP_USER_AGENT=user_agent)
    assert response.status_code < 500
    for session in Session.objects.all():
        assert_bounded_and_printable(session)


# -- forwarding headers and REMOTE_ADDR -----------------------------------------


@pytest.mark.parametrize("trusted", [[], ["127.0.0.0/8"]], ids=["direct", "proxied"])
@pytest.mark.parametrize("header", BAD_FORWARDED_FOR)
def test_malformed_x_forwarded_for(
    engine: str, settings: Any, trusted: list[str], header: str
) -> None:
    settings.SESSIONGUARD_TRUSTED_PROXIES = trusted
    client = Client(HTTP_X_FORWARDED_FOR=header)
    assert client.get("/write/").status_code == 200
    assert_anonymous(client.get("/read/"))
    assert Session.objects.get().ip_address == "127.0.0.1"


@pytest.mark.parametrize("trusted", [[], ["127.0.0.0/8"]], ids=["direct", "proxied"])
@pytest.mark.parametrize("header", BAD_FORWARDED)
def test_malformed_forwarded(
    engine: str, settings: Any, trusted: list[str], header: str
) -> None:
    settings.SESSIONGUARD_TRUSTED_PROXIES = trusted
    client = Client(HTTP_FORWARDED=header, HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert client.get("/write/").status_code == 200
    assert_anonymous(client.get("/read/"))
    assert Session.objects.get().ip_address == "127.0.0.1"


@pytest.mark.parametrize("remote_addr", BAD_REMOTE_ADDRS)
def test_unparseable_remote_addr_records_no_ip(
    engine: str, settings: Any, remote_addr: str
) -> None:
    settings.SESSIONGUARD_TRUSTED_PROXIES = ["0.0.0.0/0", "::/0"]
    client = Client(REMOTE_ADDR=remote_addr, HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert client.get("/write/").status_code == 200
    assert_anonymous(client.get("/read/"))
    assert Session.objects.get().ip_address is None


# -- forged cookies ---------------------------------------------------------------


@pytest.mark.parametrize("value", FORGED_COOKIES)
def test_forged_cookie_is_anonymous(engine: str, user: Any, value: str) -> None:
    # A real signed-in session exists: a forged cookie must not reach it.
    owner = Client()
    owner.post("/login/", {"username": "alice", "password": "pw"})
    cookie = forged(value)

    client = Client()
    client.cookies[django_settings.SESSION_COOKIE_NAME] = cookie
    response = client.get("/read/")
    assert_anonymous(response)
    assert client.get("/anon/").status_code == 200

    # Writing starts a new session under a fresh key, never the forged one.
    client.cookies[django_settings.SESSION_COOKIE_NAME] = cookie
    response = client.get("/write/?value=4")
    assert response.status_code == 200
    new_key = response.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert new_key != cookie
    assert client.get("/read/").json() == {"user": None, "counter": 4}
    assert Session.objects.count() == 2
    assert owner.get("/read/").json()["user"] == "alice"


@pytest.mark.parametrize("value", FORGED_COOKIES)
def test_forged_cookie_on_a_read_only_request_stores_nothing(
    engine: str, value: str
) -> None:
    client = Client()
    client.cookies[django_settings.SESSION_COOKIE_NAME] = forged(value)
    assert_anonymous(client.get("/read/"))
    assert Session.objects.count() == 0


def test_everything_bad_at_once(engine: str, settings: Any) -> None:
    settings.SESSIONGUARD_TRUSTED_PROXIES = ["127.0.0.1"]
    client = Client(
        HTTP_USER_AGENT="\x00\r\n😀" * 5_000,
        HTTP_X_FORWARDED_FOR="1.2.3.4, <script>, ::1::",
        HTTP_FORWARDED="for=;;;,,,===",
    )
    client.cookies[django_settings.SESSION_COOKIE_NAME] = "Z" * 5_000
    assert_anonymous(client.get("/read/"))
    assert client.get("/write/").status_code == 200
    assert_bounded_and_printable(Session.objects.get())


def test_anonymous_async_views_with_bad_input(engine: str) -> None:
    client = Client(HTTP_USER_AGENT="\x00" * 10_000)
    client.cookies[django_settings.SESSION_COOKIE_NAME] = "A" * 10_000
    assert_anonymous(client.get("/async-read/"))
    assert client.get("/async-write/").status_code == 200
    assert_bounded_and_printable(Session.objects.get())
