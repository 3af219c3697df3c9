"""``SessionGuardMiddleware``: Django's session middleware, plus policy.

A subclass of :class:`~django.contrib.sessions.middleware.SessionMiddleware`
(so ``admin.E410`` and code looking for the session middleware keep working).
It keeps Django's request and response handling and adds, around them:

* binding the client's IP and User-Agent to the store;
* ending signed-in sessions past their idle or absolute deadline, before the
  global "not valid before" cut-off, or whose browser or network changed when
  policy says so - from what came with the session load, no extra I/O;
* telling a client whose session was revoked or evicted why, once;
* ``Clear-Site-Data`` (``SESSIONGUARD_CLEAR_SITE_DATA``) on the response of a
  request that signed its own browser out, through whichever view;
* recording throttled activity after the response (not for passive requests);
* reminding a client whose session write missed the session cache to have its
  cached copy checked (:mod:`~django_sessionguard.stale_cache`), and answering
  a sign-out the cache cannot make effective with a 503 (:mod:`faults`);
* turning a sign-in refused by the session limit into a clear answer.

Like Django's, it serves sync and async stacks (``MiddlewareMixin``).
"""

from __future__ import annotations

import contextvars
import logging
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import SESSION_KEY as USER_ID_KEY
from django.contrib.auth import get_user
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import resolve_url

from django_sessionguard import guessing, lifecycle, services, stale_cache
from django_sessionguard.backends.base import SessionGuardStore
from django_sessionguard.conf import conf
from django_sessionguard.context_processors import SHOWN_ATTRIBUTE
from django_sessionguard.devices import parse_user_agent
from django_sessionguard.events import EventData, EventKind, record_events
from django_sessionguard.faults import SessionCacheUnavailable, unavailable_response
from django_sessionguard.keys import hash_key, is_well_formed, reference_for
from django_sessionguard.limits import SessionLimitExceeded
from django_sessionguard.network import get_client_ip
from django_sessionguard.responses import (
    delete_ended_cookie,
    ended_cookie_name,
    ended_message,
    ended_response,
    login_denied_response,
    set_ended_cookie,
)
from django_sessionguard.security_headers import (
    clear_site_data_after_sign_out,
    forbid_storing_session_cookie,
)

logger = logging.getLogger("django_sessionguard")

#: The request being handled (receivers use it to keep the session a password
#: was changed from, and to name the actor of a change).
current_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "sessionguard_current_request", default=None
)

#: Events that explain to a returning client why its cookie no longer works.
EXPLAINED_KINDS = (
    EventKind.EVICTED,
    EventKind.REVOKED_BY_USER,
    EventKind.REVOKED_BY_STAFF,
    EventKind.REVOKED_BY_SYSTEM,
    EventKind.EXPIRED_IDLE,
    EventKind.EXPIRED_ABSOLUTE,
)

#: In the name of each of the app's own cookies (``sessionguard_ended``,
#: ``sessionguard_stale``, with the session cookie's prefix if it has one).
OWN_COOKIE_MARK = "sessionguard_"

#: ``(kind, timeout, reason)`` of an ending to report on this response.
Ended = tuple[str, int | None, str]


def is_passive(request: HttpRequest) -> bool:
    """Whether this request does not count as activity.

    Passive: a path under ``SESSIONGUARD_PASSIVE_PATHS``, or a view marked
    with :func:`django_sessionguard.decorators.passive` (or any view, or view
    class, with ``sessionguard_passive = True``).
    """
    match = getattr(request, "resolver_match", None)
    if match is not None:
        view = match.func
        if getattr(view, "sessionguard_passive", False) or getattr(
            getattr(view, "view_class", None), "sessionguard_passive", False
        ):
            return True
    prefixes = conf.PASSIVE_PATHS
    return bool(prefixes) and request.path_info.startswith(prefixes)


def carries_our_cookies(request: HttpRequest) -> bool:
    """Whether the client sent any of the app's own cookies (any name prefix)."""
    return any(OWN_COOKIE_MARK in name for name in request.COOKIES)


def _is_login_page(request: HttpRequest) -> bool:
    return urlsplit(resolve_url(settings.LOGIN_URL)).path == request.path


