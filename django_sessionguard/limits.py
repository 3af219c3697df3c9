"""The concurrent-session limit, enforced atomically at sign-in.

While the new session is bound to the user and the user's other sessions are
counted, the user's row is locked (``SELECT ... FOR UPDATE``), so simultaneous
sign-ins of one user in many processes on many machines are serialised by the
database: with a limit of 3, 20 parallel sign-ins leave exactly 3 sessions.
Without a limit nothing is locked.

``SESSIONGUARD_LIMIT_POLICY``:

* ``"evict_oldest"``: the sessions least recently active are ended; their
  owners are told why on their next request;
* ``"deny_new"``: the sign-in fails with :class:`SessionLimitExceeded`; the
  new session is discarded (nothing half-created). The middleware turns the
  exception into an answer the login page can show; a login form using
  :class:`SessionLimitFormMixin` shows the error inline instead.

Only live sessions count (:meth:`SessionQuerySet.live`, with the user's own
timeouts): a session past the idle or absolute timeout, or signed in before
``SESSIONGUARD_NOT_VALID_BEFORE``, takes no place. A sign-in that goes ahead
ends such sessions in the same transaction, recorded as their next request
would have recorded them (``expired_idle``, ``expired_absolute``,
``revoked_system``), so they are never evicted in place of a live one. A
refused sign-in changes nothing (the transaction is rolled back); while the
session cache cannot be reached they are left for their next request (their
cached copies could not be ended with them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import router, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import lazy

from django_sessionguard import liveness
from django_sessionguard.backends.base import SessionGuardStore, evict_cached_sessions
from django_sessionguard.base_session import SessionQuerySet
from django_sessionguard.conf import conf, resolve_per_user
from django_sessionguard.devices import parse_user_agent
from django_sessionguard.events import (
    EventData,
    EventKind,
    announce_events,
    record_events,
    store_events,
)
from django_sessionguard.faults import SessionCacheUnavailable
from django_sessionguard.models import Session
from django_sessionguard.new_device import login_detail
from django_sessionguard.responses import limit_message
from django_sessionguard.services import (
    ROW_FIELDS,
    ending_event,
    overdue_event,
    send_overdue_ended,
    send_sessions_ended,
)

#: The sign-in error, translated when shown.
LIMIT_MESSAGE = lazy(limit_message, str)()


class SessionLimitExceeded(PermissionDenied):
    """Sign-in refused by ``SESSIONGUARD_LIMIT_POLICY = "deny_new"``."""

    def __init__(self, message: Any = LIMIT_MESSAGE) -> None:
        super().__init__(message)
        self.message = message


def max_sessions_for(user: Any) -> int | None:
    """The number of concurrent sessions ``user`` may have (None: unlimited)."""
    return resolve_per_user(conf.MAX_SESSIONS, user, "SESSIONGUARD_MAX_SESSIONS")


def other_live_sessions(
    user: Any,
    current_key_hash: str | None,
    using: str | None = None,
    now: datetime | None = None,
) -> SessionQuerySet:
    """``user``'s sessions that count against the limit, besides the current one.

    The live ones (:meth:`SessionQuerySet.live`, with ``user``'s timeouts).
    """
    sessions = Session.objects.db_manager(using).live(now, user=user)
    if current_key_hash is not None:
        sessions = sessions.exclude(key_hash=current_key_hash)
    return sessions


def _other_sessions(
    user: Any,
    current_key_hash: str | None,
    using: str,
    now: datetime,
    found: list[liveness.Deadline],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``user``'s other unexpired sessions, least recently active first, in
    one query: ``(live, overdue)`` by ``found``'s deadlines, each row with its
    ``sessionguard_ending`` (see :meth:`SessionQuerySet.with_ending`)."""
    sessions = (
        Session.objects.using(using)
        .for_user(user)
        .active(now)
        .annotate(sessionguard_ending=liveness.ending(now, found))
    )
    if current_key_hash is not None:
        sessions = sessions.exclude(key_hash=current_key_hash)
    rows = list(
        sessions.order_by("last_activity").values(*ROW_FIELDS, "sessionguard_ending")
    )
    return (
        [row for row in rows if not row["sessionguard_ending"]],
        [row for row in rows if row["sessionguard_ending"]],
    )


def _client_event(
    kind: str, session: SessionGuardStore, user: Any, reference: str
) -> EventData:
    return EventData(
        kind=kind,
        session_ref=reference,
        user_id=user.pk,
        ip_address=session._client_ip,
        device=str(parse_user_agent(session._client_user_agent or "")),
        # A sign-in keeps its device family, compared by new-device detection.
        detail=login_detail(session) if kind == EventKind.LOGIN else {},
    )


def bind_login(request: HttpRequest, user: Any) -> None:
    """Bind the session to ``user`` under the limit, and record the sign-in.

    Called from the ``user_logged_in`` receiver. Raises
    :class:`SessionLimitExceeded` (after discarding the new session) when the
    policy is ``deny_new`` and the user is at the limit.
    """
    session = getattr(request, "session", None)
    if not isinstance(session, SessionGuardStore):
        return
    limit = max_sessions_for(user)
    if limit is None:
        # Nothing to count: the middleware saves the session with the
        # response, as for any other change.
        record_events(
            [_client_event(EventKind.LOGIN, session, user, session.reference or "")]
        )
        return
    using = router.db_for_write(Session)
    evicted: list[dict[str, Any]] = []
    overdue: list[dict[str, Any]] = []
    try:
        with transaction.atomic(using=using):
            # The lock that serialises concurrent sign-ins of this user. It is
            # taken before the count, and the count is a new statement, so it
            # sees every session committed by whoever held the lock before.
            list(
                get_user_model()
                ._default_manager.using(using)
                .select_for_update()
                .filter(pk=user.pk)
                .values_list("pk")
            )
            # Bound to the user before the lock is released, so the next
            # sign-in counts this session.
            session.save()
            session.mark_saved()
            now = timezone.now()
            found = liveness.deadlines(now, user)
            live, overdue = _other_sessions(user, session.key_hash, using, now, found)
            excess = len(live) + 1 - limit
            if excess > 0:
                if conf.LIMIT_POLICY == "deny_new":
                    raise SessionLimitExceeded()
                evicted = live[:excess]
            # Sessions already past a deadline take no place; they end here,
            # recorded as their next request would have recorded them.
            if overdue and not evicted:
                overdue = _seal_overdue(overdue)
            ended = [*overdue, *evicted]
            if ended:
                Session.objects.using(using).filter(
                    key_hash__in=[row["key_hash"] for row in ended]
                ).delete_rows()
            reference = session.reference or ""
            deadline_of = liveness.by_kind(found)
            events = store_events(
                [
                    *(
                        overdue_event(row, deadline_of[row["sessionguard_ending"]])
                        for row in overdue
                    ),
                    *(
                        ending_event(
                            row, kind=EventKind.EVICTED, detail={"by": reference}
                        )
                        for row in evicted
                    ),
                    _client_event(EventKind.LOGIN, session, user, reference),
                ]
            )
            if evicted:
                # Inside the transaction, as in services.end_sessions: a cache
                # failure undoes the endings instead of orphaning a copy.
                evict_cached_sessions(row["key_hash"] for row in ended)
    except SessionLimitExceeded:
        _discard_denied_login(request, session, user)
        raise
    announce_events(events)
    send_overdue_ended(overdue)
    if evicted:
        send_sessions_ended(evicted, kind=EventKind.EVICTED, actor=None)


def _seal_overdue(overdue: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Make the cached copies of sessions past a deadline unusable: those to end.

    Before their rows go, as the services do. When the session cache cannot
    be reached they are left alone (none, returned): they already take no
    place, and either copy of such a session ends the same way whenever it is
    used, so the sign-in need not wait for the cache.
    """
    try:
        evict_cached_sessions(row["key_hash"] for row in overdue)
    except SessionCacheUnavailable:
        return []
    return overdue


def _discard_denied_login(
    request: HttpRequest, session: SessionGuardStore, user: Any
) -> None:
    reference = session.reference or ""
    session.flush()
    request.user = AnonymousUser()
    record_events([_client_event(EventKind.LOGIN_DENIED, session, user, reference)])


def would_deny(request: HttpRequest | None, user: Any) -> bool:
    """Whether signing ``user`` in now would be refused by ``deny_new`` (one query).

    A courtesy check for login forms: the decision that counts is taken under
    the lock by :func:`bind_login`.
    """
    if conf.LIMIT_POLICY != "deny_new":
        return False
    limit = max_sessions_for(user)
    if limit is None:
        return False
    session = getattr(request, "session", None)
    current = session.key_hash if isinstance(session, SessionGuardStore) else None
    return other_live_sessions(user, current).count() >= limit


class SessionLimitFormMixin:
    """For an ``AuthenticationForm``: a sign-in the limit refuses is a form error.

    ``LoginView`` then renders the error inline, and the refusal is recorded
    (``login_denied``) without a session ever being created. A sign-in that
    passes this check but loses a race is still refused by :func:`bind_login`.
    """

    request: HttpRequest | None

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)  # type: ignore[misc]
        if would_deny(self.request, user):
            session = getattr(self.request, "session", None)
            if isinstance(session, SessionGuardStore):
                record_events(
                    [
                        _client_event(
                            EventKind.LOGIN_DENIED,
                            session,
                            user,
                            session.reference or "",
                        )
                    ]
                )
            raise forms.ValidationError(LIMIT_MESSAGE, code="session_limit")


class SessionLimitAuthenticationForm(SessionLimitFormMixin, AuthenticationForm):
    """``AuthenticationForm`` that shows the session-limit error inline."""
