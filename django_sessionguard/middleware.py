"""``SessionGuardMiddleware``: Django's session middleware, plus policy.

A subclass of :class:`~django.contrib.sessions.middleware.SessionMiddleware`
(so ``admin.E410`` and code looking for the session middleware keep working).
It keeps Django's request and response handling and adds, around them:

* binding the client's IP and User-Agent to the store;
* ending signed-in sessions past their idle or absolute deadline, or whose
  browser or network changed when policy says so;
* telling a client whose session was revoked why, once;
* recording throttled activity after the response (not for passive requests);
* turning a sign-in refused by the session limit into a clear answer.
"""

from __future__ import annotations

import contextvars
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseBase

from django_sessionguard import lifecycle
from django_sessionguard.backends.base import SessionGuardStore
from django_sessionguard.conf import conf
from django_sessionguard.events import EventData, EventKind, record_events
from django_sessionguard.keys import hash_key, is_well_formed, reference_for
from django_sessionguard.limits import SessionLimitExceeded
from django_sessionguard.network import get_client_ip
from django_sessionguard.responses import ended_response, set_ended_cookie

logger = logging.getLogger("django_sessionguard")

#: The session of the request being handled (used to keep it on password change).
current_session: contextvars.ContextVar[SessionGuardStore | None] = (
    contextvars.ContextVar("sessionguard_current_session", default=None)
)

#: Events that explain to a returning client why its cookie no longer works.
ENDING_KINDS = (
    EventKind.EVICTED,
    EventKind.REVOKED_BY_USER,
    EventKind.REVOKED_BY_STAFF,
    EventKind.REVOKED_BY_SYSTEM,
    EventKind.PASSWORD_CHANGED,
)


def is_passive(request: HttpRequest) -> bool:
    """Whether this request does not count as activity."""
    if getattr(request, "_sessionguard_passive", False):
        return True
    return (
        request.path_info.startswith(conf.PASSIVE_PATHS)
        if conf.PASSIVE_PATHS
        else False
    )


class SessionGuardMiddleware(SessionMiddleware):
    """Use in place of ``django.contrib.sessions.middleware.SessionMiddleware``."""

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        super().process_request(request)
        session = request.session
        if not isinstance(session, SessionGuardStore):
            return None
        session.bind_request(
            ip_address=get_client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT"),
        )
        current_session.set(session)
        if session.session_key is None:
            return None
        return self.enforce_policy(request, session)

    def enforce_policy(
        self, request: HttpRequest, session: SessionGuardStore
    ) -> HttpResponse | None:
        """End the session here if a deadline passed or policy forbids a change."""
        cookie_key = session.session_key
        session._get_session()
        if session.session_key is None:
            self._explain_dead_cookie(request, cookie_key)
            return None

        def load_user() -> Any:
            if not hasattr(request, "_cached_user"):
                request._cached_user = get_user(request)  # type: ignore[attr-defined]
            return request._cached_user  # type: ignore[attr-defined]

        expired = lifecycle.expired_kind(session, load_user)
        if expired is not None:
            kind, timeout = expired
            self.end_current(session, kind)
            return ended_response(request, kind, timeout)
        if session.get("_auth_user_id") is None:
            return None
        for kind, detail in lifecycle.context_changes(session):
            action = lifecycle.change_action(kind)
            self._record(session, kind, detail)
            if action == "revoke":
                self.end_current(session, EventKind.REVOKED_BY_SYSTEM, reason=kind)
                return ended_response(request, kind, None)
        return None

    def _record(
        self,
        session: SessionGuardStore,
        kind: str,
        detail: dict[str, Any] | None = None,
    ) -> None:
        from django_sessionguard.devices import parse_user_agent

        record_events(
            [
                EventData(
                    kind=kind,
                    session_ref=session.reference or "",
                    user_id=session._user_id(session._get_session()),
                    ip_address=session._client_ip,
                    device=str(parse_user_agent(session._client_user_agent or "")),
                    detail=detail or {},
                )
            ]
        )

    def end_current(
        self, session: SessionGuardStore, kind: str, reason: str = ""
    ) -> None:
        """End the request's own session: row and cache gone, event recorded."""
        self._record(session, kind, {"reason": reason} if reason else None)
        session.flush()

    def _explain_dead_cookie(
        self, request: HttpRequest, cookie_key: str | None
    ) -> None:
        """A well-formed cookie that names no session: find out why, once."""
        if not is_well_formed(cookie_key):
            return
        from django_sessionguard.models import SessionEvent

        assert cookie_key is not None
        reference = reference_for(hash_key(cookie_key))
        kind = (
            SessionEvent.objects.filter(session_ref=reference, kind__in=ENDING_KINDS)
            .values_list("kind", flat=True)
            .first()
        )
        if kind is not None:
            request._sessionguard_ended = kind  # type: ignore[attr-defined]

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> None:
        if getattr(view_func, "sessionguard_passive", False):
            request._sessionguard_passive = True  # type: ignore[attr-defined]

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        if isinstance(exception, SessionLimitExceeded):
            return ended_response(request, EventKind.LOGIN_DENIED, None)
        return None

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        response = super().process_response(request, response)
        session = getattr(request, "session", None)
        if isinstance(session, SessionGuardStore):
            ended = getattr(request, "_sessionguard_ended", None)
            if ended and settings.SESSION_COOKIE_NAME in request.COOKIES:
                set_ended_cookie(response, ended, None)  # type: ignore[arg-type]
            if response.status_code < 500 and not is_passive(request):
                self.record_activity(session)
        current_session.set(None)
        return response

    def record_activity(self, session: SessionGuardStore) -> None:
        """Write last-activity if due; a database error never fails the request."""
        if not session.accessed or not hasattr(session, "_session_cache"):
            return
        try:
            session.touch()
        except DatabaseError:
            logger.warning("Could not record session activity.", exc_info=True)
