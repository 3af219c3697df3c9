"""What the admin search box understands (``django_sessionguard.admin.search``)."""

from __future__ import annotations

import ipaddress

import pytest
from django.db.models import Q

from django_sessionguard.admin.search import _text_prefix_q, parse_network, parse_term


@pytest.mark.parametrize(
    ("term", "network"),
    [
        ("203.0.113.5", "203.0.113.5/32"),
        ("203.0.113.", "203.0.113.0/24"),
        ("203.0.113", "203.0.113.0/24"),
        ("10.", "10.0.0.0/8"),
        ("10.1", "10.1.0.0/16"),
        ("198.51.100.16/28", "198.51.100.16/28"),
        ("198.51.100.17/28", "198.51.100.16/28"),
        ("2001:db8::7", "2001:db8::7/128"),
        ("2001:db8:", "2001:db8::/32"),
        ("2001:DB8:", "2001:db8::/32"),
        ("2001:db8::/32", "2001:db8::/32"),
        ("fe80:1:2:", "fe80:1:2::/48"),
    ],
)
def test_networks(term: str, network: str) -> None:
    assert parse_network(term) == ipaddress.ip_network(network)


@pytest.mark.parametrize(
    "term",
    [
        "alice",
        "10",
        "300.1.",
        "1.2.3.4.5",
        "bob@example.com",
        "a:b:zz",
        "10.0.0.0/99",
        "",
        "john.doe",
    ],
)
def test_not_networks(term: str) -> None:
    assert parse_network(term) is None


def test_terms() -> None:
    reference = "0123456789abcdef0123456789ABCDEF"
    assert parse_term(reference).reference == reference.lower()
    assert parse_term(" alice ").text == "alice"
    assert parse_term("203.0.113.").network == ipaddress.ip_network("203.0.113.0/24")


def test_text_prefixes_cover_a_network_by_whole_octets() -> None:
    network = ipaddress.ip_network("198.51.96.0/20")
    query = _text_prefix_q("ip", network)
    patterns = [child[1] for child in query.children]  # type: ignore[index]
    assert len(patterns) == 16
    assert patterns[0] == "198.51.96."
    assert patterns[-1] == "198.51.111."
    assert _text_prefix_q("ip", ipaddress.ip_network("10.0.0.0/8")) == Q(
        ip__startswith="10."
    )
    assert _text_prefix_q("ip", ipaddress.ip_network("2001:db8::/32")) == Q(
        ip__startswith="2001:db8:"
    )
