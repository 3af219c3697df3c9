"""The client's IP address, believing forwarding headers only from trusted proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

from django.http import HttpRequest

from django_sessionguard.conf import IPNetwork, conf

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Longest header value we are willing to look at; anything past it is ignored.
MAX_HEADER_LENGTH = 4096
#: Longest ``REMOTE_ADDR`` whose parsed form is remembered (bounds the cache).
MAX_CACHED_PEER_LENGTH = 64


def _is_port_suffix(value: str) -> bool:
    """Whether ``value`` is empty or ``":<port>"`` with a valid port number."""
    if not value:
        return True
    port = value[1:]
    return value[0] == ":" and port.isascii() and port.isdigit() and int(port) <= 65535


def parse_ip(value: str) -> IPAddress | None:
    """Return the address in ``value`` (IPv6 brackets, ports, zone ids allowed)."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':  # RFC 7239 quoted-string
        value = value[1:-1]
    if not value or len(value) > 64 or '"' in value:
        return None
    if value.startswith("["):  # "[2001:db8::1]:443"
        value, bracket, port = value[1:].partition("]")
        if not bracket or not _is_port_suffix(port):
            return None
    elif value.count(":") == 1:  # "1.2.3.4:8080"
        value, _, port = value.partition(":")
        if not _is_port_suffix(":" + port):
            return None
    value = value.partition("%")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def forwarded_for_hops(request: HttpRequest) -> list[str]:
    """The client addresses claimed by ``Forwarded`` or ``X-Forwarded-For``, in order.

    RFC 7239 ``Forwarded`` wins when present; its ``for=`` parameters are used.
    """
    meta = request.META
    forwarded = str(meta.get("HTTP_FORWARDED", ""))[:MAX_HEADER_LENGTH]
    if forwarded:
        hops = []
        for element in forwarded.split(","):
            for pair in element.split(";"):
                name, _, value = pair.partition("=")
                if name.strip().lower() == "for":
                    hops.append(value)
                    break
            else:
                hops.append("")  # an element without for= is an unknown hop
        return hops
    x_forwarded_for = str(meta.get("HTTP_X_FORWARDED_FOR", ""))[:MAX_HEADER_LENGTH]
    if x_forwarded_for:
        return x_forwarded_for.split(",")
    return []


def _is_trusted(address: IPAddress, trusted: Iterable[IPNetwork]) -> bool:
    return any(address in network for network in trusted)


def resolve_client_ip(
    remote_addr: str, hops: Sequence[str], trusted: Sequence[IPNetwork]
) -> str | None:
    """Walk the chain right to left and return the first address not trusted.

    The connection's peer (``remote_addr``) is the right-most hop. Forwarding
    headers are only consulted while every hop so far is a trusted proxy; an
    unparseable hop ends the walk at the last address we could verify.
    """
    address = parse_ip(remote_addr)
    if address is None:
        return None
    for raw in reversed(hops):
        if not _is_trusted(address, trusted):
            break
        claimed = parse_ip(raw)
        if claimed is None:
            break
        address = claimed
    return str(address)


@lru_cache(maxsize=1024)
def _peer_ip(remote_addr: str) -> str | None:
    """``resolve_client_ip(remote_addr, (), ())``, remembered per peer address."""
    return resolve_client_ip(remote_addr, (), ())


def get_client_ip(request: HttpRequest) -> str | None:
    """The IP address of the client that sent ``request``, or ``None``."""
    remote_addr = str(request.META.get("REMOTE_ADDR", ""))
    trusted = conf.TRUSTED_PROXIES
    if not trusted:
        # No proxy to believe: the answer depends on the peer address alone.
        if len(remote_addr) <= MAX_CACHED_PEER_LENGTH:
            return _peer_ip(remote_addr)
        return resolve_client_ip(remote_addr, (), ())
    return resolve_client_ip(remote_addr, forwarded_for_hops(request), trusted)
