"""What a person sees when a session cannot be ended because the cache is down.

Reading and saving sessions go around a session-cache outage (see
:mod:`django_sessionguard.backends.cached_db`). Ending one cannot: a cached
copy that cannot be made unusable would keep the session alive, so the ending
is refused with :class:`SessionCacheUnavailable` and nothing is changed. The
middleware, the devices page, its JSON API, the admin and the management
commands turn that into a clear "try again" (HTTP 503, ``Retry-After``), never
a traceback. ``docs/faults.md`` describes every failure and its answer.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext

from django_sessionguard.conf import conf
from django_sessionguard.responses import wants_json

#: Seconds a client is told to wait before trying again.
RETRY_AFTER = 30

#: The JSON ``error`` code of the answer.
ERROR_CODE = "session_store_unavailable"


class SessionCacheUnavailable(Exception):
    """The session cache could not be reached to end a session: nothing was ended.

    The original cache error is chained as ``__cause__``. Calling again, once
    the cache answers, ends the session(s).
    """


def unavailable_message() -> str:
    """The sentence shown to the person whose sign-out or revocation was refused."""
    return gettext(
        "Signing out is not possible right now because a service is temporarily "
        "unavailable. Nothing was changed: please try again in a moment."
    )


def _refuse_caching(response: HttpResponse) -> HttpResponse:
    response["Retry-After"] = str(RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response


def unavailable_json() -> JsonResponse:
    """A 503 JSON body: ``{"error": "session_store_unavailable", "message": ...}``."""
    response = JsonResponse(
        {"error": ERROR_CODE, "message": unavailable_message()}, status=503
    )
    _refuse_caching(response)
    return response


def unavailable_response(
    request: HttpRequest, *, json: bool | None = None
) -> HttpResponse:
    """A 503 page (or JSON body, for API clients) saying nothing was changed.

    The page extends ``SESSIONGUARD_BASE_TEMPLATE`` and can be overridden as
    ``django_sessionguard/unavailable.html``.
    """
    if json if json is not None else wants_json(request):
        return unavailable_json()
    body = render_to_string(
        "django_sessionguard/unavailable.html",
        {
            "sessionguard_base_template": conf.BASE_TEMPLATE,
            "message": unavailable_message(),
        },
        request=request,
    )
    response = HttpResponse(body, status=503)
    _refuse_caching(response)
    return response
