"""The one place that ends sessions.

Views, admin actions, management commands, receivers and the middleware all
call these functions, so every ending is recorded the same way: the row and
every cached copy are removed, an audit event names the actor and the reason,
and :data:`~django_sessionguard.signals.sessions_ended` is sent.

Public API (documented in ``docs/lifecycle.md``):

* :func:`revoke_session` - end one session of a user, by its public reference;
* :func:`revoke_other_sessions` - end all of a user's sessions but one;
* :func:`revoke_all_sessions` - end every session of a user;
* :func:`end_sessions_after_password_change` - end all of a user's sessions
  but one after a password change, also while the session cache is down;
* :func:`revoke_sessions_before` - a per-user "not valid before": end every
  session of a user that signed in before an instant;
* :func:`end_sessions` - end any set of sessions (what the others call);
* :func:`live_sessions` - a user's live sessions;
* :func:`erase_user_history` - end a user's sessions and delete their audit
  events (a privacy request; also ``manage.py sessionguard_erase_user``).

Each has an ``a``-prefixed async twin. ``actor`` is the user who acted (the
owner: "revoked by user"; anyone else: "revoked by staff") or ``None`` (the
system).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.db import connections, models, router, transaction
from django.utils import timezone

from django_sessionguard import liveness
from django_sessionguard.auth_hash import refused_hash
from django_sessionguard.backends.base import SessionGuardStore, evict_cached_sessions
from django_sessionguard.base_session import SessionQuerySet
from django_sessionguard.devices import Device, parse_user_agent
from django_sessionguard.events import (
    EndReason,
    EventData,
    EventKind,
    announce_events,
    record_events,
    store_events,
)
from django_sessionguard.faults import SessionCacheUnavailable
from django_sessionguard.keys import is_reference
from django_sessionguard.models import Session, SessionEvent
from django_sessionguard.signals import sessions_ended

logger = logging.getLogger("django_sessionguard")

#: Columns read from a session row to record its ending.
ROW_FIELDS = (
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
    """ "Chrome 120 on Windows 10" from a row's parsed columns."""
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


def ending_event(
    row: dict[str, Any],
    *,
    kind: str,
    actor_id: Any = None,
    detail: dict[str, Any] | None = None,
) -> EventData:
    """The event recording the end of the session described by ``row``."""
    return EventData(
        kind=kind,
        session_ref=row["reference"],
        user_id=row["user_id"],
        actor_id=actor_id,
        ip_address=row["ip_address"],
        device=device_summary(row),
        detail=detail or {},
    )


def send_sessions_ended(
    rows: Iterable[dict[str, Any]], *, kind: str | None, actor: Any
) -> None:
    """Send :data:`~django_sessionguard.signals.sessions_ended`, once per owner."""
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


