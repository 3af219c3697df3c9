"""``SessionGuardMiddleware``: Django's session middleware, plus who is asking.

A subclass of :class:`~django.contrib.sessions.middleware.SessionMiddleware`
(so ``admin.E410`` and code looking for the session middleware keep working)
that overrides only two steps: binding the client's IP and User-Agent to the
store when the request arrives, and recording throttled activity after the
response is built.
"""

from __future__ import annotations

import logging

from django.contrib.sessions.middleware import SessionMiddleware
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponseBase

from django_sessionguard.backends.base import SessionGuardStore
from django_sessionguard.network import get_client_ip

logger = logging.getLogger("django_sessionguard")


class SessionGuardMiddleware(SessionMiddleware):
    """Use in place of ``django.contrib.sessions.middleware.SessionMiddleware``."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        session = request.session
        if isinstance(session, SessionGuardStore):
            session.bind_request(
                ip_address=get_client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT"),
            )

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        response = super().process_response(request, response)
        session = getattr(request, "session", None)
        if isinstance(session, SessionGuardStore) and response.status_code < 500:
            self.record_activity(session)
        return response

    def record_activity(self, session: SessionGuardStore) -> None:
        """Write last-activity if due; a database error never fails the request."""
        if not session.accessed or not hasattr(session, "_session_cache"):
            return
        try:
            session.touch()
        except DatabaseError:
            logger.warning("Could not record session activity.", exc_info=True)
