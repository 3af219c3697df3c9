"""Views that let a fault happen in the middle of a request.

The middleware has loaded the session (from the cache, while it answers) by the
time a view runs, and saves and touches it after the view returns. A fault
queued with :func:`during_next_request` runs in between: Redis dies, pauses or
comes back *mid-request*.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import aauthenticate, alogin, alogout
from django.http import HttpRequest, JsonResponse

_queued: list[Callable[[], None]] = []


def during_next_request(fault: Callable[[], None]) -> None:
    """Run ``fault`` inside the next request to a view of this module."""
    _queued.append(fault)


def _inject() -> None:
    while _queued:
        _queued.pop(0)()


def _payload(request: HttpRequest, counter: Any) -> JsonResponse:
    user = request.user
    return JsonResponse(
        {
            "user": user.get_username() if user.is_authenticated else None,
            "counter": counter,
        }
    )


def read(request: HttpRequest) -> JsonResponse:
    """The fault, then answer from the session loaded before it (no write)."""
    _inject()
    return _payload(request, request.session.get("counter"))


def write(request: HttpRequest) -> JsonResponse:
    """The fault, then set ``counter`` to ``?value=``: saved after the response."""
    _inject()
    request.session["counter"] = int(request.GET["value"])
    return _payload(request, request.session["counter"])


async def async_login(request: HttpRequest) -> JsonResponse:
    """Sign in through Django's async API (``alogin``: ``acycle_key``)."""
    user = await aauthenticate(
        request, username=request.POST["username"], password=request.POST["password"]
    )
    assert user is not None, "wrong credentials"
    await alogin(request, user)
    return JsonResponse({"user": user.get_username()})


async def async_logout(request: HttpRequest) -> JsonResponse:
    """Sign out through Django's async API (``alogout``: ``aflush``)."""
    await alogout(request)
    return JsonResponse({"user": None})