class SessionGuardMiddleware(SessionMiddleware):
    """Use in place of ``django.contrib.sessions.middleware.SessionMiddleware``."""

    def process_request(  # type: ignore[override]
        self, request: HttpRequest
    ) -> HttpResponse | None:
        super().process_request(request)
        session = request.session
        if not isinstance(session, SessionGuardStore):
            return None
        session.bind_request(
            ip_address=get_client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT"),
        )
        current_request.set(request)
        if carries_our_cookies(request):
            request._sessionguard_cookies = True  # type: ignore[attr-defined]
            stale_cache.note_request(request, session)
        if session.session_key is None:
            return None
        try:
            return self.enforce_policy(request, session)
        except SessionCacheUnavailable:
            # Policy said end it, the cache could not be cleared: nothing ended.
            return unavailable_response(request)

    def enforce_policy(
        self, request: HttpRequest, session: SessionGuardStore
    ) -> HttpResponse | None:
        """End the session here if a deadline passed or policy forbids a change."""
        cookie_key = session.session_key
        data = session._get_session()  # loads it: a dead cookie drops the key
        if session.session_key is None:
            return self._explain_dead_cookie(request, cookie_key)
        if data.get(USER_ID_KEY) is None:
            return None  # anonymous: no deadline, no context to compare

        def load_user() -> Any:
            # Cached where AuthenticationMiddleware looks, so it is loaded once.
            if not hasattr(request, "_cached_user"):
                request._cached_user = get_user(request)  # type: ignore[attr-defined]
            return request._cached_user  # type: ignore[attr-defined]

        ending = lifecycle.ending_for(session, load_user)
        if ending is not None:
            detail = {"timeout": ending.timeout} if ending.timeout else None
            services.end_current_session(
                session,
                ending.kind,
                reason=ending.reason,
                detail=detail,
                past_deadline=True,
            )
            return self._ended(request, (ending.kind, ending.timeout, ending.reason))
        for kind, detail in lifecycle.context_changes(session):
            self._record(session, kind, detail)
            if lifecycle.change_action(kind) == "revoke":
                services.end_current_session(
                    session, EventKind.REVOKED_BY_SYSTEM, reason=kind
                )
                return self._ended(request, (EventKind.REVOKED_BY_SYSTEM, None, kind))
            # Recorded once: the new address or browser is written with this
            # response, even by a passive request.
            request._sessionguard_context_changed = True  # type: ignore[attr-defined]
        return None

    def _ended(self, request: HttpRequest, ended: Ended) -> HttpResponse | None:
        """The answer to a request whose session was just ended."""
        if _is_login_page(request):
            # Already where the user must go: show the page (or take the
            # sign-in it posts), anonymous, and tell it why (see
            # context_processors.signed_out_reason).
            self._report(request, ended)
            return None
        return ended_response(request, *ended)

    def _report(self, request: HttpRequest, ended: Ended) -> None:
        request._sessionguard_ended = ended  # type: ignore[attr-defined]
        request._sessionguard_ended_message = ended_message(*ended)  # type: ignore[attr-defined]

    def _record(
        self, session: SessionGuardStore, kind: str, detail: dict[str, Any]
    ) -> None:
        record_events(
            [
                EventData(
                    kind=kind,
                    session_ref=session.reference or "",
                    user_id=session._user_id(dict(session.items())),
                    ip_address=session._client_ip,
                    device=str(parse_user_agent(session._client_user_agent or "")),
                    detail=detail,
                )
            ]
        )

    def _explain_dead_cookie(
        self, request: HttpRequest, cookie_key: str | None
    ) -> HttpResponse | None:
        """A well-formed cookie that names no session: find out why, once.

        The cookie is deleted with this response (the session is empty), so
        this costs one indexed query per ended session, not per request. A key
        no event explains counts towards session-key guessing (see
        :mod:`django_sessionguard.guessing`), which may answer 429.
        """
        if not is_well_formed(cookie_key):
            return None
        from django_sessionguard.models import SessionEvent

        assert cookie_key is not None  # noqa: S101 (narrowing for mypy)
        found = (
            SessionEvent.objects.filter(
                session_ref=reference_for(hash_key(cookie_key)),
                kind__in=EXPLAINED_KINDS,
            )
            .values_list("kind", "detail")
            .first()
        )
        if found is None:
            return guessing.note_unknown_key(request)
        kind, detail = found
        detail = detail if isinstance(detail, dict) else {}
        timeout = detail.get("timeout")
        self._report(
            request,
            (
                kind,
                timeout if isinstance(timeout, int) else None,
                str(detail.get("reason", "")),
            ),
        )
        return None

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        if isinstance(exception, SessionLimitExceeded):
            return login_denied_response(request)
        if isinstance(exception, SessionCacheUnavailable):
            return unavailable_response(request)
        return None

    def process_response(
        self, request: HttpRequest, response: HttpResponse
    ) -> HttpResponse:
        response = super().process_response(request, response)
        if response.cookies:
            forbid_storing_session_cookie(response)
        clear_site_data_after_sign_out(request, response)
        session = getattr(request, "session", None)
        if isinstance(session, SessionGuardStore):
            if response.status_code < 500:
                self.record_activity(request, session)
            # The app's own cookies (why a session ended; the stale-cache
            # reminder): nothing to do unless the client sent one, or this
            # request ended the session or wrote past the cache.
            if (
                getattr(request, "_sessionguard_cookies", False)
                or hasattr(request, "_sessionguard_ended")
                or session.cache_behind
            ):
                self._update_ended_cookie(request, response, session)
                stale_cache.update_response(request, response, session)
        current_request.set(None)
        return response

    def _update_ended_cookie(
        self,
        request: HttpRequest,
        response: HttpResponseBase,
        session: SessionGuardStore,
    ) -> None:
        """Set the reason cookie for an ending found here; drop it once used."""
        name = ended_cookie_name()
        if name in response.cookies:
            return
        ended: Ended | None = getattr(request, "_sessionguard_ended", None)
        shown = getattr(request, SHOWN_ATTRIBUTE, False)
        if ended is not None and not shown:
            set_ended_cookie(response, *ended)
            return
        if name not in request.COOKIES:
            return
        signed_in = hasattr(session, "_session_cache") and lifecycle.is_signed_in(
            session
        )
        if shown or signed_in:
            delete_ended_cookie(response)

    def record_activity(self, request: HttpRequest, session: SessionGuardStore) -> None:
        """Write last-activity if due; a database error never fails the request.

        Not for passive requests (:func:`is_passive`), unless the client's
        address or browser changed: that is recorded at once.
        """
        if not session.accessed or not hasattr(session, "_session_cache"):
            return
        if not session.activity_due():  # the usual case: nothing to write
            return
        if is_passive(request) and not getattr(
            request, "_sessionguard_context_changed", False
        ):
            return
        try:
            session.touch()
        except DatabaseError:
            logger.warning("Could not record session activity.", exc_info=True)
