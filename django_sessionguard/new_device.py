"""New-device sign-ins: from a device family and a network the user has not used.

At sign-in (``user_logged_in``, after the session limit has accepted the new
session), while ``SESSIONGUARD_NEW_DEVICE_DETECTION`` or
``SESSIONGUARD_NEW_DEVICE_EMAIL`` is on, the new session's client is compared
with the user's history over ``SESSIONGUARD_NEW_DEVICE_LOOKBACK``: the user's
session rows and sign-in (``login``) events, read in one query.

* The **device family** is device type + browser family + OS family, without
  versions (a browser update is not a new device). Sign-in events keep it in
  their ``detail`` (see :func:`login_detail`).
* The **network** is the IPv4 /24 or IPv6 /48 around the address (what
  ``SESSIONGUARD_ANONYMIZE_IP`` keeps, so anonymised history compares too).

A sign-in is new when **neither** its device family **nor** its network
appears in that history. Only what is known on both sides is compared: with
``SESSIONGUARD_TRACK_IP`` off the device alone decides, with
``SESSIONGUARD_TRACK_USER_AGENT`` off the network alone, and with nothing to
compare (the user's first sign-in, or nothing recorded) a sign-in is not new.
A new sign-in records a ``new_device`` event, sends
:data:`~django_sessionguard.signals.new_device_login` and, with
``SESSIONGUARD_NEW_DEVICE_EMAIL``, emails the user
(:mod:`django_sessionguard.notifications`). See ``docs/notifications.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, Max
from django.db.models.fields.json import KT
from django.http import HttpRequest
from django.utils import timezone

from django_sessionguard import privacy
from django_sessionguard.backends.base import SessionGuardStore
from django_sessionguard.conf import conf
from django_sessionguard.devices import Device, DeviceType, parse_user_agent
from django_sessionguard.events import EventData, EventKind, record_events
from django_sessionguard.models import Session, SessionEvent

#: Distinct (address, device family) pairs of history read, most recent first.
HISTORY_LIMIT = 500

#: ``(device type, browser family, OS family)``.
Family = tuple[str, str, str]

#: What a client that sent no (or an unparseable) User-Agent looks like.
UNKNOWN_FAMILY: Family = (DeviceType.OTHER.value, "", "")

#: Keys of a ``login`` event's ``detail`` that hold the device family.
FAMILY_KEYS = ("device_type", "browser", "os")

#: The columns of one history row: address, device type, browser, OS, when.
_COLUMNS = ("sg_ip", "sg_type", "sg_browser", "sg_os", "sg_last")


def family_of(device: Device) -> Family:
    """A device's family: what stays the same when its browser or OS updates."""
    return (device.device_type, device.browser, device.os)


