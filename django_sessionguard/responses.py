"""What a client gets when its session has just been ended, or its sign-in refused.

A page request is redirected to the login page (with ``next``); a request that
asks for JSON gets a JSON body with a machine-readable ``reason`` and a
human-readable ``message``. Either way a short-lived, signed
``sessionguard_ended`` cookie carries the reason to the login page, where
:func:`django_sessionguard.context_processors.signed_out_reason` turns it into
a sentence. With a ``__Host-`` session cookie it is ``__Host-sessionguard_ended``
(see :mod:`~django_sessionguard.cookie_prefix`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    JsonResponse,
)
from django.utils.translation import gettext, ngettext

from django_sessionguard.cookie_prefix import (
    CookieAttributes,
    cookie_attributes,
    cookie_name,
)
from django_sessionguard.events import EndReason, EventKind

#: Short-lived, signed cookie telling the login page why the user was signed out
#: (its name without the session cookie's prefix: see :func:`ended_cookie_name`).
ENDED_COOKIE = "sessionguard_ended"
ENDED_COOKIE_SALT = "django_sessionguard.ended"
ENDED_COOKIE_AGE = 300


def ended_cookie_name() -> str:
    """The reason cookie's name: :data:`ENDED_COOKIE`, prefixed like the session's."""
    return cookie_name(ENDED_COOKIE)


def _ended_cookie_attributes() -> CookieAttributes:
    return cookie_attributes(
        path=settings.SESSION_COOKIE_PATH,
        domain=None,
        secure=bool(settings.SESSION_COOKIE_SECURE),
    )


def _duration(seconds: int) -> str:
    if seconds % 86400 == 0 and seconds >= 86400:
        days = seconds // 86400
        return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    if seconds % 3600 == 0 and seconds >= 3600:
        hours = seconds // 3600
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    minutes = max(1, round(seconds / 60))
    return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}


def limit_message() -> str:
    """The sign-in error of ``SESSIONGUARD_LIMIT_POLICY = "deny_new"``."""
    return gettext(
        "You are already signed in on the maximum number of devices. Sign out on "
        "another device, then try again."
    )


def ended_message(kind: str, timeout: int | None = None, reason: str = "") -> str:
    """The sentence a login page shows after a session ended for ``kind``."""
    if reason == EndReason.PASSWORD_CHANGED or kind == EventKind.PASSWORD_CHANGED:
        return gettext("You were signed out because your password was changed.")
    if reason == EndReason.USER_DEACTIVATED:
        return gettext("You were signed out because your account was deactivated.")
    if reason == EndReason.NOT_VALID_BEFORE:
        return gettext(
            "You were signed out because every session started before a "
            "security update was ended. Please sign in again."
        )
    if reason in (EndReason.UA_CHANGED, EndReason.IP_CHANGED) or kind in (
        EventKind.UA_CHANGED,
        EventKind.IP_CHANGED,
    ):
        return gettext(
            "You were signed out because your session was used from a different "
            "browser or network."
        )
    if kind == EventKind.EXPIRED_IDLE and timeout:
        return gettext("You were signed out after %(duration)s of inactivity.") % {
            "duration": _duration(timeout)
        }
    if kind == EventKind.EXPIRED_ABSOLUTE and timeout:
        return gettext(
            "You were signed out because sessions last at most %(duration)s. "
            "Please sign in again."
        ) % {"duration": _duration(timeout)}
    if kind == EventKind.EVICTED:
        return gettext(
            "You were signed out because your account signed in on another device "
            "and the number of devices is limited."
        )
    if kind == EventKind.REVOKED_BY_USER:
        return gettext("You were signed out from another of your devices.")
    if kind == EventKind.REVOKED_BY_STAFF:
        return gettext("Your session was ended by an administrator.")
    if kind == EventKind.REVOKED_BY_SYSTEM:
        return gettext("Your session was ended for security reasons.")
    if kind == EventKind.LOGIN_DENIED:
        return limit_message()
    return gettext("You were signed out.")


def wants_json(request: HttpRequest) -> bool:
    """Whether the client asked for JSON rather than a page."""
    accept = request.headers.get("Accept", "")
    if "text/html" in accept:
        return False
    return (
        "application/json" in accept
        or request.content_type == "application/json"
        or request.headers.get("X-Requested-With") == "XMLHttpRequest"
    )


def set_ended_cookie(
    response: HttpResponseBase,
    kind: str,
    timeout: int | None = None,
    reason: str = "",
) -> None:
    """Tell the next page (the login page) why the session ended."""
    value = signing.dumps([kind, timeout, reason], salt=ENDED_COOKIE_SALT)
    response.set_cookie(
        ended_cookie_name(),
        value,
        max_age=ENDED_COOKIE_AGE,
        httponly=True,
        samesite="Lax",
        **_ended_cookie_attributes(),
    )


def delete_ended_cookie(response: HttpResponseBase) -> None:
    """Drop the reason cookie (once the login page has shown it)."""
    attributes = _ended_cookie_attributes()
    response.delete_cookie(
        ended_cookie_name(),
        path=attributes["path"],
        domain=attributes["domain"],
        samesite="Lax",
    )


def _parse_ended(raw: Any) -> tuple[str, int | None, str] | None:
    if not isinstance(raw, list) or len(raw) != 3:
        return None
    kind, timeout, reason = raw
    if not isinstance(kind, str) or not isinstance(reason, str):
        return None
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int)
    ):
        return None
    return kind, timeout, reason


def read_ended_cookie(request: HttpRequest) -> str | None:
    """The message for the signed-out reason carried by the request, if any."""
    raw = request.COOKIES.get(ended_cookie_name())
    if not raw:
        return None
    try:
        value = signing.loads(raw, salt=ENDED_COOKIE_SALT, max_age=ENDED_COOKIE_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    parsed = _parse_ended(value)
    return ended_message(*parsed) if parsed else None


def _json(status: int, error: str, kind: str, message: str) -> HttpResponse:
    return JsonResponse(
        {
            "error": error,
            "reason": kind,
            "message": message,
            "login_url": str(settings.LOGIN_URL),
        },
        status=status,
    )


def ended_response(
    request: HttpRequest, kind: str, timeout: int | None = None, reason: str = ""
) -> HttpResponse:
    """A 401 JSON body for API clients, else a redirect to login with ``next``."""
    message = ended_message(kind, timeout, reason)
    if wants_json(request):
        # The most specific cause: "expired_idle", "ua_changed", "evicted"...
        response = _json(401, "session_ended", reason or kind, message)
    else:
        response = redirect_to_login(request.get_full_path())
    set_ended_cookie(response, kind, timeout, reason)
    response["Cache-Control"] = "no-store"
    return response


def login_denied_response(request: HttpRequest) -> HttpResponse:
    """A sign-in refused by the session limit.

    JSON clients get a 403 with ``reason: "login_denied"``. A login form is
    sent back to itself (its query string, hence ``next``, kept) with the
    reason cookie, so the page it renders can show the error.
    """
    kind = EventKind.LOGIN_DENIED
    if wants_json(request):
        response = _json(403, "login_denied", kind, limit_message())
    else:
        response = HttpResponseRedirect(request.get_full_path())
    set_ended_cookie(response, kind)
    response["Cache-Control"] = "no-store"
    return response
