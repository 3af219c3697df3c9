"""Views the engine tests drive through the test client: read, write, or ignore."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import alogout
from django.http import HttpRequest, HttpResponse, JsonResponse


def _payload(user: Any, counter: Any) -> dict[str, Any]:
    return {
        "user": user.get_username() if user.is_authenticated else None,
        "counter": counter,
    }


def _value(request: HttpRequest) -> int:
    return int(request.GET.get("value", 1))


def read(request: HttpRequest) -> JsonResponse:
    """Read the session (and the user): a load, never a write."""
    return JsonResponse(_payload(request.user, request.session.get("counter")))


def write(request: HttpRequest) -> JsonResponse:
    """Set ``counter`` to ``?value=`` (default 1): the session is saved."""
    request.session["counter"] = _value(request)
    return JsonResponse(_payload(request.user, request.session["counter"]))


async def async_read(request: HttpRequest) -> JsonResponse:
    """:func:`read` through the async session and auth APIs."""
    user = await request.auser()
    return JsonResponse(_payload(user, await request.session.aget("counter")))


async def async_write(request: HttpRequest) -> JsonResponse:
    """:func:`write` through the async session and auth APIs."""
    await request.session.aset("counter", _value(request))
    user = await request.auser()
    return JsonResponse(_payload(user, await request.session.aget("counter")))


async def async_logout(request: HttpRequest) -> JsonResponse:
    """Sign out with Django's ``alogout`` from an async view."""
    await alogout(request)
    return JsonResponse({"user": None})


def anon(request: HttpRequest) -> HttpResponse:
    """Never touches the session: no load, no cookie, no write."""
    return HttpResponse("ok", content_type="text/plain")
