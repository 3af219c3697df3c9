"""What a client gets when its session has just been ended."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext, ngettext

from django_sessionguard.events import EventKind

#: Short-lived, signed cookie telling the login page why the user was signed out.
ENDED_COOKIE = "sessionguard_ended"
ENDED_COOKIE_SALT = "django_sessionguard.ended"
ENDED_COOKIE_AGE = 300


def _duration(seconds: int) -> str:
    if seconds % 86400 == 0 and seconds >= 86400:
        days = seconds // 86400
        return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    if seconds % 3600 == 0 and seconds >= 3600:
        hours = seconds // 3600
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    minutes = max(1, round(seconds / 60))
    return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}


def ended_message(kind: str, timeout: int | None = None) -> str:
    """The sentence a login page shows after a session ended for ``kind``."""
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
    if kind == EventKind.PASSWORD_CHANGED:
        return gettext("You were signed out because your password was changed.")
    if kind in (EventKind.UA_CHANGED, EventKind.IP_CHANGED):
        return gettext(
            "You were signed out because your session was used from a different "
            "browser or network."
        )
    if kind in (EventKind.REVOKED_BY_STAFF, EventKind.REVOKED_BY_SYSTEM):
        return gettext("Your session was ended by an administrator.")
    if kind == EventKind.LOGIN_DENIED:
        return gettext(
            "You are already signed in on the maximum number of devices. Sign out "
            "on another device, then try again."
        )
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


def set_ended_cookie(response: HttpResponse, kind: str, timeout: int | None) -> None:
    value = signing.dumps([kind, timeout], salt=ENDED_COOKIE_SALT, compress=True)
    response.set_cookie(
        ENDED_COOKIE,
        value,
        max_age=ENDED_COOKIE_AGE,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE or None,
        samesite="Lax",
        path=settings.SESSION_COOKIE_PATH,
    )


def read_ended_cookie(request: HttpRequest) -> str | None:
    """The message for the signed-out reason carried by the request, if any."""
    raw = request.COOKIES.get(ENDED_COOKIE)
    if not raw:
        return None
    try:
        kind, timeout = signing.loads(
            raw, salt=ENDED_COOKIE_SALT, max_age=ENDED_COOKIE_AGE
        )
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(kind, str) or not (timeout is None or isinstance(timeout, int)):
        return None
    return ended_message(kind, timeout)


def ended_response(
    request: HttpRequest, kind: str, timeout: int | None
) -> HttpResponse:
    """401 JSON for API clients, otherwise a redirect to the login page with ``next``."""
    message = ended_message(kind, timeout)
    if wants_json(request):
        response: HttpResponse = JsonResponse(
            {
                "error": "session_ended",
                "reason": kind,
                "message": message,
                "login_url": str(settings.LOGIN_URL),
            },
            status=401,
        )
    else:
        response = redirect_to_login(request.get_full_path())
    set_ended_cookie(response, kind, timeout)
    response["Cache-Control"] = "no-store"
    return response
