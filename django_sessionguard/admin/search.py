"""What the admin search box understands, turned into indexable lookups.

One search term is one of:

* a session reference (32 hexadecimal characters): that session;
* an IP address: exactly that address;
* an IP prefix: ``203.0.113.0/24`` (CIDR), ``203.0.113`` or ``203.0.113.``
  (whole octets), ``2001:db8:`` or ``2001:db8::/32`` (IPv6): every address
  in that network;
* anything else: part of a username or e-mail address (case-insensitive).

On PostgreSQL an IP network becomes a range over the ``inet`` column (one
index range scan). Other databases store addresses as text, so the network is
matched with ``LIKE 'prefix%'`` on whole octets (or groups for IPv6).
"""

from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Q, QuerySet

from django_sessionguard.keys import REFERENCE_LENGTH

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_REFERENCE = re.compile(rf"[0-9a-f]{{{REFERENCE_LENGTH}}}")
_IPV4_OCTETS = re.compile(r"(\d{1,3})(?:\.(\d{1,3}))?(?:\.(\d{1,3}))?\.?")
_IPV6_GROUPS = re.compile(r"[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*:{0,2}")
#: Most ``LIKE`` patterns one IPv4 network may expand to on text columns.
_MAX_TEXT_PREFIXES = 256


@dataclass(frozen=True)
class SearchTerm:
    """A parsed search term: exactly one of the attributes is set."""

    reference: str | None = None
    network: IPNetwork | None = None
    text: str | None = None


def parse_network(term: str) -> IPNetwork | None:
    """The IP address (as a one-address network) or IP prefix ``term`` names."""
    if "/" in term:
        try:
            return ipaddress.ip_network(term, strict=False)
        except ValueError:
            return None
    try:
        address = ipaddress.ip_address(term)
    except ValueError:
        pass
    else:
        return ipaddress.ip_network(address)
    match = _IPV4_OCTETS.fullmatch(term)
    if match and "." in term:
        octets = [int(octet) for octet in match.groups() if octet is not None]
        if all(octet <= 255 for octet in octets):
            padded = octets + [0] * (4 - len(octets))
            return ipaddress.ip_network(
                (".".join(map(str, padded)), 8 * len(octets)), strict=False
            )
        return None
    lowered = term.lower()
    if ":" in lowered and _IPV6_GROUPS.fullmatch(lowered):
        groups = [group for group in lowered.rstrip(":").split(":") if group]
        if 0 < len(groups) < 8 and "::" not in lowered.rstrip(":"):
            first = ":".join(groups) + "::"
            return ipaddress.ip_network((first, 16 * len(groups)), strict=False)
    return None


def parse_term(term: str) -> SearchTerm:
    term = term.strip()
    if _REFERENCE.fullmatch(term.lower()):
        return SearchTerm(reference=term.lower())
    network = parse_network(term)
    if network is not None:
        return SearchTerm(network=network)
    return SearchTerm(text=term)


def network_q(field: str, network: IPNetwork, using: str = "default") -> Q:
    """Rows whose IP ``field`` lies in ``network``, in a form the index can use."""
    if network.num_addresses == 1:
        return Q(**{field: str(network.network_address)})
    if connections[using].vendor == "postgresql":
        return Q(
            **{
                f"{field}__gte": str(network.network_address),
                f"{field}__lte": str(network.broadcast_address),
            }
        )
    return _text_prefix_q(field, network)


def _text_prefix_q(field: str, network: IPNetwork) -> Q:
    """Match ``network`` on addresses stored as text (SQLite, MySQL)."""
    if isinstance(network, ipaddress.IPv4Network):
        # Round the prefix length up to whole octets; a /20 is 16 /24 patterns.
        whole = min(32, math.ceil(network.prefixlen / 8) * 8)
        if whole == 0:
            return Q(**{f"{field}__contains": "."})
        subnets = list(network.subnets(new_prefix=whole))[:_MAX_TEXT_PREFIXES]
        query = Q()
        for subnet in subnets:
            octets = str(subnet.network_address).split(".")[: whole // 8]
            if whole == 32:
                query |= Q(**{field: ".".join(octets)})
            else:
                query |= Q(**{f"{field}__startswith": ".".join(octets) + "."})
        return query
    # IPv6 is stored compressed: whole leading groups, written without
    # leading zeros, are a text prefix of every address in the network.
    groups = network.exploded.split("/")[0].split(":")[: network.prefixlen // 16]
    if not groups:
        return Q(**{f"{field}__contains": ":"})
    prefix = ":".join(group.lstrip("0") or "0" for group in groups) + ":"
    return Q(**{f"{field}__startswith": prefix})


#: Matching users looked up first and passed as a list of ids, at most.
MAX_MATCHING_USERS = 1000


def matching_users(text: str) -> list[Any] | QuerySet[Any]:
    """Users whose username or e-mail contains ``text`` (case-insensitive).

    Looked up first, on the (small) user table, so the session or event query
    filters on a list of user ids through its ``user`` index instead of
    joining the users and testing every row. Past :data:`MAX_MATCHING_USERS`
    matches, the lookup stays a subquery.
    """
    user_model = get_user_model()
    fields = [user_model.USERNAME_FIELD]
    email = user_model.get_email_field_name()
    if email != user_model.USERNAME_FIELD and any(
        field.name == email for field in user_model._meta.get_fields()
    ):
        fields.append(email)
    query = Q()
    for name in fields:
        query |= Q(**{f"{name}__icontains": text})
    users = user_model._default_manager.filter(query).values_list("pk", flat=True)
    ids = list(users[: MAX_MATCHING_USERS + 1])
    return ids if len(ids) <= MAX_MATCHING_USERS else users


def search_q(
    term: str,
    *,
    reference_field: str,
    ip_field: str,
    user_fields: tuple[str, ...],
    using: str = "default",
) -> Q | None:
    """The lookup for one search term, or ``None`` for an empty term."""
    if not term.strip():
        return None
    parsed = parse_term(term)
    if parsed.reference is not None:
        return Q(**{reference_field: parsed.reference})
    if parsed.network is not None:
        return network_q(ip_field, parsed.network, using)
    users = matching_users(parsed.text or "")
    query = Q()
    for prefix in user_fields:
        query |= Q(**{f"{prefix}__in": users})
    return query