def login_detail(session: SessionGuardStore) -> dict[str, str]:
    """What a ``login`` event keeps for later comparisons: the device family.

    Empty when User-Agents are not tracked (nothing derived from one is kept)
    or the store was not bound to a request.
    """
    user_agent = session._client_user_agent
    if user_agent is None or not conf.TRACK_USER_AGENT:
        return {}
    return dict(zip(FAMILY_KEYS, family_of(parse_user_agent(user_agent)), strict=True))


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a sign-in is new, and what it was compared by."""

    new: bool
    #: ``"device"`` and/or ``"network"``: the dimensions known on both sides.
    compared: tuple[str, ...]


def judge(
    family: Family | None, network: str | None, history: Iterable[dict[str, Any]]
) -> Verdict:
    """Compare a sign-in's family and network with history rows.

    ``None`` means "not known" (not tracked, or no address): that dimension
    is not compared. Neither is a dimension history holds nothing for. A
    history row with a wholly unknown family (no User-Agent) is not evidence
    of any device.
    """
    families: set[Family] = set()
    networks: set[str] = set()
    for row in history:
        row_family = (row["sg_type"], row["sg_browser"], row["sg_os"])
        if None not in row_family and row_family != UNKNOWN_FAMILY:
            families.add(row_family)
        row_network = privacy.anonymize_ip(row["sg_ip"])
        if row_network is not None:
            networks.add(row_network)
    compared: list[str] = []
    seen = False
    if family is not None and families:
        compared.append("device")
        seen = seen or family in families
    if network is not None and networks:
        compared.append("network")
        seen = seen or network in networks
    return Verdict(new=bool(compared) and not seen, compared=tuple(compared))


def history(
    user: Any, reference: str, key_hash: str | None, since: datetime
) -> list[dict[str, Any]]:
    """``user``'s other sessions and sign-ins since ``since``: one query.

    Distinct (address, device family) pairs, most recently used first, at
    most :data:`HISTORY_LIMIT`: a ``UNION ALL`` of the session rows (index on
    user) and the ``login`` events (index on user and time), each grouped.
    The session being signed in, and its own sign-in event, are left out.
    """
    sessions = (
        Session.objects.filter(user=user, last_activity__gte=since)
        .exclude(key_hash=key_hash or "")
        .annotate(
            sg_ip=F("ip_address"),
            sg_type=F("device_type"),
            sg_browser=F("browser"),
            sg_os=F("os"),
        )
        .values(*_COLUMNS[:4])
        .annotate(sg_last=Max("last_activity"))
        .order_by()
    )
    logins = (
        SessionEvent.objects.filter(
            user=user, kind=EventKind.LOGIN, timestamp__gte=since
        )
        .exclude(session_ref=reference)
        .annotate(
            sg_ip=F("ip_address"),
            sg_type=KT("detail__device_type"),
            sg_browser=KT("detail__browser"),
            sg_os=KT("detail__os"),
        )
        .values(*_COLUMNS[:4])
        .annotate(sg_last=Max("timestamp"))
        .order_by()  # no Meta.ordering inside the UNION (SQLite refuses it)
    )
    combined = sessions.union(logins, all=True).order_by("-sg_last")
    return list(combined[:HISTORY_LIMIT])


def client_family(session: SessionGuardStore) -> Family | None:
    """The signing-in client's device family, or None when not tracked."""
    user_agent = session._client_user_agent
    if user_agent is None or not conf.TRACK_USER_AGENT:
        return None
    return family_of(parse_user_agent(user_agent))


def client_network(session: SessionGuardStore) -> str | None:
    """The signing-in client's network, or None when not tracked or unknown."""
    if not conf.TRACK_IP:
        return None
    return privacy.anonymize_ip(session._client_ip)


def check_sign_in(
    request: HttpRequest, session: SessionGuardStore, user: Any
) -> SessionEvent | None:
    """Judge a sign-in; if it is new, record it, signal it, and queue the email.

    Called by the ``user_logged_in`` receiver once the session is bound to
    ``user``. Costs one query when the sign-in is known, two (the history and
    the event) when it is new, nothing when there is nothing to compare.
    Returns the ``new_device`` event, or None.
    """
    family = client_family(session)
    network = client_network(session)
    if family is None and network is None:
        return None
    reference = session.reference or ""
    since = timezone.now() - timedelta(seconds=conf.NEW_DEVICE_LOOKBACK)
    verdict = judge(family, network, history(user, reference, session.key_hash, since))
    if not verdict.new:
        return None
    device = parse_user_agent(session._client_user_agent or "")
    [event] = record_events(
        [
            EventData(
                kind=EventKind.NEW_DEVICE,
                session_ref=reference,
                user_id=user.pk,
                ip_address=session._client_ip,
                device=str(device),
                detail={"compared": list(verdict.compared)},
            )
        ]
    )
    from django_sessionguard.signals import new_device_login

    new_device_login.send(
        sender=SessionEvent,
        user=user,
        request=request,
        reference=reference,
        event=event,
    )
    if conf.NEW_DEVICE_EMAIL:
        from django_sessionguard.notifications import queue_new_device_email

        queue_new_device_email(
            request,
            user,
            event,
            device=device if family is not None else None,
            ip_address=session._client_ip if conf.TRACK_IP else None,
        )
    return event
