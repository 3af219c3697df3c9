"""The one place that ends sessions.

Views, admin actions, management commands, receivers and the middleware all
call these functions, so every ending is recorded the same way: the row and
every cached copy are removed, an audit event names the actor and the reason,
and :data:`~django_sessionguard.signals.sessions_ended` is sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models, transaction

from django_sessionguard.backends.base import evict_cached_sessions
from django_sessionguard.devices import Device
from django_sessionguard.events import EventData, EventKind, record_events
from django_sessionguard.models import Session
from django_sessionguard.signals import sessions_ended

_ROW_FIELDS = (
    "key_hash",
    "reference",
    "user_id",
    "ip_address",
    "device_type",
    "browser",
    "browser_version",
    "os",
    "os_version",
)


def revocation_kind(actor: Any, owner_id: Any) -> str:
    """``revoked_user`` when owners act on their own sessions, ``revoked_staff``
    for anyone else, ``revoked_system`` when no person acted."""
    if actor is None:
        return EventKind.REVOKED_BY_SYSTEM
    if owner_id is not None and getattr(actor, "pk", None) == owner_id:
        return EventKind.REVOKED_BY_USER
    return EventKind.REVOKED_BY_STAFF


def device_summary(row: dict[str, Any]) -> str:
    return str(
        Device(
            user_agent="",
            device_type=row["device_type"],
            browser=row["browser"],
            browser_version=row["browser_version"],
            os=row["os"],
            os_version=row["os_version"],
        )
    )


def end_sessions(
    sessions: models.QuerySet[Session] | Iterable[Session],
    *,
    kind: str | None = None,
    actor: Any = None,
    reason: str = "",
) -> int:
    """End sessions everywhere and record why. Returns how many were ended.

    ``kind`` defaults to the revocation kind implied by ``actor`` (see
    :func:`revocation_kind`). Costs a constant number of queries (select,
    delete, one insert of events) and one cache delete, whatever the count.
    """
    if isinstance(sessions, models.QuerySet):
        queryset = sessions
    else:
        queryset = Session.objects.filter(pk__in=[s.pk for s in sessions])
    with transaction.atomic(using=queryset.db):
        rows = list(queryset.select_for_update().values(*_ROW_FIELDS))
        if not rows:
            return 0
        Session.objects.filter(pk__in=[row["key_hash"] for row in rows]).delete_rows()
        actor_id = getattr(actor, "pk", None)
        detail = {"reason": reason} if reason else {}
        record_events(
            EventData(
                kind=kind or revocation_kind(actor, row["user_id"]),
                session_ref=row["reference"],
                user_id=row["user_id"],
                actor_id=actor_id,
                ip_address=row["ip_address"],
                device=device_summary(row),
                detail=detail,
            )
            for row in rows
        )
    evict_cached_sessions(row["key_hash"] for row in rows)
    by_user: dict[Any, list[str]] = {}
    for row in rows:
        by_user.setdefault(row["user_id"], []).append(row["reference"])
    for user_id, references in by_user.items():
        sessions_ended.send(
            sender=Session,
            user_id=user_id,
            references=references,
            kind=kind or revocation_kind(actor, user_id),
            actor=actor,
        )
    return len(rows)


def revoke_session(
    user: Any, reference: str, *, actor: Any = None, reason: str = ""
) -> bool:
    """End ``user``'s session named by ``reference``. False if there is none.

    The owner is part of the lookup: a reference belonging to someone else
    behaves exactly like one that does not exist.
    """
    sessions = Session.objects.for_user(user).filter(reference=reference)
    return end_sessions(sessions, actor=actor, reason=reason) > 0


def revoke_other_sessions(
    user: Any,
    keep_reference: str | None,
    *,
    actor: Any = None,
    reason: str = "",
    kind: str | None = None,
) -> int:
    """End all of ``user``'s sessions except the one named ``keep_reference``."""
    sessions = Session.objects.for_user(user)
    if keep_reference:
        sessions = sessions.exclude(reference=keep_reference)
    return end_sessions(sessions, actor=actor, reason=reason, kind=kind)


def revoke_all_sessions(
    user: Any, *, actor: Any = None, reason: str = "", kind: str | None = None
) -> int:
    """End every session of ``user``."""
    return end_sessions(
        Session.objects.for_user(user), actor=actor, reason=reason, kind=kind
    )


def live_sessions(user: Any) -> models.QuerySet[Session]:
    """``user``'s live sessions, most recently active first (one query)."""
    return Session.objects.for_user(user).active().order_by("-last_activity")
