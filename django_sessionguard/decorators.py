"""View decorators: passive views, and views that need a recent password entry."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, overload

from asgiref.sync import iscoroutinefunction
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext

from django_sessionguard.backends.base import AUTH_AT_KEY
from django_sessionguard.conf import conf
from django_sessionguard.responses import wants_json

ViewT = TypeVar("ViewT", bound=Callable[..., Any])

#: Name of the query parameter the re-authentication page returns to.
REDIRECT_FIELD_NAME = "next"


def passive(view: ViewT) -> ViewT:
    """Mark a view (sync or async) whose requests do not count as activity.

    For polling endpoints, heartbeats and health checks: the session is still
    loaded and checked, but its last-activity time is not moved forward, so
    an idle timeout still ends a session left open in a background tab.
    """
    view.sessionguard_passive = True  # type: ignore[attr-defined]
    return view


def login_age(auth_at: object, now: float | None = None) -> float | None:
    """Seconds since the session's user last entered a password, if known."""
    if isinstance(auth_at, bool) or not isinstance(auth_at, int | float):
        return None
    return (time.time() if now is None else now) - auth_at


def is_recent(auth_at: object, max_age: int) -> bool:
    """Whether an authentication time (epoch seconds) is at most ``max_age`` old."""
    age = login_age(auth_at)
    return age is not None and age <= max_age


def mark_recent_login(request: HttpRequest) -> None:
    """Record that the user just confirmed their password, in the same session.

    Only the authentication time moves (which also restarts the absolute
    timeout): no new session, no new key, no sign-in event.
    """
    request.session[AUTH_AT_KEY] = time.time()


def reauth_response(
    request: HttpRequest, *, authenticated: bool, json: bool | None = None
) -> HttpResponse:
    """Where to send a request whose user must sign in or confirm their password.

    A page gets a redirect (to ``LOGIN_URL`` or to ``sessionguard:reauth``,
    with ``next``); a JSON client (``json=True``, or by default one whose
    request asks for JSON) gets 401 when signed out, 403 when it must confirm.
    """
    if wants_json(request) if json is None else json:
        if not authenticated:
            return JsonResponse(
                {
                    "error": "not_authenticated",
                    "message": gettext("Sign in to continue."),
                },
                status=401,
            )
        return JsonResponse(
            {
                "error": "reauthentication_required",
                "message": gettext("Confirm your password to continue."),
                "reauth_url": reverse("sessionguard:reauth"),
            },
            status=403,
        )
    path = request.get_full_path()
    if not authenticated:
        return redirect_to_login(path)
    return redirect_to_login(
        path, reverse("sessionguard:reauth"), redirect_field_name=REDIRECT_FIELD_NAME
    )


def _check(user: Any, auth_at: object, max_age: int | None) -> bool | None:
    """None when the request may go on, else whether the user is signed in."""
    if not user.is_authenticated:
        return False
    limit = conf.REAUTH_MAX_AGE if max_age is None else max_age
    return None if is_recent(auth_at, limit) else True


def recent_login_check(request: HttpRequest, max_age: int | None) -> bool | None:
    """``None`` if the user confirmed their password within ``max_age`` seconds
    (default ``SESSIONGUARD_REAUTH_MAX_AGE``); otherwise whether they are signed
    in at all (so the caller knows whether to ask to sign in or to confirm)."""
    return _check(request.user, request.session.get(AUTH_AT_KEY), max_age)


async def arecent_login_check(request: HttpRequest, max_age: int | None) -> bool | None:
    """See :func:`recent_login_check`."""
    user = await request.auser()
    auth_at = await request.session.aget(AUTH_AT_KEY)
    return _check(user, auth_at, max_age)


@overload
def recent_login_required(view: ViewT, /) -> ViewT: ...
@overload
def recent_login_required(
    *, max_age: int | None = None
) -> Callable[[ViewT], ViewT]: ...
def recent_login_required(
    view: ViewT | None = None, /, *, max_age: int | None = None
) -> ViewT | Callable[[ViewT], ViewT]:
    """Require a password entered within ``max_age`` seconds.

    Anonymous users go to ``LOGIN_URL``; signed-in users whose authentication
    is older than ``max_age`` (default ``SESSIONGUARD_REAUTH_MAX_AGE``) go to
    ``sessionguard:reauth?next=…`` and come back once they confirm their
    password. A client asking for JSON gets 401/403 JSON instead. Works on
    sync and async views; use as ``@recent_login_required`` or
    ``@recent_login_required(max_age=300)``.
    """

    def decorator(view_func: ViewT) -> ViewT:
        if iscoroutinefunction(view_func):

            async def async_view(
                request: HttpRequest, *args: Any, **kwargs: Any
            ) -> Any:
                signed_in = await arecent_login_check(request, max_age)
                if signed_in is not None:
                    return reauth_response(request, authenticated=signed_in)
                return await view_func(request, *args, **kwargs)

            wrapped: Callable[..., Any] = async_view
        else:

            def sync_view(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                signed_in = recent_login_check(request, max_age)
                if signed_in is not None:
                    return reauth_response(request, authenticated=signed_in)
                return view_func(request, *args, **kwargs)

            wrapped = sync_view
        return wraps(view_func)(wrapped)  # type: ignore[return-value]

    return decorator(view) if view is not None else decorator
