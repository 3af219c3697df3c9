"""The client's reminder that its session's cached copy may be older than the row.

When a write reaches the database but not the cache (Redis down, hung or
unreachable), the copy Redis kept from before would be served again once it
answers - a paused Redis, a network partition, or a Redis restored from a
snapshot keeps it - and could undo the write: the next save would start from
the old data, and an old activity time could end the session as idle.

No server-side record can tell every web process about it without a query per
request, so the reminder travels with the only party that always comes back
with the session: its client. The response of the request whose cache write
failed sets a small cookie; while a request carries it, the store does not
serve the cached copy as it is but drops it and reads the row (one query, one
cache delete, one ``add``), and once that worked the cookie is deleted.

The cookie holds no secret and names nothing (its value is ``1``). A client
that forges or keeps it only makes its own requests read the database. With a
``__Host-`` session cookie it is ``__Host-sessionguard_stale`` (see
:mod:`~django_sessionguard.cookie_prefix`).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from django_sessionguard.backends.cached_db import SessionStore as CachedStore
from django_sessionguard.cookie_prefix import (
    CookieAttributes,
    cookie_attributes,
    cookie_name,
)

#: The reminder's cookie name (without the session cookie's prefix: see
#: :func:`stale_cookie_name`).
STALE_COOKIE = "sessionguard_stale"


def stale_cookie_name() -> str:
    """The reminder's name: :data:`STALE_COOKIE`, prefixed like the session's."""
    return cookie_name(STALE_COOKIE)


def _attributes() -> CookieAttributes:
    return cookie_attributes(
        path=settings.SESSION_COOKIE_PATH,
        domain=settings.SESSION_COOKIE_DOMAIN,
        secure=bool(settings.SESSION_COOKIE_SECURE),
    )


def note_request(request: HttpRequest, session: object) -> None:
    """Before the session loads: distrust its cached copy if the client says so."""
    if isinstance(session, CachedStore) and request.COOKIES.get(stale_cookie_name()):
        session.distrust_cache()


def update_response(
    request: HttpRequest, response: HttpResponseBase, session: object
) -> None:
    """After the session was saved and touched: set, keep or delete the reminder."""
    if not isinstance(session, CachedStore):
        return
    if session.cache_behind and session.session_key is not None:
        max_age = (
            None if session.get_expire_at_browser_close() else session.get_expiry_age()
        )
        response.set_cookie(
            stale_cookie_name(),
            "1",
            max_age=max_age,
            httponly=True,
            samesite=settings.SESSION_COOKIE_SAMESITE,
            **_attributes(),
        )
    elif request.COOKIES.get(stale_cookie_name()) and (
        session.cache_repaired or session.session_key is None
    ):
        attributes = _attributes()
        response.delete_cookie(
            stale_cookie_name(),
            path=attributes["path"],
            domain=attributes["domain"],
            samesite=settings.SESSION_COOKIE_SAMESITE,
        )
