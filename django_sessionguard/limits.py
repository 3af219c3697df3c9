"""The concurrent-session limit, enforced atomically at sign-in.

The user's row is locked (``SELECT … FOR UPDATE``) while the new session is
bound to the user and the others are counted, so simultaneous sign-ins of one
user on many machines are serialised by the database: with a limit of 3, 20
parallel sign-ins leave exactly 3 sessions.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import router, transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from django_sessionguard.backends.base import SessionGuardStore, evict_cached_sessions
from django_sessionguard.conf import conf, resolve_per_user
from django_sessionguard.devices import parse_user_agent
from django_sessionguard.events import EventData, EventKind, record_events
from django_sessionguard.models import Session
from django_sessionguard.services import device_summary

LIMIT_MESSAGE = _(
    "You are already signed in on the maximum number of devices. Sign out on "
    "another device, then try again."
)


class SessionLimitExceeded(PermissionDenied):
    """Sign-in refused by ``SESSIONGUARD_LIMIT_POLICY = "deny_new"``."""

    def __init__(self, message: Any = LIMIT_MESSAGE) -> None:
        super().__init__(message)
        self.message = message


def max_sessions_for(user: Any) -> int | None:
    """The number of concurrent sessions ``user`` may have (None: unlimited)."""
    return resolve_per_user(conf.MAX_SESSIONS, user, "SESSIONGUARD_MAX_SESSIONS")


def _evicted_fields(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "session_ref": row["reference"],
        "user_id": row["user_id"],
        "ip_address": row["ip_address"],
        "device": device_summary(row),
    }


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
    using = router.db_for_write(Session)
    evicted: list[dict[str, Any]] = []
    try:
        with transaction.atomic(using=using):
            user_model = get_user_model()
            # The lock that serialises concurrent sign-ins of this user.
            list(
                user_model._default_manager.using(using)
                .select_for_update()
                .filter(pk=user.pk)
                .values_list("pk")
            )
            session.save()
            session.mark_saved()
            current = session.key_hash
            if limit is not None:
                others = list(
                    Session.objects.using(using)
                    .for_user(user)
                    .active()
                    .exclude(key_hash=current)
                    .order_by("last_activity")
                    .values(
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
                )
                excess = len(others) + 1 - limit
                if excess > 0:
                    if conf.LIMIT_POLICY == "deny_new":
                        raise SessionLimitExceeded()
                    evicted = others[:excess]
                    Session.objects.using(using).filter(
                        key_hash__in=[row["key_hash"] for row in evicted]
                    ).delete_rows()
            device = str(parse_user_agent(session._client_user_agent or ""))
            record_events(
                [
                    *(
                        EventData(
                            kind=EventKind.EVICTED,
                            detail={"by": session.reference},
                            **_evicted_fields(row),
                        )
                        for row in evicted
                    ),
                    EventData(
                        kind=EventKind.LOGIN,
                        session_ref=session.reference or "",
                        user_id=user.pk,
                        ip_address=session._client_ip,
                        device=device,
                    ),
                ]
            )
    except SessionLimitExceeded:
        _discard_denied_login(request, session, user)
        raise
    if evicted:
        evict_cached_sessions(row["key_hash"] for row in evicted)


def _discard_denied_login(
    request: HttpRequest, session: SessionGuardStore, user: Any
) -> None:
    reference = session.reference or ""
    session.flush()
    request.user = AnonymousUser()
    record_events(
        [
            EventData(
                kind=EventKind.LOGIN_DENIED,
                session_ref=reference,
                user_id=user.pk,
                ip_address=session._client_ip,
                device=str(parse_user_agent(session._client_user_agent or "")),
            )
        ]
    )
