"""Deciding, from what came with the session load, whether a session must end."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.contrib.auth import SESSION_KEY as USER_ID_KEY

from django_sessionguard.backends.base import SessionGuardStore
from django_sessionguard.conf import conf, resolve_per_user
from django_sessionguard.devices import parse_user_agent
from django_sessionguard.events import EventKind


def idle_timeout_for(user: Any) -> int | None:
    return resolve_per_user(conf.IDLE_TIMEOUT, user, "SESSIONGUARD_IDLE_TIMEOUT")


def absolute_timeout_for(user: Any) -> int | None:
    return resolve_per_user(
        conf.ABSOLUTE_TIMEOUT, user, "SESSIONGUARD_ABSOLUTE_TIMEOUT"
    )


def _needs_user(value: int | str | None) -> bool:
    return isinstance(value, str)


def expired_kind(
    session: SessionGuardStore,
    get_user: Callable[[], Any],
    now: float | None = None,
) -> tuple[str, int] | None:
    """``(EventKind, timeout seconds)`` if the signed-in session is past a deadline.

    The user object is fetched (through ``get_user``) only when a timeout is
    configured as a per-user callable.
    """
    data = session._get_session()
    if data.get(USER_ID_KEY) is None:
        return None
    now = time.time() if now is None else now
    idle_setting, absolute_setting = conf.IDLE_TIMEOUT, conf.ABSOLUTE_TIMEOUT
    user = (
        get_user()
        if _needs_user(idle_setting) or _needs_user(absolute_setting)
        else None
    )
    absolute = resolve_per_user(absolute_setting, user, "SESSIONGUARD_ABSOLUTE_TIMEOUT")
    authenticated_at = session.authenticated_at
    if absolute is not None and authenticated_at is not None:
        if now - authenticated_at > absolute:
            return EventKind.EXPIRED_ABSOLUTE, absolute
    idle = resolve_per_user(idle_setting, user, "SESSIONGUARD_IDLE_TIMEOUT")
    activity = session.activity
    if idle is not None and activity is not None:
        # The session was also active whenever it was written, e.g. at sign-in.
        last = max(activity.last_activity, authenticated_at or 0)
        if now - last > idle:
            return EventKind.EXPIRED_IDLE, idle
    return None


def user_agent_family(user_agent: str) -> tuple[str, str, str]:
    """What must stay the same for a browser to count as the same browser.

    Versions are left out: browsers update themselves inside a session.
    """
    device = parse_user_agent(user_agent)
    return (device.device_type, device.browser, device.os)


def context_changes(session: SessionGuardStore) -> list[tuple[str, dict[str, Any]]]:
    """IP and browser changes between the recorded activity and this request."""
    activity = session.activity
    client_ua = session._client_user_agent
    if activity is None or client_ua is None:
        return []
    changes: list[tuple[str, dict[str, Any]]] = []
    if activity.ip_address != session._client_ip and conf.IP_CHANGE != "ignore":
        changes.append(
            (
                EventKind.IP_CHANGED,
                {"from": activity.ip_address, "to": session._client_ip},
            )
        )
    if conf.UA_CHANGE != "ignore" and user_agent_family(
        activity.user_agent
    ) != user_agent_family(client_ua):
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
    return conf.IP_CHANGE if kind == EventKind.IP_CHANGED else conf.UA_CHANGE