def _locked(queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
    # Lock only the session rows, even when the filter joins other tables
    # (PostgreSQL refuses FOR UPDATE on the nullable side of an outer join).
    features = connections[queryset.db].features
    if features.has_select_for_update_of:
        return queryset.select_for_update(of=("self",))
    return queryset.select_for_update()


def end_sessions(
    sessions: models.QuerySet[Any] | Iterable[Any],
    *,
    kind: str | None = None,
    actor: Any = None,
    reason: str = "",
) -> int:
    """End sessions everywhere and record why. Returns how many were ended.

    ``kind`` defaults to the revocation kind implied by ``actor`` (see
    :func:`revocation_kind`); ``reason`` is kept as the events'
    ``detail["reason"]``. Costs a constant number of queries whatever the
    count (lock and read the rows, delete them, insert the events) and one
    cache ``delete_many`` (a single ``DEL`` on Redis).

    All or nothing: if the cached copies cannot be evicted the exception
    propagates, nothing is ended, and calling again retries the whole thing.
    """
    if isinstance(sessions, models.QuerySet):
        queryset = sessions
    else:
        queryset = Session.objects.filter(pk__in=[s.pk for s in sessions])
    return len(_end(queryset, kind=kind, actor=actor, reason=reason))


def _end(
    queryset: models.QuerySet[Any],
    *,
    kind: str | None,
    actor: Any,
    reason: str,
    owner: Any = None,
    refused_only: bool = False,
) -> list[dict[str, Any]]:
    """End the sessions of ``queryset``; returns their rows.

    With ``owner`` (the user whose sessions these are), a row that is no
    longer live (see :meth:`SessionQuerySet.live`) is not recorded as
    revoked: past a timeout or the not-valid-before cut-off, it is recorded
    as what its next request would have recorded (``expired_idle``...,
    nobody acting); past its expiry date, it is deleted without an event, as
    ``clearsessions`` would. Its ``sessionguard_ending`` says which (``""``:
    it was live and is now revoked).

    With ``refused_only`` (and ``owner``), only the sessions Django's own
    check refuses for good are ended (:mod:`~django_sessionguard.auth_hash`),
    and no tombstones are written: for when the cache cannot be reached.
    """
    now = timezone.now()
    found = liveness.deadlines(now, owner) if owner is not None else []
    deadline_of = liveness.by_kind(found)
    actor_id = getattr(actor, "pk", None)
    detail = {"reason": reason} if reason else {}
    with transaction.atomic(using=queryset.db):
        rows = _locked_rows(queryset, now, found, owner, with_data=refused_only)
        if refused_only:
            rows = [row for row in rows if _refused(row, owner)]
        if not rows:
            return []
        Session.objects.using(queryset.db).filter(
            pk__in=[row["key_hash"] for row in rows]
        ).delete_rows()
        events = store_events(
            ending_event(
                row,
                kind=kind or revocation_kind(actor, row["user_id"]),
                actor_id=actor_id,
                detail=detail,
            )
            if not row["sessionguard_ending"]
            else overdue_event(row, deadline_of[row["sessionguard_ending"]])
            for row in rows
            if row["sessionguard_ending"] != liveness.EXPIRED
        )
        if not refused_only:
            # Last, inside the transaction: if the cache cannot be cleared
            # this raises, the rows come back, and the revocation can simply
            # be retried. (After the commit, a failure would leave a usable
            # cached copy whose key nothing remembers.)
            evict_cached_sessions(row["key_hash"] for row in rows)
    announce_events(events)
    send_sessions_ended(
        [row for row in rows if not row["sessionguard_ending"]], kind=kind, actor=actor
    )
    send_overdue_ended(rows)
    return rows


def _locked_rows(
    queryset: models.QuerySet[Any],
    now: datetime,
    found: list[liveness.Deadline],
    owner: Any,
    *,
    with_data: bool,
) -> list[dict[str, Any]]:
    """Lock and read the rows of ``queryset`` (inside a transaction)."""
    selected = _locked(queryset)
    fields = (*ROW_FIELDS, "session_data") if with_data else ROW_FIELDS
    if owner is None:
        return [{**row, "sessionguard_ending": ""} for row in selected.values(*fields)]
    return list(
        selected.annotate(sessionguard_ending=liveness.ending(now, found)).values(
            *fields, "sessionguard_ending"
        )
    )


def _refused(row: dict[str, Any], owner: Any) -> bool:
    """Whether Django's own check refuses the session of ``row`` for good."""
    data = Session.get_session_store_class()().decode(row["session_data"])
    return refused_hash(data, owner)


def overdue_event(row: dict[str, Any], deadline: liveness.Deadline) -> EventData:
    """The event recording that the session of ``row`` ended past ``deadline``.

    What the middleware records when it finds such a session on a request:
    the deadline's kind and detail, nobody acting.
    """
    return ending_event(row, kind=deadline.kind, detail=deadline.detail())


def send_overdue_ended(rows: Iterable[dict[str, Any]]) -> None:
    """Send ``sessions_ended`` for the rows ended past a deadline, per kind."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        ending = row["sessionguard_ending"]
        if ending and ending != liveness.EXPIRED:
            by_kind.setdefault(ending, []).append(row)
    for ending, ended in by_kind.items():
        send_sessions_ended(ended, kind=ending, actor=None)


def _live_count(rows: list[dict[str, Any]]) -> int:
    return sum(1 for row in rows if not row["sessionguard_ending"])


def revoke_session(
    user: Any, reference: str, *, actor: Any = None, reason: str = ""
) -> bool:
    """End ``user``'s live session named by ``reference``. False if there is none.

    The owner is part of the lookup: a reference belonging to someone else
    behaves exactly like one that does not exist, and so does a malformed one.
    A session that is no longer live (past a timeout, see
    :meth:`SessionQuerySet.live`) is ended as what ended it, not as revoked,
    and gives False too.
    """
    if not is_reference(reference):
        return False
    sessions = Session.objects.for_user(user).filter(reference=reference)
    rows = _end(sessions, kind=None, actor=actor, reason=reason, owner=user)
    return _live_count(rows) > 0


def revoke_other_sessions(
    user: Any,
    keep_reference: str | None,
    *,
    actor: Any = None,
    reason: str = "",
    kind: str | None = None,
) -> int:
    """End all of ``user``'s sessions except the one named ``keep_reference``.

    Returns how many *live* sessions were ended. Sessions already past a
    timeout go too, recorded as what ended them (``expired_idle``...), and
    are not counted: the devices page never listed them. A ``keep_reference``
    that is not a well-formed reference names no session, on every database
    (MySQL's case-insensitive collations would otherwise keep the session
    ``"ABC..."`` names as if it were ``"abc..."``).
    """
    sessions = Session.objects.for_user(user)
    if keep_reference and is_reference(keep_reference):
        sessions = sessions.exclude(reference=keep_reference)
    return _live_count(
        _end(sessions, kind=kind, actor=actor, reason=reason, owner=user)
    )


def end_sessions_after_password_change(
    user: Any, keep_reference: str | None, *, actor: Any = None
) -> int:
    """End ``user``'s sessions but ``keep_reference`` after a password change.

    As :func:`revoke_other_sessions` (reason ``password_changed``) while the
    session cache answers. When it cannot be reached, the password change has
    already been saved and must not fail, so the sessions Django's own check
    now refuses (every one signed in with the old password:
    :mod:`~django_sessionguard.auth_hash`) are ended in the database only,
    recorded as usual: a cached copy they leave behind carries the refused
    password hash, so Django signs it out wherever it is used, and the first
    such use once the cache answers writes its tombstone. Any other session
    (one the check would still accept) is left as it is and counted in the
    ``ERROR`` logged, to be revoked once the cache answers. Returns how many
    live sessions were ended.
    """
    try:
        return revoke_other_sessions(
            user, keep_reference, actor=actor, reason=EndReason.PASSWORD_CHANGED
        )
    except SessionCacheUnavailable:
        pass
    sessions = Session.objects.for_user(user)
    if keep_reference and is_reference(keep_reference):
        sessions = sessions.exclude(reference=keep_reference)
    rows = _end(
        sessions,
        kind=None,
        actor=actor,
        reason=EndReason.PASSWORD_CHANGED,
        owner=user,
        refused_only=True,
    )
    _log_left_after_password_change(sessions.count(), len(rows))
    return _live_count(rows)


def _log_left_after_password_change(left: int, ended: int) -> None:
    if ended:
        logger.warning(
            "Session cache unavailable: %d session(s) signed in with the old "
            "password were ended in the database only; Django's session check "
            "refuses any cached copy of them.",
            ended,
        )
    if left:
        logger.error(
            "Session cache unavailable: %d other session(s) of a user whose "
            "password changed could not be ended; revoke them once the cache "
            "answers.",
            left,
        )


def revoke_all_sessions(
    user: Any, *, actor: Any = None, reason: str = "", kind: str | None = None
) -> int:
    """End every session of ``user``; returns how many live ones were ended
    (counted as by :func:`revoke_other_sessions`)."""
    return _live_count(
        _end(
            Session.objects.for_user(user),
            kind=kind,
            actor=actor,
            reason=reason,
            owner=user,
        )
    )


def revoke_sessions_before(
    user: Any, when: datetime, *, actor: Any = None, reason: str = ""
) -> int:
    """A per-user "not valid before": end ``user``'s sessions signed in before ``when``.

    Sessions whose sign-in time is unknown count as older. Constant cost, like
    :func:`end_sessions`; returns how many live sessions were ended (counted
    as by :func:`revoke_other_sessions`). (The global cut-off is the
    ``SESSIONGUARD_NOT_VALID_BEFORE`` setting, checked at no cost per request.)
    """
    sessions = Session.objects.for_user(user).filter(
        models.Q(authenticated_at__lt=when) | models.Q(authenticated_at__isnull=True)
    )
    return _live_count(
        _end(sessions, kind=None, actor=actor, reason=reason, owner=user)
    )


def live_sessions(user: Any) -> SessionQuerySet:
    """``user``'s live sessions, most recently active first (one query).

    Live as :meth:`SessionQuerySet.live` says, with ``user``'s own timeouts:
    a session the next request would end (past the idle or absolute timeout,
    or signed in before ``SESSIONGUARD_NOT_VALID_BEFORE``) is not listed.
    """
    return Session.objects.live(user=user).order_by("-last_activity")


def end_current_session(
    session: SessionGuardStore,
    kind: str,
    *,
    reason: str = "",
    actor: Any = None,
    detail: dict[str, Any] | None = None,
    past_deadline: bool = False,
) -> None:
    """End the session a request is using: row and cache gone, event recorded.

    For timeouts and context changes found by the middleware. The store is
    flushed, so the rest of the request is anonymous.

    When the session cache cannot be cleared this raises
    :class:`~django_sessionguard.faults.SessionCacheUnavailable` with nothing
    done, unless ``past_deadline``: a session ended by a deadline its own data
    carries (timeouts, the "not valid before" cut-off) keeps its row and cached
    copy until the cache answers, since either copy ends the same way whenever
    it is used. The request is still anonymous and the event recorded.
    """
    row = {
        "reference": session.reference or "",
        "user_id": session._user_id(dict(session.items())),
    }
    event_detail = {**(detail or {}), **({"reason": reason} if reason else {})}
    try:
        session.flush()
    except SessionCacheUnavailable:
        if not past_deadline:
            raise
        session.clear()
        session._session_key = None
    record_events(
        [
            EventData(
                kind=kind,
                session_ref=row["reference"],
                user_id=row["user_id"],
                actor_id=getattr(actor, "pk", None),
                ip_address=session._client_ip,
                device=str(parse_user_agent(session._client_user_agent or "")),
                detail=event_detail,
            )
        ]
    )
    send_sessions_ended([row], kind=kind, actor=actor)


@dataclass(frozen=True)
class Erasure:
    """What :func:`erase_user_history` did."""

    sessions_ended: int
    events_deleted: int


def erase_user_history(user: Any, *, batch_size: int = 1000) -> Erasure:
    """End every session of ``user`` and delete their session history.

    For a privacy request (right to erasure): the sessions end through
    :func:`revoke_all_sessions` (rows and cached copies gone on every engine,
    reason ``"erasure"``), then every audit event about ``user`` is deleted,
    the revocations just recorded included, ``batch_size`` rows per
    statement. Events in which ``user`` only acted on someone else's session
    stay in that person's history. One line with the user id and the two
    counts is logged, so the erasure itself leaves a trace. Call it before
    deleting the user: deletion empties the events' user column, after which
    they cannot be told apart.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size!r}.")
    ended = revoke_all_sessions(user, reason="erasure")
    events = SessionEvent.objects.filter(user=user).order_by("pk")
    using = router.db_for_write(SessionEvent)
    deleted = 0
    while True:
        ids = list(events.values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        count, _by_model = SessionEvent.objects.using(using).filter(pk__in=ids).delete()
        deleted += count
        if len(ids) < batch_size:
            break
    logger.info(
        "sessionguard erase user_id=%s sessions_ended=%d events_deleted=%d",
        user.pk,
        ended,
        deleted,
    )
    return Erasure(sessions_ended=ended, events_deleted=deleted)


# -- async twins ---------------------------------------------------------------

aend_sessions = sync_to_async(end_sessions)
arevoke_session = sync_to_async(revoke_session)
arevoke_other_sessions = sync_to_async(revoke_other_sessions)
arevoke_all_sessions = sync_to_async(revoke_all_sessions)
arevoke_sessions_before = sync_to_async(revoke_sessions_before)
aerase_user_history = sync_to_async(erase_user_history)
aend_sessions_after_password_change = sync_to_async(end_sessions_after_password_change)
