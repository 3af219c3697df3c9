"""Fuzzing ``X-Forwarded-For`` and ``Forwarded``: the right-most untrusted hop.

Two kinds of input. Proxy chains generated as data (addresses inside and
outside the trusted networks, IPv4 and IPv6, with ports, brackets, quotes,
odd spacing and letter case, unparseable hops) are rendered into either
header, and the client IP must be what walking that chain right to left
gives: start at ``REMOTE_ADDR``, step left while the current hop is a trusted
proxy, stop at an unparseable hop. Arbitrary header text must never raise,
and never yields anything but ``REMOTE_ADDR`` or a valid address, and nothing
but ``REMOTE_ADDR`` unless ``REMOTE_ADDR`` is trusted.
"""

from __future__ import annotations

import ipaddress
import string
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client, RequestFactory, override_settings
from hypothesis import given
from hypothesis import strategies as st

from django_sessionguard.models import Session
from django_sessionguard.network import get_client_ip
from tests.fuzz.support import fuzzing, hostile_text, latin1_text, rolled_back

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

TRUSTED = ("10.0.0.0/8", "2001:db8:aaaa::/48", "127.0.0.1")
TRUSTED_NETWORKS = [ipaddress.ip_network(cidr) for cidr in TRUSTED]

#: Hops no parser can read as an address.
GARBAGE_HOPS = (
    "",
    "unknown",
    "_gazonk",
    "1.2.3",
    "999.1.1.1",
    "::1::",
    "[::1",
    "1.2.3.4:99999",
    '"1.2.3.4',
    "<script>",
)
#: Characters that cannot spell an address (no hex digits, separators, quotes).
NOT_AN_ADDRESS = "".join(
    sorted(set(string.printable) - set(string.hexdigits + ':.%[]",; \t\n\r\x0b\x0c'))
)


