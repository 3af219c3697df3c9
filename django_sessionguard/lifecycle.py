"""Deciding, from what came with the session load, whether a session must end.

Nothing here does I/O of its own: the authentication time travels in the
session data, the last activity (and the address and browser it came from)
with the session load, and the settings are read from memory. Only a per-user
timeout callable needs the user, which the request loads anyway.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import SESSION_KEY as USER_ID_KEY

from django_sessionguard import privacy
from django_sessionguard.backends.base import (
    Activity,
    SessionGuardStore,
    authentication_time,
)
from django_sessionguard.conf import conf, resolve_per_user
from django_sessionguard.devices import parse_user_agent
from django_sessionguard.events import EndReason, EventKind


@dataclass(frozen=True, slots=True)
class Ending:
    """Why a session must end now."""

    kind: str
    #: The timeout that ran out (seconds), for the message shown to the user.
    timeout: int | None = None
    #: Recorded as the event's ``detail["reason"]``.
    reason: str = ""


def idle_timeout_for(user: Any) -> int | None:
    """``user``'s idle timeout in seconds (None: none)."""
    return resolve_per_user(conf.IDLE_TIMEOUT, user, "SESSIONGUARD_IDLE_TIMEOUT")


def absolute_timeout_for(user: Any) -> int | None:
    """``user``'s absolute timeout in seconds (None: none)."""
    return resolve_per_user(
        conf.ABSOLUTE_TIMEOUT, user, "SESSIONGUARD_ABSOLUTE_TIMEOUT"
    )


def is_signed_in(session: SessionGuardStore) -> bool:
    return session.get(USER_ID_KEY) is not None


def ending_for(
    session: SessionGuardStore,
    get_user: Callable[[], Any],
    now: float | None = None,
) -> Ending | None:
    """Why this signed-in session must end now, or None if it may go on.

    Checked in order: the global "not valid before" cutoff, the absolute
    timeout (counted from authentication, never extended), then the idle
    timeout. The user object is fetched (through ``get_user``) only when a
    timeout is configured as a per-user callable.
    """
    # Asked on every signed-in request: the session's data is read once.
    data = session._get_session()
    if data.get(USER_ID_KEY) is None:
        return None
    now = time.time() if now is None else now
    authenticated_at = authentication_time(data)
    cutoff = conf.NOT_VALID_BEFORE
    if cutoff is not None and (authenticated_at is None or authenticated_at < cutoff):
        return Ending(EventKind.REVOKED_BY_SYSTEM, reason=EndReason.NOT_VALID_BEFORE)
    idle_setting, absolute_setting = conf.IDLE_TIMEOUT, conf.ABSOLUTE_TIMEOUT
    if idle_setting is None and absolute_setting is None:
        return None
    user = (
        get_user()
        if isinstance(idle_setting, str) or isinstance(absolute_setting, str)
        else None
    )
    absolute = resolve_per_user(absolute_setting, user, "SESSIONGUARD_ABSOLUTE_TIMEOUT")
    if (
        absolute is not None
        and authenticated_at is not None
        and now - authenticated_at > absolute
    ):
        return Ending(EventKind.EXPIRED_ABSOLUTE, timeout=absolute)
    idle = resolve_per_user(idle_setting, user, "SESSIONGUARD_IDLE_TIMEOUT")
    if idle is not None and _idle_for(session.activity, authenticated_at, now) > idle:
        # Idle by the loaded copy: confirmed against the record before ending.
        activity = session.confirm_activity()
        if _idle_for(activity, authenticated_at, now) > idle:
            return Ending(EventKind.EXPIRED_IDLE, timeout=idle)
    return None


def _idle_for(
    activity: Activity | None, authenticated_at: float | None, now: float
) -> float:
    """Seconds since the last activity; signing in (or re-authenticating) counts."""
    if activity is None:
        return 0.0
    return now - max(activity.last_activity, authenticated_at or 0)


def user_agent_family(user_agent: str) -> tuple[str, str, str]:
    """What must stay the same for a browser to count as the same browser.

    Versions are left out: browsers update themselves inside a session.
    """
    device = parse_user_agent(user_agent)
    return (device.device_type, device.browser, device.os)


def context_changes(session: SessionGuardStore) -> list[tuple[str, dict[str, Any]]]:
    """IP and browser changes between the recorded activity and this request.

    Only changes whose setting is not ``"ignore"`` are returned. A session
    with no recorded address or browser (imported from another engine, or
    begun by a client that sent none) adopts the first one it sees: unknown
    is not evidence of a change.
    """
    activity = session.activity
    client_ua = session._client_user_agent
    if activity is None or client_ua is None:
        return []
    if activity.ip_address == session._client_ip and activity.user_agent == client_ua:
        return []  # the usual case: nothing to parse or compare
    changes: list[tuple[str, dict[str, Any]]] = []
    # Only what the privacy settings keep can be compared: nothing with
    # tracking off, networks with ANONYMIZE_IP (see privacy.py).
    if conf.IP_CHANGE != "ignore" and privacy.ip_changed(
        activity.ip_address, session._client_ip
    ):
        changes.append(
            (
                EventKind.IP_CHANGED,
                {"from": activity.ip_address, "to": session._client_ip},
            )
        )
    if (
        conf.UA_CHANGE != "ignore"
        and privacy.compares_user_agent()
        and activity.user_agent
        and activity.user_agent != client_ua
        and user_agent_family(activity.user_agent) != user_agent_family(client_ua)
    ):
        changes.append(
            (
                EventKind.UA_CHANGED,
                {
                    "from": str(parse_user_agent(activity.user_agent)),
                    "to": str(parse_user_agent(client_ua)),
                },
            )
        )
    return changes


def change_action(kind: str) -> str:
    """``"log"`` or ``"revoke"``: what policy says an IP or browser change does."""
    return conf.IP_CHANGE if kind == EventKind.IP_CHANGED else conf.UA_CHANGE
