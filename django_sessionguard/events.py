"""Recording the audit trail: a row, a signal and one structured log line per event.

Storing and announcing are separate steps so that code recording events inside
a transaction (sign-in under the session limit, revocation) can announce them
only once that transaction has succeeded: a SIEM never hears of an event the
database rolled back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_sessionguard.models import SessionEvent

logger = logging.getLogger("django_sessionguard")

#: Characters of the device summary kept on an event.
DEVICE_MAX_LENGTH = 128


class EventKind(models.TextChoices):
    CREATED = "created", _("Session created")
    LOGIN = "login", _("Signed in")
    LOGOUT = "logout", _("Signed out")
    EXPIRED_IDLE = "expired_idle", _("Expired (inactivity)")
    EXPIRED_ABSOLUTE = "expired_absolute", _("Expired (maximum duration)")
    REVOKED_BY_USER = "revoked_user", _("Revoked by the user")
    REVOKED_BY_STAFF = "revoked_staff", _("Revoked by staff")
    REVOKED_BY_SYSTEM = "revoked_system", _("Revoked by the system")
    EVICTED = "evicted", _("Evicted by the session limit")
    LOGIN_DENIED = "login_denied", _("Sign-in denied by the session limit")
    IP_CHANGED = "ip_changed", _("IP address changed")
    UA_CHANGED = "ua_changed", _("Browser changed")
    PASSWORD_CHANGED = "password_changed", _("Password changed")
    KEY_GUESSING = "key_guessing", _("Session-key guessing suspected")
    NEW_DEVICE = "new_device", _("Signed in from a new device")
    NEW_DEVICE_REPORTED = (
        "new_device_reported",
        _("New-device sign-in reported: signed out everywhere"),
    )


class EndReason(models.TextChoices):
    """Why the system ended a session, kept as an event's ``detail["reason"]``."""

    PASSWORD_CHANGED = "password_changed", _("Password changed")
    USER_DEACTIVATED = "user_deactivated", _("User deactivated")
    USER_DELETED = "user_deleted", _("User deleted")
    NOT_VALID_BEFORE = "not_valid_before", _("Started before the cut-off")
    IP_CHANGED = "ip_changed", _("IP address changed")
    UA_CHANGED = "ua_changed", _("Browser changed")
    NEW_DEVICE_LINK = (
        "new_device_link",
        _("Signed out everywhere from a new-device email"),
    )


#: Kinds a security reviewer wants to see first.
SECURITY_KINDS = (
    EventKind.EVICTED,
    EventKind.LOGIN_DENIED,
    EventKind.IP_CHANGED,
    EventKind.UA_CHANGED,
    EventKind.REVOKED_BY_STAFF,
    EventKind.REVOKED_BY_SYSTEM,
    EventKind.PASSWORD_CHANGED,
    EventKind.KEY_GUESSING,
    EventKind.NEW_DEVICE,
    EventKind.NEW_DEVICE_REPORTED,
)

#: Kinds that end a session (the row is gone once one is recorded).
ENDING_KINDS = (
    EventKind.LOGOUT,
    EventKind.EXPIRED_IDLE,
    EventKind.EXPIRED_ABSOLUTE,
    EventKind.REVOKED_BY_USER,
    EventKind.REVOKED_BY_STAFF,
    EventKind.REVOKED_BY_SYSTEM,
    EventKind.EVICTED,
)


@dataclass
class EventData:
    """One event before it is stored."""

    kind: str
    session_ref: str = ""
    user_id: Any = None
    actor_id: Any = None
    ip_address: str | None = None
    device: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


def log_fields(event: SessionEvent) -> dict[str, Any]:
    """The structured form of an event, as logged (no secrets: references only)."""
    return {
        "event": event.kind,
        "at": event.timestamp.isoformat(),
        "session": event.session_ref,
        "user_id": event.user_id,
        "actor_id": event.actor_id,
        "ip": event.ip_address,
        "device": event.device,
        **({"detail": event.detail} if event.detail else {}),
    }


def _log(event: SessionEvent) -> None:
    fields = log_fields(event)
    # json.dumps escapes control characters (and ensure_ascii everything else
    # unusual), so a hostile User-Agent cannot forge extra log lines.
    logger.info(
        "sessionguard %s",
        json.dumps(fields, default=str, ensure_ascii=True, sort_keys=True),
        extra={"sessionguard_event": fields},
    )


def store_events(items: Iterable[EventData]) -> list[SessionEvent]:
    """Insert events in one statement, without announcing them yet.

    IP addresses and device summaries are kept only as far as the privacy
    settings allow (:func:`django_sessionguard.privacy.filter_events`).
    """
    from django_sessionguard.models import SessionEvent
    from django_sessionguard.privacy import filter_events

    items = filter_events(items)
    now = timezone.now()
    events = [
        SessionEvent(
            kind=item.kind,
            timestamp=now,
            session_ref=item.session_ref,
            user_id=item.user_id,
            actor_id=item.actor_id,
            ip_address=item.ip_address,
            device=item.device[:DEVICE_MAX_LENGTH],
            detail=item.detail,
        )
        for item in items
    ]
    if len(events) == 1:
        # One INSERT, without the BEGIN/COMMIT that bulk_create wraps it in.
        events[0].save(force_insert=True)
    elif events:
        SessionEvent.objects.bulk_create(events)
    return events


def announce_events(events: Sequence[SessionEvent]) -> None:
    """Send :data:`~django_sessionguard.signals.session_event` and log each event."""
    from django_sessionguard.models import SessionEvent
    from django_sessionguard.signals import session_event

    for event in events:
        session_event.send(sender=SessionEvent, event=event)
        _log(event)


def record_events(items: Iterable[EventData]) -> list[SessionEvent]:
    """Store events in one INSERT, then signal and log each."""
    events = store_events(items)
    announce_events(events)
    return events


def record_event(kind: str, **fields: Any) -> SessionEvent:
    """Store and announce one event (see :class:`EventData` for the fields)."""
    return record_events([EventData(kind=kind, **fields)])[0]
