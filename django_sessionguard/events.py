"""Recording the audit trail: a row, a signal and one structured log line per event."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger("django_sessionguard")


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


#: Kinds a security reviewer wants to see first.
SECURITY_KINDS = (
    EventKind.EVICTED,
    EventKind.LOGIN_DENIED,
    EventKind.IP_CHANGED,
    EventKind.UA_CHANGED,
    EventKind.REVOKED_BY_STAFF,
    EventKind.REVOKED_BY_SYSTEM,
    EventKind.PASSWORD_CHANGED,
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


def _log(event: Any) -> None:
    fields = {
        "event": event.kind,
        "at": event.timestamp.isoformat(),
        "session": event.session_ref,
        "user_id": event.user_id,
        "actor_id": event.actor_id,
        "ip": event.ip_address,
        "device": event.device,
        **({"detail": event.detail} if event.detail else {}),
    }
    # json.dumps escapes control characters, so a hostile User-Agent cannot
    # forge extra log lines.
    logger.info(
        "sessionguard %s",
        json.dumps(fields, default=str, ensure_ascii=True),
        extra={"sessionguard_event": fields},
    )


def record_events(items: Iterable[EventData]) -> list[Any]:
    """Store events in one INSERT, then signal and log each."""
    from django_sessionguard.models import SessionEvent
    from django_sessionguard.signals import session_event

    now = timezone.now()
    events = [
        SessionEvent(
            kind=item.kind,
            timestamp=now,
            session_ref=item.session_ref,
            user_id=item.user_id,
            actor_id=item.actor_id,
            ip_address=item.ip_address,
            device=item.device[:128],
            detail=item.detail,
        )
        for item in items
    ]
    if not events:
        return []
    SessionEvent.objects.bulk_create(events)
    for event in events:
        session_event.send(sender=SessionEvent, event=event)
        _log(event)
    return events


def record_event(kind: str, **fields: Any) -> Any:
    """Store one event (see :class:`EventData` for the fields)."""
    return record_events([EventData(kind=kind, **fields)])[0]
