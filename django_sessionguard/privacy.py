"""Privacy controls: how much of a client's IP address and User-Agent is kept.

Three settings decide it (see ``docs/privacy.md``):

* ``SESSIONGUARD_TRACK_IP`` (default ``True``): ``False`` keeps no IP address
  anywhere: not in the session row, its cache entries, events or log lines;
* ``SESSIONGUARD_TRACK_USER_AGENT`` (default ``True``): ``False`` keeps no
  User-Agent, nor the device type, browser and OS parsed from it;
* ``SESSIONGUARD_ANONYMIZE_IP`` (default ``False``): keep only the network of
  the address, ``a.b.c.0`` (IPv4 /24) or the IPv6 /48.

The decision is taken once per request, where the middleware binds the client
to the session store: :func:`client_filter` picks a function from the settings
once (kept by ``conf.client_filter`` until a setting changes), and at the
defaults there is none, so binding costs nothing more. Everything recorded
later (row, cache entries, events, log lines) starts from the bound values.
Events are filtered once more as they are stored (:func:`filter_events`),
because some are built from rows written before a setting changed.

An IP or browser change inside a session can only be seen from what is kept:
with tracking off, ``SESSIONGUARD_IP_CHANGE`` / ``SESSIONGUARD_UA_CHANGE``
have nothing to compare and do nothing (check ``W040`` / ``W041`` says so);
with ``ANONYMIZE_IP`` a move inside the same network is not a change.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any, overload

from django.utils.translation import pgettext_lazy

from django_sessionguard.conf import conf

if TYPE_CHECKING:
    from django_sessionguard.events import EventData

#: What a page shows for a value the site does not record (JSON gives null).
NOT_RECORDED = pgettext_lazy("a value the site does not record", "—")

#: Prefix lengths kept by ``SESSIONGUARD_ANONYMIZE_IP`` (and shown by ``MASK_IP``).
IPV4_PREFIX = 24
IPV6_PREFIX = 48

#: Keys of an event's ``detail`` that are derived from a User-Agent.
DEVICE_DETAIL_KEYS = frozenset(
    {"device_type", "browser", "browser_version", "os", "os_version"}
)

#: ``(ip, user_agent) -> (ip kept, user_agent kept)``.
ClientFilter = Callable[[str | None, str], tuple[str | None, str]]


@lru_cache(maxsize=1024)
def anonymize_ip(ip: str | None) -> str | None:
    """The network address of ``ip``: ``a.b.c.0`` for IPv4, the /48 for IPv6.

    An IPv4-mapped IPv6 address (``::ffff:1.2.3.4``) is treated as the IPv4
    address it carries (``1.2.3.0``). ``None``, an empty string or text that
    is not an IP address give ``None``: nothing unparsed is ever kept.
    """
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        else:
            address = address.__class__(address.packed)  # drops a zone id
    prefix = IPV4_PREFIX if address.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network((address, prefix), strict=False).network_address)


def same_network(first: str | None, second: str | None) -> bool:
    """Whether two addresses share the network :func:`anonymize_ip` keeps."""
    network = anonymize_ip(first)
    return network is not None and network == anonymize_ip(second)


def _no_ip(ip: str | None) -> None:
    return None


def _no_user_agent(user_agent: str) -> str:
    return ""


def _identity(value: Any) -> Any:
    return value


def client_filter(
    track_ip: bool, track_user_agent: bool, anonymize: bool
) -> ClientFilter | None:
    """The function that decides what is kept of a client (None: all of it)."""
    if track_ip and track_user_agent and not anonymize:
        return None
    keep_ip: Callable[[str | None], str | None] = (
        _no_ip if not track_ip else anonymize_ip if anonymize else _identity
    )
    keep_user_agent: Callable[[str], str] = (
        _identity if track_user_agent else _no_user_agent
    )

    def keep(ip: str | None, user_agent: str) -> tuple[str | None, str]:
        return keep_ip(ip), keep_user_agent(user_agent)

    return keep


def stored_ip(ip: str | None) -> str | None:
    """What the settings let the app keep of ``ip`` (None, its network, or it)."""
    keep = conf.client_filter
    return ip if keep is None else keep(ip, "")[0]


def stored_user_agent(text: str) -> str:
    """``text`` (a User-Agent or a device summary made from one), or ``""``."""
    return text if conf.TRACK_USER_AGENT else ""


# -- events ---------------------------------------------------------------------


def stored_detail(kind: str, detail: Any) -> Any:
    """An event's detail as the settings let it be stored.

    Client data in details: the ``from`` / ``to`` of IP and browser changes,
    and the device family a sign-in records (:data:`DEVICE_DETAIL_KEYS`).
    """
    from django_sessionguard.events import EventKind

    if not isinstance(detail, dict):
        return detail
    if not conf.TRACK_USER_AGENT and not DEVICE_DETAIL_KEYS.isdisjoint(detail):
        detail = {k: v for k, v in detail.items() if k not in DEVICE_DETAIL_KEYS}
    if kind not in (EventKind.IP_CHANGED, EventKind.UA_CHANGED):
        return detail
    kept = dict(detail)
    for name in ("from", "to"):
        if name not in kept:
            continue
        value = kept[name]
        if kind == EventKind.IP_CHANGED:
            kept[name] = stored_ip(value if isinstance(value, str) else None)
        else:
            kept[name] = stored_user_agent(value if isinstance(value, str) else "")
    return kept


def filter_events(items: Iterable[EventData]) -> Iterator[EventData]:
    """The events as the settings let them be stored (unchanged at the defaults).

    Covers the event's IP address and device summary, and the ``from`` /
    ``to`` of IP and browser changes.
    """
    keep = conf.client_filter
    if keep is None:
        yield from items
        return
    for item in items:
        ip, device = keep(item.ip_address, item.device)
        yield replace(
            item,
            ip_address=ip,
            device=device,
            detail=stored_detail(item.kind, item.detail),
        )


# -- comparisons ------------------------------------------------------------------


def ip_changed(recorded: str | None, current: str | None) -> bool:
    """Whether a session recorded at ``recorded`` is now used from another network.

    Never with ``TRACK_IP`` off (nothing is kept to compare) nor when nothing
    was recorded yet. With ``ANONYMIZE_IP`` only a different network counts,
    even against an address recorded in full before the setting was turned on.
    """
    if recorded is None or not conf.TRACK_IP:
        return False
    if conf.ANONYMIZE_IP:
        return anonymize_ip(recorded) != anonymize_ip(current)
    return recorded != current


def compares_user_agent() -> bool:
    """Whether browser changes can be seen (``TRACK_USER_AGENT`` is on)."""
    return conf.TRACK_USER_AGENT


# -- display --------------------------------------------------------------------


def shown_ip(ip: str | None) -> str | None:
    """The address a page may show: ``None`` when the site does not track IPs.

    Values stored before tracking was turned off are not shown either.
    """
    return ip if conf.TRACK_IP else None


@overload
def ip_or_dash(ip: str | None, missing: str) -> str: ...


@overload
def ip_or_dash(ip: str | None, missing: None = None) -> str | None: ...


def ip_or_dash(ip: str | None, missing: str | None = None) -> str | None:
    """``ip`` for a page; "—" (:data:`NOT_RECORDED`) when IPs are not tracked.

    ``missing`` is what a tracked but unknown address shows.
    """
    if not conf.TRACK_IP:
        return str(NOT_RECORDED)
    return ip or missing


def device_or_dash(text: str, missing: str = "") -> str:
    """``text`` (derived from a User-Agent) for a page, or "—" when not tracked."""
    if not conf.TRACK_USER_AGENT:
        return str(NOT_RECORDED)
    return text or missing


def shown_detail(kind: str, detail: Any) -> Any:
    """An event's detail for a page: client data not tracked is shown as "—"."""
    from django_sessionguard.events import EventKind

    if not isinstance(detail, dict):
        return detail
    dash = str(NOT_RECORDED)
    hidden: set[str] = set()
    if not conf.TRACK_USER_AGENT:
        hidden |= DEVICE_DETAIL_KEYS
    if (kind == EventKind.IP_CHANGED and not conf.TRACK_IP) or (
        kind == EventKind.UA_CHANGED and not conf.TRACK_USER_AGENT
    ):
        hidden |= {"from", "to"}
    if hidden.isdisjoint(detail):
        return detail
    return {name: dash if name in hidden else value for name, value in detail.items()}