def normalised(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def is_trusted(address: IPAddress) -> bool:
    return any(address in network for network in TRUSTED_NETWORKS)


trusted_addresses = st.one_of(
    st.ip_addresses(network="10.0.0.0/8"),
    st.ip_addresses(network="2001:db8:aaaa::/48"),
    st.just(ipaddress.ip_address("127.0.0.1")),
)
any_addresses = st.one_of(trusted_addresses, st.ip_addresses())


@dataclass(frozen=True)
class Hop:
    """One hop of a generated chain: an address, or text that is none."""

    address: IPAddress | None
    text: str


def _x_forwarded_for_text(address: IPAddress, port: int | None, brackets: bool) -> str:
    if address.version == 6 and (brackets or port is not None):
        return f"[{address}]" + (f":{port}" if port is not None else "")
    return f"{address}:{port}" if port is not None else str(address)


ports = st.none() | st.integers(min_value=0, max_value=65535)
garbage = st.sampled_from(GARBAGE_HOPS) | st.text(NOT_AN_ADDRESS, max_size=12)
address_hops = st.builds(
    lambda address, port, brackets: Hop(
        address, _x_forwarded_for_text(address, port, brackets)
    ),
    any_addresses,
    ports,
    st.booleans(),
)
hops = st.one_of(address_hops, address_hops, garbage.map(lambda t: Hop(None, t)))
spaces = st.sampled_from(["", " ", "  ", "\t"])


@st.composite
def x_forwarded_for(draw: st.DrawFn, chain: list[Hop]) -> str:
    return ",".join(draw(spaces) + hop.text + draw(spaces) for hop in chain)


@st.composite
def forwarded(draw: st.DrawFn, chain: list[Hop]) -> str:
    """RFC 7239: ``for=`` among other parameters; an element may lack it."""
    elements = []
    for hop in chain:
        params = draw(
            st.lists(
                st.sampled_from(["proto=https", "by=10.0.0.1", "host=example.com"]),
                max_size=2,
                unique=True,
            )
        )
        # An element without for= is an unknown hop, like garbage.
        if hop.address is not None or draw(st.booleans()):
            name = draw(st.sampled_from(["for", "For", "FOR"]))
            value = hop.text
            if hop.address is not None and (":" in value or draw(st.booleans())):
                value = f'"{value}"'  # quoted-string, required around ":" and "["
            params.insert(draw(st.integers(0, len(params))), f"{name}={value}")
        elements.append(";".join(params))
    return ",".join(draw(spaces) + element for element in elements)


def expected_client_ip(remote: IPAddress, chain: list[Hop], trusted: bool) -> str:
    """Walk the chain right to left from ``remote`` (the oracle)."""
    current = normalised(remote)
    if not trusted:
        return str(current)
    for hop in reversed(chain):
        if not is_trusted(current) or hop.address is None:
            break
        current = normalised(hop.address)
    return str(current)


@st.composite
def requests(draw: st.DrawFn) -> tuple[dict[str, Any], IPAddress, list[Hop]]:
    """The ``META`` of a request through a proxy chain, and the chain."""
    remote = draw(st.one_of(trusted_addresses, any_addresses))
    chain = draw(st.lists(hops, max_size=10))
    meta = {"REMOTE_ADDR": str(remote)}
    header = draw(st.sampled_from(["X-Forwarded-For", "Forwarded", "both"]))
    if header in ("X-Forwarded-For", "both"):
        # With both, Forwarded wins: X-Forwarded-For then claims something else.
        other = chain if header != "both" else draw(st.lists(hops, max_size=3))
        meta["HTTP_X_FORWARDED_FOR"] = draw(x_forwarded_for(other))
    if header in ("Forwarded", "both"):
        meta["HTTP_FORWARDED"] = draw(forwarded(chain)) or ";"
    return meta, remote, chain


def client_ip(meta: dict[str, Any]) -> str | None:
    return get_client_ip(RequestFactory().get("/", **meta))


def trusting(trusted: bool) -> override_settings:
    """Believe forwarding headers from :data:`TRUSTED` (or from nobody).

    (A context manager per example: assigning through pytest-django's
    ``settings`` fixture would stack one override per example.)
    """
    return override_settings(
        SESSIONGUARD_TRUSTED_PROXIES=list(TRUSTED) if trusted else []
    )


@fuzzing(200)
@given(request=requests(), trusted=st.booleans())
def test_client_ip_is_the_right_most_untrusted_hop(
    request: tuple[dict[str, Any], IPAddress, list[Hop]], trusted: bool
) -> None:
    meta, remote, chain = request
    with trusting(trusted):
        assert client_ip(meta) == expected_client_ip(remote, chain, trusted)


@fuzzing(200)
@given(
    remote=any_addresses,
    x_forwarded_for=hostile_text,
    forwarded_header=st.none() | latin1_text,
    trusted=st.booleans(),
)
def test_arbitrary_headers_never_raise(
    remote: IPAddress,
    x_forwarded_for: str,
    forwarded_header: str | None,
    trusted: bool,
) -> None:
    meta = {"REMOTE_ADDR": str(remote), "HTTP_X_FORWARDED_FOR": x_forwarded_for}
    if forwarded_header is not None:
        meta["HTTP_FORWARDED"] = forwarded_header

    with trusting(trusted):
        found = client_ip(meta)

    assert found is not None
    address = ipaddress.ip_address(found)  # always a valid address
    if address != normalised(remote):
        assert trusted
        assert is_trusted(normalised(remote))


@fuzzing(100)
@given(remote_addr=hostile_text, x_forwarded_for=latin1_text, trusted=st.booleans())
def test_any_remote_addr(remote_addr: str, x_forwarded_for: str, trusted: bool) -> None:
    meta = {"REMOTE_ADDR": remote_addr, "HTTP_X_FORWARDED_FOR": x_forwarded_for}
    with trusting(trusted):
        found = client_ip(meta)

    if found is not None:
        ipaddress.ip_address(found)
    try:  # (a zone id is dropped, as for any hop)
        peer: IPAddress | None = ipaddress.ip_address(remote_addr.partition("%")[0])
    except ValueError:
        peer = None
    if peer is not None and not (trusted and is_trusted(normalised(peer))):
        assert found == str(normalised(peer))


@pytest.mark.django_db
@fuzzing(10)
@given(request=requests(), trusted=st.booleans())
def test_the_session_records_that_address(
    engine: str,
    request: tuple[dict[str, Any], IPAddress, list[Hop]],
    trusted: bool,
) -> None:
    meta, remote, chain = request
    with trusting(trusted), rolled_back():
        response = Client(**meta).get("/write/")

        assert response.status_code == 200
        assert Session.objects.get().ip_address == expected_client_ip(
            remote, chain, trusted
        )
