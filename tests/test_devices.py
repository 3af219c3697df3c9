"""What a User-Agent says about the device: parsed once per distinct string."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import user_agents
from django.test import Client

from django_sessionguard.devices import (
    FIELD_MAX_LENGTH,
    USER_AGENT_MAX_LENGTH,
    Device,
    clean_user_agent,
    parse_user_agent,
)

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1"
)
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36"
)
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.fixture(autouse=True)
def empty_parse_cache() -> Iterator[None]:
    parse_user_agent.cache_clear()
    yield
    parse_user_agent.cache_clear()  # no fake parse result outlives its test


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every string handed to the ``user-agents`` parser during the test."""
    seen: list[str] = []
    real_parse = user_agents.parse

    def counting_parse(user_agent: str) -> Any:
        seen.append(user_agent)
        return real_parse(user_agent)

    monkeypatch.setattr(user_agents, "parse", counting_parse)
    return seen


# -- parsing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (CHROME_WINDOWS, ("desktop", "Chrome", "120.0.0", "Windows", "10")),
        (IPHONE, ("mobile", "Mobile Safari", "17.1", "iOS", "17.1")),
        (IPAD, ("tablet", "Mobile Safari", "16.6", "iOS", "16.6")),
        (ANDROID, ("mobile", "Chrome Mobile", "120.0.6099", "Android", "14")),
        (FIREFOX_LINUX, ("desktop", "Firefox", "121.0", "Linux", "")),
        (GOOGLEBOT, ("bot", "Googlebot", "2.1", "", "")),
        ("curl/8.4.0", ("other", "curl", "8.4.0", "", "")),
        ("garbage", ("other", "", "", "", "")),  # the parser's "Other" is blank
        ("", ("other", "", "", "", "")),
    ],
)
def test_parse_user_agent(user_agent: str, expected: tuple[str, ...]) -> None:
    device = parse_user_agent(user_agent)
    assert (
        device.device_type,
        device.browser,
        device.browser_version,
        device.os,
        device.os_version,
    ) == expected
    assert device.user_agent == user_agent


def test_device_summary() -> None:
    assert str(parse_user_agent(CHROME_WINDOWS)) == "Chrome 120.0.0 on Windows 10"
    assert str(parse_user_agent(GOOGLEBOT)) == "Googlebot 2.1"
    assert str(parse_user_agent("")) == "Unknown device"
    assert str(Device("", "other", "", "", "Linux", "")) == "Linux"


def test_parsed_fields_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    long = "x" * 500
    fake = SimpleNamespace(
        is_bot=False,
        is_tablet=False,
        is_mobile=False,
        is_pc=True,
        browser=SimpleNamespace(family=long, version_string=long),
        os=SimpleNamespace(family=long, version_string=long),
    )
    monkeypatch.setattr(user_agents, "parse", lambda user_agent: fake)
    device = parse_user_agent("anything")
    for value in (device.browser, device.browser_version, device.os, device.os_version):
        assert value == "x" * FIELD_MAX_LENGTH


def test_parses_the_cleaned_string() -> None:
    device = parse_user_agent("\x00" * 5 + CHROME_WINDOWS + "\r\n")
    assert device.user_agent.isprintable()
    assert device.browser == "Chrome"


# -- cleaning -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ""),
        ("", ""),
        ("  Mozilla/5.0  ", "Mozilla/5.0"),
        (b"Mozilla/5.0 \xff", "Mozilla/5.0 ÿ"),
        ("Mozilla\r\nX: 1", "Mozilla\ufffd\ufffdX: 1"),
        ("a\x00b", "a\ufffdb"),
        ("emoji 😀", "emoji 😀"),
        ("bad \udcff", "bad \ufffd"),
    ],
)
def test_clean_user_agent(raw: str | bytes | None, expected: str) -> None:
    assert clean_user_agent(raw) == expected


def test_clean_user_agent_is_bounded() -> None:
    cleaned = clean_user_agent("A" * 10_000)
    assert cleaned == "A" * USER_AGENT_MAX_LENGTH
    assert len(clean_user_agent("\x00" * 10_000)) <= USER_AGENT_MAX_LENGTH


def test_clean_user_agent_output_is_printable() -> None:
    raw = bytes(range(256)).decode("latin-1") * 3
    cleaned = clean_user_agent(raw)
    assert cleaned.isprintable()
    assert len(cleaned) <= USER_AGENT_MAX_LENGTH


# -- parsed once --------------------------------------------------------------


def test_each_distinct_user_agent_is_parsed_once(parses: list[str]) -> None:
    for _ in range(5):
        parse_user_agent(CHROME_WINDOWS)
        parse_user_agent(IPHONE)
    assert parses == [CHROME_WINDOWS, IPHONE]
    info = parse_user_agent.cache_info()
    assert (info.misses, info.hits) == (2, 8)


@pytest.mark.django_db
def test_requests_parse_the_user_agent_once(
    engine: str, user: Any, parses: list[str], clock: Any
) -> None:
    client = Client(HTTP_USER_AGENT=CHROME_WINDOWS)
    client.get("/write/?value=1")
    client.post("/login/", {"username": "alice", "password": "pw"})
    for _ in range(3):
        client.get("/read/")
        client.get("/write/?value=2")
        clock.advance(61)  # activity is due: the touch writes device columns
    assert client.get("/read/").json()["user"] == "alice"
    assert parses == [CHROME_WINDOWS]
