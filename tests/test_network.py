"""The client's IP address: ``REMOTE_ADDR`` unless a trusted proxy says otherwise."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from django.test import RequestFactory, override_settings

from django_sessionguard.network import (
    MAX_HEADER_LENGTH,
    forwarded_for_hops,
    get_client_ip,
    parse_ip,
    resolve_client_ip,
)

PRIVATE = (ipaddress.ip_network("10.0.0.0/8"),)
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


def request(**meta: Any) -> Any:
    return RequestFactory().get("/", **meta)


# -- parse_ip -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.2.3.4", "1.2.3.4"),
        (" 1.2.3.4 ", "1.2.3.4"),
        ("1.2.3.4:8080", "1.2.3.4"),
        ('"1.2.3.4"', "1.2.3.4"),
        ("2001:db8::1", "2001:db8::1"),
        ("2001:DB8::1", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ('"[2001:db8:cafe::17]:4711"', "2001:db8:cafe::17"),
        ("fe80::1%eth0", "fe80::1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),  # IPv4-mapped: the IPv4 address
        ("::1", "::1"),
    ],
)
def test_parse_ip_accepts(value: str, expected: str) -> None:
    assert str(parse_ip(value)) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "unknown",
        "_gazonk",
        "<script>",
        "::1::",
        "999.1.1.1",
        "1.2.3",
        "1.2.3.4.5",
        "1.2.3.4:",
        "1.2.3.4:99999999",
        "1.2.3.4:http",
        "[::1",
        "[::1]x",
        "[::1]:",
        '"1.2.3.4',
        '1.2.3.4"',
        "1.2.3.4\x00",
        "1.2.3.4 5.6.7.8",
        "\u0661.\u0662.\u0663.\u0664",  # Arabic-Indic digits
        "1.2.3.4:\u0668\u0660",
        "a" * 10_000,
        "1" * 65,
    ],
)
def test_parse_ip_rejects(value: str) -> None:
    assert parse_ip(value) is None


# -- the forwarding headers -----------------------------------------------------


def test_x_forwarded_for_hops_in_order() -> None:
    hops = forwarded_for_hops(request(HTTP_X_FORWARDED_FOR="1.1.1.1, 2.2.2.2,3.3.3.3"))
    assert [hop.strip() for hop in hops] == ["1.1.1.1", "2.2.2.2", "3.3.3.3"]


def test_forwarded_hops_use_the_for_parameter() -> None:
    header = (
        'for=192.0.2.60;proto=http;by=203.0.113.43, For="[2001:db8:cafe::17]:4711", '
        "by=10.0.0.1"
    )
    hops = forwarded_for_hops(request(HTTP_FORWARDED=header))
    assert [str(parse_ip(hop)) if parse_ip(hop) else hop for hop in hops] == [
        "192.0.2.60",
        "2001:db8:cafe::17",
        "",  # an element without for= is an unknown hop
    ]


def test_forwarded_wins_over_x_forwarded_for() -> None:
    hops = forwarded_for_hops(
        request(HTTP_FORWARDED="for=192.0.2.60", HTTP_X_FORWARDED_FOR="6.6.6.6")
    )
    assert hops == ["192.0.2.60"]


def test_no_forwarding_headers_no_hops() -> None:
    assert forwarded_for_hops(request()) == []


def test_over_long_header_is_cut() -> None:
    header = "1.1.1.1, " * 10_000
    hops = forwarded_for_hops(request(HTTP_X_FORWARDED_FOR=header))
    assert sum(len(hop) + 1 for hop in hops) <= MAX_HEADER_LENGTH + 1


# -- resolve_client_ip ----------------------------------------------------------


@pytest.mark.parametrize(
    ("remote_addr", "hops", "trusted", "expected"),
    [
        pytest.param("10.0.0.1", ["6.6.6.6"], (), "10.0.0.1", id="nothing-trusted"),
        pytest.param(
            "192.0.2.1", ["6.6.6.6"], PRIVATE, "192.0.2.1", id="untrusted-peer"
        ),
        pytest.param("10.0.0.1", [], PRIVATE, "10.0.0.1", id="trusted-peer-no-header"),
        pytest.param("10.0.0.1", ["203.0.113.9"], PRIVATE, "203.0.113.9", id="one"),
        pytest.param(
            "10.0.0.1",
            ["6.6.6.6", "203.0.113.9", "10.0.0.2"],
            PRIVATE,
            "203.0.113.9",
            id="rightmost-untrusted",
        ),
        pytest.param(
            "10.0.0.1",
            ["10.0.0.3", "10.0.0.2"],
            PRIVATE,
            "10.0.0.3",
            id="all-trusted",
        ),
        pytest.param(
            "10.0.0.1",
            ["1.2.3.4", "<script>", "::1::"],
            PRIVATE,
            "10.0.0.1",
            id="garbage-stops-at-peer",
        ),
        pytest.param(
            "10.0.0.1",
            ["6.6.6.6", "garbage", "10.0.0.2"],
            PRIVATE,
            "10.0.0.2",
            id="garbage-stops-at-last-verified",
        ),
        pytest.param(
            "10.0.0.1",
            ["2001:db8::9"],
            PRIVATE,
            "2001:db8::9",
            id="ipv6-client",
        ),
        pytest.param(
            "::ffff:10.0.0.1",
            ["203.0.113.9"],
            PRIVATE,
            "203.0.113.9",
            id="ipv4-mapped-peer",
        ),
        pytest.param("garbage", ["203.0.113.9"], PRIVATE, None, id="bad-peer"),
        pytest.param("", [], (), None, id="no-peer"),
    ],
)
def test_resolve_client_ip(
    remote_addr: str,
    hops: list[str],
    trusted: tuple[Any, ...],
    expected: str | None,
) -> None:
    assert resolve_client_ip(remote_addr, hops, trusted) == expected


# -- get_client_ip --------------------------------------------------------------


def test_remote_addr_by_default() -> None:
    meta = {
        "REMOTE_ADDR": "10.0.0.1",
        "HTTP_X_FORWARDED_FOR": "203.0.113.9",
        "HTTP_FORWARDED": "for=203.0.113.10",
    }
    assert get_client_ip(request(**meta)) == "10.0.0.1"


@override_settings(SESSIONGUARD_TRUSTED_PROXIES=["10.0.0.0/8"])
def test_trusted_proxy_x_forwarded_for() -> None:
    meta = {
        "REMOTE_ADDR": "10.0.0.1",
        "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.9, 10.0.0.2",
    }
    assert get_client_ip(request(**meta)) == "203.0.113.9"


@override_settings(SESSIONGUARD_TRUSTED_PROXIES=["10.0.0.0/8"])
def test_trusted_proxy_forwarded() -> None:
    meta = {
        "REMOTE_ADDR": "10.0.0.1",
        "HTTP_FORWARDED": 'for=6.6.6.6, for="[2001:db8::7]:1234";proto=https',
        "HTTP_X_FORWARDED_FOR": "198.51.100.1",
    }
    assert get_client_ip(request(**meta)) == "2001:db8::7"


@override_settings(SESSIONGUARD_TRUSTED_PROXIES=["192.168.0.0/16"])
def test_untrusted_peer_is_the_client() -> None:
    meta = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    assert get_client_ip(request(**meta)) == "10.0.0.1"


@override_settings(SESSIONGUARD_TRUSTED_PROXIES=["127.0.0.1", "::1"])
def test_single_addresses_are_trusted_proxies() -> None:
    assert (
        get_client_ip(request(REMOTE_ADDR="::1", HTTP_X_FORWARDED_FOR="203.0.113.9"))
        == "203.0.113.9"
    )


@override_settings(SESSIONGUARD_TRUSTED_PROXIES=["10.0.0.0/8"])
@pytest.mark.parametrize(
    "meta",
    [
        {"HTTP_X_FORWARDED_FOR": "1.2.3.4, <script>, ::1::"},
        {"HTTP_X_FORWARDED_FOR": "\x00" * 10_000},
        {"HTTP_FORWARDED": "for=;;;,,,==="},
        {"HTTP_FORWARDED": "=" * 10_000},
        {"HTTP_FORWARDED": 'for="_hidden", for="[::1'},
    ],
)
def test_garbage_never_raises(meta: dict[str, str]) -> None:
    assert get_client_ip(request(REMOTE_ADDR="10.0.0.1", **meta)) == "10.0.0.1"


def test_missing_or_garbage_remote_addr() -> None:
    assert get_client_ip(request(REMOTE_ADDR="")) is None
    assert get_client_ip(request(REMOTE_ADDR="not an ip")) is None
    factory_request = request()
    del factory_request.META["REMOTE_ADDR"]
    assert get_client_ip(factory_request) is None
