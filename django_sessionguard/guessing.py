"""Session-key guessing: many unknown, well-formed keys from one client.

A cookie that has the shape of a key this app issues but names no session (and
no session that an audit event explains) is either a very stale browser or
someone trying keys. :func:`note_unknown_key` is called by the middleware on
that miss path only, so a request with a live session, or without a cookie,
costs nothing here.

Unknown keys are counted per client IP address (as :mod:`network` finds it,
believing forwarding headers only from trusted proxies) in fixed windows of
``SESSIONGUARD_GUESSING_WINDOW`` seconds, in the session cache: one ``incr``
per unknown key, one small counter per client and window that expires with the
window, and no database write. When a client's count reaches
``SESSIONGUARD_GUESSING_THRESHOLD`` within a window, one ``key_guessing``
event is recorded (a row, the ``session_event`` signal and a JSON log line),
:data:`~django_sessionguard.signals.key_guessing_detected` is sent and a
warning is logged; nothing derived from the keys tried is recorded. With
``SESSIONGUARD_GUESSING_BLOCK``, that client's requests carrying unknown keys
are answered 429 for ``SESSIONGUARD_GUESSING_WINDOW`` seconds.

The counter is named by the client's address and lives one window, whatever
the privacy settings; the event, the signal and the log line carry the address
only as far as ``SESSIONGUARD_TRACK_IP`` / ``SESSIONGUARD_ANONYMIZE_IP`` keep it.

A cache that fails never fails the request: detection is skipped and logged.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext

from django_sessionguard.conf import conf
from django_sessionguard.devices import clean_user_agent, parse_user_agent
from django_sessionguard.events import EventKind, record_event
from django_sessionguard.network import get_client_ip
from django_sessionguard.responses import wants_json

logger = logging.getLogger("django_sessionguard")

#: Prefix of the counters and block markers in the session cache.
CACHE_PREFIX = "django_sessionguard.guessing:"
#: Stands for a client whose address could not be found (counted together).
UNKNOWN_CLIENT = "-"


def _cache() -> BaseCache:
    return caches[settings.SESSION_CACHE_ALIAS]


def _counter_key(client: str, window: int, now: float) -> str:
    # Fixed windows numbered from the epoch: a counter is never extended, so
    # a cache whose incr() resets expiry (the database cache) counts right too.
    return f"{CACHE_PREFIX}n:{window}:{int(now // window)}:{client}"


def _block_key(client: str) -> str:
    return f"{CACHE_PREFIX}b:{client}"


def _increment(cache: BaseCache, key: str, timeout: int) -> int:
    """``incr`` the counter, creating it with ``add`` (race-free) when missing."""
    try:
        return int(cache.incr(key))
    except ValueError:
        if cache.add(key, 1, timeout=timeout):
            return 1
        return int(cache.incr(key))


def too_many_response(request: HttpRequest, retry_after: int) -> HttpResponse:
    """The 429 a blocked client gets (JSON for a client asking for JSON)."""
    message = gettext(
        "Too many requests with an unknown session. Try again later, or sign in again."
    )
    response: HttpResponse
    if wants_json(request):
        response = JsonResponse(
            {"error": "too_many_requests", "message": message}, status=429
        )
    else:
        response = HttpResponse(
            message, status=429, content_type="text/plain; charset=utf-8"
        )
    response["Retry-After"] = str(max(1, retry_after))
    response["Cache-Control"] = "no-store"
    return response


def _detected(request: HttpRequest, ip_address: str | None, count: int) -> None:
    from django_sessionguard.models import SessionEvent
    from django_sessionguard.signals import key_guessing_detected

    window = conf.GUESSING_WINDOW
    user_agent = clean_user_agent(request.META.get("HTTP_USER_AGENT"))
    event = record_event(
        EventKind.KEY_GUESSING,
        ip_address=ip_address,
        device=str(parse_user_agent(user_agent)),
        detail={"unknown_keys": count, "window": window},
    )
    # Announced as stored: with SESSIONGUARD_TRACK_IP off or
    # SESSIONGUARD_ANONYMIZE_IP on, no full address leaves this module.
    ip_address = event.ip_address
    key_guessing_detected.send(
        sender=SessionEvent,
        ip_address=ip_address,
        count=count,
        window=window,
        event=event,
    )
    logger.warning(
        "Possible session-key guessing: %d unknown session keys from %s within "
        "%d seconds.",
        count,
        ip_address or "an unknown address",
        window,
        extra={
            "sessionguard_guessing": {
                "ip": ip_address,
                "unknown_keys": count,
                "window": window,
            }
        },
    )


def note_unknown_key(request: HttpRequest) -> HttpResponse | None:
    """Count one unknown, well-formed session key from this request's client.

    Returns the 429 response to send instead of the page when the client is
    blocked (``SESSIONGUARD_GUESSING_BLOCK``), else ``None``.
    """
    threshold = conf.GUESSING_THRESHOLD
    if threshold is None:
        return None
    window = conf.GUESSING_WINDOW
    ip_address = get_client_ip(request)
    client = ip_address or UNKNOWN_CLIENT
    now = time.time()
    cache = _cache()
    blocked_until: Any = None
    try:
        count = _increment(cache, _counter_key(client, window, now), window)
        if conf.GUESSING_BLOCK:
            if count == threshold:
                # Blocked for a whole window from now, whatever the counter's
                # window has left.
                blocked_until = now + window
                cache.set(_block_key(client), blocked_until, timeout=window)
            else:
                blocked_until = cache.get(_block_key(client))
    except Exception:  # a cache outage must not fail the request
        logger.warning("Could not count an unknown session key.", exc_info=True)
        return None
    if count == threshold:
        try:
            _detected(request, ip_address, count)
        except DatabaseError:
            logger.warning("Could not record session-key guessing.", exc_info=True)
    if isinstance(blocked_until, int | float) and blocked_until > now:
        return too_many_response(request, math.ceil(blocked_until - now))
    return None
