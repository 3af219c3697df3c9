"""S4 and S5 with Django's own engines: what a site has to do without us.

Django's session stores are keyed by session key only: nothing records whose
session is whose except the session data itself. So "this user's sessions" can
only be found by reading and decoding every session in the store and keeping
those whose ``_auth_user_id`` is the user's. That is what these functions do,
as efficiently as a real application would:

* db and cached_db: one ``SELECT`` of every unexpired ``django_session`` row
  (key, data, expiry), each decoded in Python (a signed, compressed JSON
  blob: ``SessionBase.decode``). The database is the record; cached_db's cache
  holds only recently used sessions, so it cannot be the one to search.
  Ending them: one ``DELETE ... WHERE session_key IN (...)``, and for cached_db
  one ``DEL`` of their cached copies (Django's own ``delete()`` does the same,
  one session at a time).
* cache: Redis is the only store, and it can only be enumerated by ``SCAN``
  of the engine's key prefix over the whole Redis database, a page of about
  :data:`SCAN_COUNT` keys per call, each page's values fetched with one
  ``MGET`` and decoded (django-redis's pickle). Ending them: one ``DEL``.
  ``KEYS`` would be one command, but it blocks Redis for the whole walk;
  Redis's own documentation rules it out in production.

The session key is a credential: listings carry a keyed hash of it (what a
page would use to name the session in a revoke form), never the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.backends.cache import SessionStore as CacheStore
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.core.cache import caches
from django.utils import timezone
from django.utils.crypto import salted_hmac

#: Keys ``SCAN`` is asked for per call (a hint: Redis returns about that many).
SCAN_COUNT = 1000


@dataclass(frozen=True)
class FoundSession:
    key: str
    #: None for the cache engine: Redis has the TTL, at one more command a key.
    expire_date: datetime | None


def session_id(session_key: str) -> str:
    """What a page may show for a session: a keyed hash, never the key."""
    return salted_hmac("bench.django.session-id", session_key).hexdigest()[:32]


def user_sessions(store: SessionBase, user_id: Any) -> list[FoundSession]:
    """Every unexpired session of ``user_id`` in ``store``'s engine."""
    wanted = str(user_id)
    if isinstance(store, DBStore):  # db, and cached_db (a subclass)
        return _scan_database(store, wanted)
    if isinstance(store, CacheStore):
        return _scan_cache(store, wanted)
    raise TypeError(f"no baseline for {type(store).__module__}")


def end_sessions(store: SessionBase, sessions: list[FoundSession]) -> None:
    """End ``sessions``: the rows and the cached copies, or the cache entries."""
    keys = [found.key for found in sessions]
    if not keys:
        return
    cache = caches[settings.SESSION_CACHE_ALIAS]
    if isinstance(store, DBStore):
        store.get_model_class().objects.filter(session_key__in=keys).delete()
        if isinstance(store, CachedDBStore):
            cache.delete_many([store.cache_key_prefix + key for key in keys])
    elif isinstance(store, CacheStore):
        cache.delete_many([store.cache_key_prefix + key for key in keys])
    else:
        raise TypeError(f"no baseline for {type(store).__module__}")


def _scan_database(store: DBStore, user_id: str) -> list[FoundSession]:
    rows = (
        store.get_model_class()
        .objects.filter(expire_date__gt=timezone.now())
        .values_list("session_key", "session_data", "expire_date")
    )
    decode = store.decode
    return [
        FoundSession(key, expire_date)
        for key, data, expire_date in rows
        if decode(data).get(SESSION_KEY) == user_id
    ]


def _scan_cache(store: CacheStore, user_id: str) -> list[FoundSession]:
    from django_redis import get_redis_connection

    alias = settings.SESSION_CACHE_ALIAS
    cache: Any = caches[alias]
    client = get_redis_connection(alias)
    prefix = str(cache.make_key(store.cache_key_prefix))
    pattern = _glob_escape(prefix) + "*"
    decode = cache.client.decode
    found = []
    cursor = 0
    while True:
        cursor, page = client.scan(cursor, match=pattern, count=SCAN_COUNT)
        if page:
            for full_key, raw in zip(page, client.mget(page), strict=True):
                if raw is None:  # expired or ended since the SCAN
                    continue
                data = decode(raw)
                if isinstance(data, dict) and data.get(SESSION_KEY) == user_id:
                    found.append(FoundSession(full_key.decode()[len(prefix) :], None))
        if cursor == 0:
            return found


def _glob_escape(text: str) -> str:
    """``text`` as a literal in a Redis ``MATCH`` pattern."""
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)
