"""The idle timeout as a person sees it: the deadline the middleware enforces.

Two views for ``idle-warning.js`` (see ``docs/idle-warning.md``):

* :func:`idle_status` (``GET``, passive: asking does not count as activity)
  tells when the session will end;
* :func:`idle_extend` (``POST`` + CSRF, counts as activity) records activity
  now, whatever ``SESSIONGUARD_ACTIVITY_INTERVAL`` says, and answers the new
  status.

Both answer :func:`status_for`, which computes the deadlines the way
:func:`django_sessionguard.lifecycle.expired_kind` enforces them: from the
*recorded* last activity, which lags real activity by up to
``SESSIONGUARD_ACTIVITY_INTERVAL``. The warning is a courtesy; the middleware
stays the authority on when a session ends.
"""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from django_sessionguard.backends.base import SessionGuardStore
from django_sessionguard.conf import conf
from django_sessionguard.lifecycle import absolute_timeout_for, idle_timeout_for
from django_sessionguard.middleware import is_passive
from django_sessionguard.responses import wants_json


def status_for(
    request: HttpRequest, *, pending_activity: bool = False
) -> dict[str, Any]:
    """The session's deadlines as the middleware will enforce them.

    ``idle_deadline`` and ``absolute_deadline`` are epoch seconds, or ``None``
    when that timeout does not apply. ``pending_activity`` says that this
    request's response will record activity (see :func:`activity_pending`), so
    the idle deadline counts from now.
    """
    now = time.time()
    user = request.user
    status: dict[str, Any] = {
        "authenticated": bool(user.is_authenticated),
        "idle_deadline": None,
        "absolute_deadline": None,
        "server_time": now,
        "warning_before": conf.IDLE_WARNING_BEFORE,
    }
    session = getattr(request, "session", None)
    if not user.is_authenticated or not isinstance(session, SessionGuardStore):
        return status
    authenticated_at = session.authenticated_at  # loads the session, and activity
    idle = idle_timeout_for(user)
    activity = session.activity
    if idle is not None and activity is not None:
        last = max(activity.last_activity, authenticated_at or 0)
        status["idle_deadline"] = (now if pending_activity else last) + idle
    absolute = absolute_timeout_for(user)
    if absolute is not None and authenticated_at is not None:
        status["absolute_deadline"] = authenticated_at + absolute
    return status


def activity_pending(request: HttpRequest) -> bool:
    """Whether the middleware will record activity when this response goes out.

    True for a request that is not passive once ``SESSIONGUARD_ACTIVITY_INTERVAL``
    has passed since the recorded activity (or the client's IP or browser
    changed): exactly when ``SessionGuardMiddleware.record_activity`` writes.
    """
    session = getattr(request, "session", None)
    if not isinstance(session, SessionGuardStore) or is_passive(request):
        return False
    session.authenticated_at  # noqa: B018 -- loads the session and its activity
    return session.activity_due()


@never_cache
@require_GET
def idle_status(request: HttpRequest) -> HttpResponse:
    """When this session ends. Passive: asking does not keep it alive."""
    return JsonResponse(status_for(request))


idle_status.sessionguard_passive = True  # type: ignore[attr-defined]


@never_cache
@require_POST
def idle_extend(request: HttpRequest) -> HttpResponse:
    """ "Stay signed in": record activity now and answer the new deadline.

    Counts as activity even inside ``SESSIONGUARD_ACTIVITY_INTERVAL``: the
    write is forced, so the deadline moves at once. A form posted without
    JavaScript goes back to its ``next`` page (or to sign-in, if signed out).
    """
    session = getattr(request, "session", None)
    signed_in = False
    if request.user.is_authenticated and isinstance(session, SessionGuardStore):
        signed_in = True
        session.touch(force=True)
    if wants_json(request):
        return JsonResponse(status_for(request), status=200 if signed_in else 401)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    return HttpResponseRedirect(target) if signed_in else redirect_to_login(target)
