"""Applying the privacy settings to what was stored before they were set.

Turning ``SESSIONGUARD_TRACK_IP`` / ``SESSIONGUARD_TRACK_USER_AGENT`` off or
``SESSIONGUARD_ANONYMIZE_IP`` on changes what is stored from then on. Rows of
live sessions are corrected by their next request and events age out with the
retention; :func:`forget_untracked` corrects everything at once, e.g. from a
data migration or ``manage.py shell`` right after the deploy.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import models, router, transaction

from django_sessionguard.backends.base import evict_cached_sessions
from django_sessionguard.conf import conf
from django_sessionguard.devices import DeviceType
from django_sessionguard.models import Session, SessionEvent
from django_sessionguard.privacy import stored_detail, stored_ip, stored_user_agent

#: The values a session row holds when User-Agents are not tracked.
NO_DEVICE = {
    "user_agent": "",
    "device_type": DeviceType.OTHER.value,
    "browser": "",
    "browser_version": "",
    "os": "",
    "os_version": "",
}


@dataclass(frozen=True)
class Forgotten:
    """How many stored records :func:`forget_untracked` changed."""

    sessions: int
    events: int


def _batches(
    queryset: models.QuerySet[Any], fields: tuple[str, ...], size: int
) -> Iterator[list[tuple[Any, ...]]]:
    """``(pk, *fields)`` of every row, ``size`` at a time, by primary key."""
    last = None
    while True:
        page = queryset.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        rows = list(page.values_list("pk", *fields)[:size])
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _forget_in_sessions(size: int) -> int:
    changed = 0
    using = router.db_for_write(Session)
    fields = ("ip_address", "user_agent", "browser", "os")
    for rows in _batches(Session.objects.all(), fields, size):
        updates: dict[tuple[str | None, bool], list[str]] = {}
        for key_hash, ip, user_agent, browser, os in rows:
            new_ip = stored_ip(ip)
            clear_device = not conf.TRACK_USER_AGENT and any((user_agent, browser, os))
            if new_ip != ip or clear_device:
                updates.setdefault((new_ip, clear_device), []).append(key_hash)
        with transaction.atomic(using=using):
            for (new_ip, clear_device), key_hashes in updates.items():
                values: dict[str, Any] = {"ip_address": new_ip}
                if clear_device:
                    values.update(NO_DEVICE)
                Session.objects.using(using).filter(pk__in=key_hashes).update(**values)
                # Cached copies still hold the old activity: the next request
                # reloads the corrected row.
                evict_cached_sessions(key_hashes)
                changed += len(key_hashes)
    return changed


def _forget_in_events(size: int) -> int:
    changed = 0
    using = router.db_for_write(SessionEvent)
    fields = ("kind", "ip_address", "device", "detail")
    for rows in _batches(SessionEvent.objects.all(), fields, size):
        for pk, kind, ip, device, detail in rows:
            values: dict[str, Any] = {}
            if stored_ip(ip) != ip:
                values["ip_address"] = stored_ip(ip)
            if stored_user_agent(device) != device:
                values["device"] = ""
            if stored_detail(kind, detail) != detail:
                values["detail"] = stored_detail(kind, detail)
            if values:
                SessionEvent.objects.using(using).filter(pk=pk).update(**values)
                changed += 1
    return changed


def forget_untracked(*, batch_size: int = 1000) -> Forgotten:
    """Make stored sessions and events match the privacy settings now in force.

    With ``TRACK_IP`` off, addresses are removed; with ``ANONYMIZE_IP``, cut to
    their network; with ``TRACK_USER_AGENT`` off, User-Agents and the device,
    browser and OS parsed from them are removed. Events' addresses, device
    summaries and the ``from`` / ``to`` of IP and browser changes likewise.
    Cached copies of changed sessions are evicted (nobody is signed out: the
    next request reads the corrected row). Rows are read ``batch_size`` at a
    time. At the default settings nothing changes. Log lines already written
    are outside its reach.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size!r}.")
    if conf.client_filter is None:
        return Forgotten(sessions=0, events=0)
    return Forgotten(
        sessions=_forget_in_sessions(batch_size),
        events=_forget_in_events(batch_size),
    )
