"""The app's own cookies get the protection of the session cookie's name prefix.

Besides the session cookie the app sets two small cookies: the signed-out
reason (:mod:`~django_sessionguard.responses`) and the stale-cache reminder
(:mod:`~django_sessionguard.stale_cache`). When ``SESSION_COOKIE_NAME``
starts with ``__Host-`` (any case, as browsers compare it), theirs do too,
``__Host-sessionguard_ended``, and they are set ``Secure``, with ``Path=/``
and no ``Domain``: a sibling subdomain or a plain-HTTP response can then
neither plant nor overwrite them, exactly as for the session cookie. With
``__Secure-`` they become ``__Secure-...`` and ``Secure``. Without a prefix
nothing changes.

The prefix is written in its canonical spelling, which Django's
``delete_cookie`` recognises (it then deletes with ``Secure``, which browsers
require). Setting, reading and deleting all go through :func:`cookie_name` and
:func:`cookie_attributes`, so the three always agree.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TypedDict

from django.conf import settings

HOST_PREFIX = "__Host-"
SECURE_PREFIX = "__Secure-"


class CookieAttributes(TypedDict):
    """The ``path``, ``domain`` and ``secure`` arguments of ``set_cookie``."""

    path: str
    domain: str | None
    secure: bool


def session_cookie_prefix() -> str:
    """``"__Host-"``, ``"__Secure-"`` or ``""``: the session cookie name's prefix."""
    return _prefix_of(settings.SESSION_COOKIE_NAME)


def cookie_name(base: str) -> str:
    """The name of the app's cookie ``base``, with the session cookie's prefix."""
    return _prefixed(settings.SESSION_COOKIE_NAME, base)


# Asked on every request: remembered per session cookie name (so a changed
# setting, as in tests, gets its own answer).
@lru_cache(maxsize=16)
def _prefix_of(session_cookie_name: str) -> str:
    lowered = session_cookie_name.lower()
    for prefix in (HOST_PREFIX, SECURE_PREFIX):
        if lowered.startswith(prefix.lower()):
            return prefix
    return ""


@lru_cache(maxsize=16)
def _prefixed(session_cookie_name: str, base: str) -> str:
    return _prefix_of(session_cookie_name) + base


def cookie_attributes(
    *, path: str, domain: str | None, secure: bool
) -> CookieAttributes:
    """``path``, ``domain`` and ``secure`` as the prefix's rules require them.

    ``__Host-``: ``Secure``, ``Path=/``, no ``Domain``; ``__Secure-``:
    ``Secure``; no prefix: the values given.
    """
    prefix = session_cookie_prefix()
    if prefix == HOST_PREFIX:
        return {"path": "/", "domain": None, "secure": True}
    return {"path": path, "domain": domain, "secure": secure or prefix == SECURE_PREFIX}
