"""The "This wasn't me" link of a new-device email: signed, expiring, single-use.

A link names the user and the reported session by its public reference (never
its key), signed with :mod:`django.core.signing` (salted and timestamped, with
``SECRET_KEY`` and its fallbacks) and honoured for
``SESSIONGUARD_NEW_DEVICE_LINK_MAX_AGE`` after it was made.

It is single-use through the audit trail: using it records a
``new_device_reported`` event for that session reference, and a link whose
reference has one is spent. The check and the use run in one transaction
under a lock on the user's row, so two clicks at once end the sessions once.
A link is honoured only while the ``new_device`` event it was issued for
exists: events go oldest first, so a link cannot outlive the record of its use
and be replayed (erasing a user's history spends every link too).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.db.models import TextChoices

from django_sessionguard import services
from django_sessionguard.conf import conf
from django_sessionguard.events import (
    EndReason,
    EventData,
    EventKind,
    announce_events,
    store_events,
)
from django_sessionguard.keys import REFERENCE_LENGTH
from django_sessionguard.models import SessionEvent

#: Namespaces the signature: no other signed value of the site is a valid link.
SALT = "django_sessionguard.new_device_link"


class LinkError(Exception):
    """A link that cannot be used: tampered with, malformed, or expired."""

    expired = False


class LinkExpired(LinkError):
    """A genuine link older than ``SESSIONGUARD_NEW_DEVICE_LINK_MAX_AGE``."""

    expired = True


@dataclass(frozen=True, slots=True)
class Link:
    """What a valid link names."""

    user_id: str
    reference: str


class LinkState(TextChoices):
    OPEN = "open"
    USED = "used"
    #: No ``new_device`` event for it (erased, purged, or the user is gone).
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class LinkStatus:
    state: str
    #: The ``new_device`` event the link reports (None when UNKNOWN).
    event: SessionEvent | None = None
    #: Whether this call used the link (:func:`use_link`), and what it ended.
    used_now: bool = False
    ended: int = 0


def make_token(user: Any, reference: str) -> str:
    """The signed token of ``user``'s link for the session ``reference``."""
    return signing.dumps({"u": str(user.pk), "r": reference}, salt=SALT)


def read_token(token: str) -> Link:
    """The link ``token`` names; raises :class:`LinkError` / :class:`LinkExpired`."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=conf.NEW_DEVICE_LINK_MAX_AGE)
    except signing.SignatureExpired:
        raise LinkExpired() from None
    except (signing.BadSignature, ValueError):
        raise LinkError() from None
    if not isinstance(payload, dict):
        raise LinkError()
    user_id, reference = payload.get("u"), payload.get("r")
    if (
        not isinstance(user_id, str)
        or not isinstance(reference, str)
        or len(reference) != REFERENCE_LENGTH
    ):
        raise LinkError()
    return Link(user_id=user_id, reference=reference)


def link_user(link: Link) -> Any:
    """The user a link belongs to, or None if there is no longer one."""
    try:
        return get_user_model()._default_manager.filter(pk=link.user_id).first()
    except (ValueError, ValidationError):
        return None


def link_status(user: Any, reference: str, using: str | None = None) -> LinkStatus:
    """Whether ``user``'s link for ``reference`` is open, used or unknown (1 query)."""
    found = {
        event.kind: event
        for event in SessionEvent.objects.using(using).filter(
            user=user,
            session_ref=reference,
            kind__in=[EventKind.NEW_DEVICE, EventKind.NEW_DEVICE_REPORTED],
        )
    }
    detected = found.get(EventKind.NEW_DEVICE)
    if detected is None:
        return LinkStatus(LinkState.UNKNOWN)
    if EventKind.NEW_DEVICE_REPORTED in found:
        return LinkStatus(LinkState.USED, detected)
    return LinkStatus(LinkState.OPEN, detected)


def use_link(
    user: Any, reference: str, *, ip_address: str | None, device: str
) -> LinkStatus:
    """Sign ``user`` out everywhere and spend the link, if it is still open.

    The sessions end through :func:`services.revoke_all_sessions` as revoked
    by the user, reason ``new_device_link``; a ``new_device_reported`` event
    records who clicked (``ip_address``, ``device``) and how many sessions
    ended. Returns the link's status, with ``used_now`` when this call used it.
    """
    using = router.db_for_write(SessionEvent)
    with transaction.atomic(using=using):
        # Serialises concurrent uses of this user's links (a no-op on SQLite,
        # which serialises writers anyway).
        list(
            get_user_model()
            ._default_manager.using(using)
            .select_for_update()
            .filter(pk=user.pk)
            .values_list("pk")
        )
        status = link_status(user, reference, using)
        if status.state != LinkState.OPEN:
            return status
        ended = services.revoke_all_sessions(
            user, actor=user, reason=EndReason.NEW_DEVICE_LINK
        )
        events = store_events(
            [
                EventData(
                    kind=EventKind.NEW_DEVICE_REPORTED,
                    session_ref=reference,
                    user_id=user.pk,
                    actor_id=user.pk,
                    ip_address=ip_address,
                    device=device,
                    detail={"ended": ended},
                )
            ]
        )
    announce_events(events)
    return LinkStatus(LinkState.USED, status.event, used_now=True, ended=ended)
