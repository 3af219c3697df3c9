"""Cached, database-backed sessions: the database is the record, the cache the hot path.

Each session has two cache entries, both named by the key's hash:

* the *data* entry, ``(session dict, activity)``, written by every save;
* the *activity* entry, written only by a throttled :meth:`touch`.

A request loads both in one round trip (``get_many``: a single ``MGET`` on
Redis) and takes the newer activity. Because a touch never rewrites the data
entry and a save never rewrites the activity entry, a slow request cannot undo
a concurrent write. A cache miss reads the row once and repopulates the data
entry with ``add`` (``SET NX``), so it cannot overwrite a newer save either.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches

from django_sessionguard.backends.base import Activity, SessionGuardStore
from django_sessionguard.keys import hash_key, is_well_formed

logger = logging.getLogger("django_sessionguard")

KEY_PREFIX = "django_sessionguard.cached_db:"


class SessionStore(SessionGuardStore):
    """Sessions read from the cache and written through to the database."""

    cache_key_prefix = KEY_PREFIX

    def __init__(self, session_key: str | None = None) -> None:
        self._cache: BaseCache = caches[settings.SESSION_CACHE_ALIAS]
        super().__init__(session_key)

    # -- cache keys --------------------------------------------------------

    @classmethod
    def data_cache_key(cls, key_hash: str) -> str:
        return f"{cls.cache_key_prefix}{key_hash}"

    @classmethod
    def activity_cache_key(cls, key_hash: str) -> str:
        return f"{cls.cache_key_prefix}a:{key_hash}"

    @property
    def cache_key(self) -> str:
        """The data entry's cache key (named by the key's hash, never the key)."""
        return self.data_cache_key(hash_key(self._get_or_create_session_key()))

    async def acache_key(self) -> str:
        return self.data_cache_key(hash_key(await self._aget_or_create_session_key()))

    def _cache_timeout(self, **kwargs: Any) -> int:
        return self.get_expiry_age(**kwargs)

    # -- load --------------------------------------------------------------

    def _from_cache(
        self, key_hash: str, found: dict[str, Any]
    ) -> dict[str, Any] | None:
        entry = found.get(self.data_cache_key(key_hash))
        if not isinstance(entry, tuple) or len(entry) != 2:
            return None
        data, embedded = entry
        if not isinstance(data, dict):
            return None
        activity = Activity.from_cache(embedded)
        touched = found.get(self.activity_cache_key(key_hash))
        if touched is not None:
            # The separate entry is newer whenever a touch wrote it since.
            newer = Activity.from_cache(touched)
            if newer is not None and (
                activity is None or newer.last_activity > activity.last_activity
            ):
                activity = newer
        self._activity = activity
        return data

    def _cache_keys(self, key_hash: str) -> list[str]:
        return [self.data_cache_key(key_hash), self.activity_cache_key(key_hash)]

    def _entry(self, data: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        activity = self._activity.to_cache() if self._activity else None
        return (data, activity)

    def load(self) -> dict[str, Any]:
        key_hash = self.key_hash
        if key_hash is None:
            return {}
        try:
            found = self._cache.get_many(self._cache_keys(key_hash))
        except Exception:
            logger.warning(
                "Session cache unavailable; reading the database.", exc_info=True
            )
            found = {}
        data = self._from_cache(key_hash, found)
        if data is not None:
            return data
        row = self._get_session_from_db()
        if row is None:
            return {}
        data = self.decode(row.session_data)
        try:
            self._cache.add(
                self.data_cache_key(key_hash),
                self._entry(data),
                self._cache_timeout(expiry=row.expire_date),
            )
        except Exception:
            logger.warning("Could not repopulate the session cache.", exc_info=True)
        return data

    async def aload(self) -> dict[str, Any]:
        key_hash = self.key_hash
        if key_hash is None:
            return {}
        try:
            found = await self._cache.aget_many(self._cache_keys(key_hash))
        except Exception:
            logger.warning(
                "Session cache unavailable; reading the database.", exc_info=True
            )
            found = {}
        data = self._from_cache(key_hash, found)
        if data is not None:
            return data
        row = await self._aget_session_from_db()
        if row is None:
            return {}
        data = self.decode(row.session_data)
        try:
            await self._cache.aadd(
                self.data_cache_key(key_hash),
                self._entry(data),
                await self.aget_expiry_age(expiry=row.expire_date),
            )
        except Exception:
            logger.warning("Could not repopulate the session cache.", exc_info=True)
        return data

    def exists(self, session_key: str | None) -> bool:
        if not is_well_formed(session_key):
            return False
        if self.data_cache_key(hash_key(session_key)) in self._cache:
            return True
        return super().exists(session_key)

    async def aexists(self, session_key: str | None) -> bool:
        if not is_well_formed(session_key):
            return False
        if await self._cache.ahas_key(self.data_cache_key(hash_key(session_key))):
            return True
        return await super().aexists(session_key)

    # -- save --------------------------------------------------------------

    def save(self, must_create: bool = False) -> None:
        # The cache is written once per database write: a new session is
        # written (and cached) by create(), and a save identical to the last
        # one (see mark_saved()) writes neither.
        if self.session_key is None:
            return self.create()
        data = self._get_session(no_load=must_create)
        if not must_create and self._unchanged_since_save(data):
            return None
        super().save(must_create)
        try:
            self._cache.set(
                self.cache_key, self._entry(self._session), self._cache_timeout()
            )
        except Exception:
            logger.exception("Error saving the session to the cache.")
        return None

    async def asave(self, must_create: bool = False) -> None:
        """See :meth:`save`."""
        if self.session_key is None:
            return await self.acreate()
        data = await self._aget_session(no_load=must_create)
        if not must_create and self._unchanged_since_save(data):
            return None
        await super().asave(must_create)
        try:
            await self._cache.aset(
                await self.acache_key(),
                self._entry(await self._aget_session()),
                await self.aget_expiry_age(),
            )
        except Exception:
            logger.exception("Error saving the session to the cache.")
        return None

    # -- activity ----------------------------------------------------------

    def _cache_activity(self) -> None:
        key_hash = self.key_hash
        if key_hash is None or self._activity is None:
            return
        try:
            self._cache.set(
                self.activity_cache_key(key_hash),
                self._activity.to_cache(),
                self._cache_timeout(),
            )
        except Exception:
            logger.warning("Could not cache session activity.", exc_info=True)

    async def _acache_activity(self) -> None:
        key_hash = self.key_hash
        if key_hash is None or self._activity is None:
            return
        try:
            await self._cache.aset(
                self.activity_cache_key(key_hash),
                self._activity.to_cache(),
                await self.aget_expiry_age(),
            )
        except Exception:
            logger.warning("Could not cache session activity.", exc_info=True)

    # -- eviction ----------------------------------------------------------

    @classmethod
    def _eviction_keys(cls, key_hashes: list[str]) -> list[str]:
        keys = []
        for key_hash in key_hashes:
            keys.append(cls.data_cache_key(key_hash))
            keys.append(cls.activity_cache_key(key_hash))
        return keys

    #: Attempts made to evict cached copies before a revocation fails loudly.
    eviction_attempts = 3

    @classmethod
    def evict_cached(cls, key_hashes: list[str]) -> None:
        """Delete the cached copies of these sessions, or raise.

        The rows are already gone, but a cached copy would keep the session
        usable, so a failure is retried and then raised rather than logged.
        """
        cache = caches[settings.SESSION_CACHE_ALIAS]
        keys = cls._eviction_keys(key_hashes)
        for attempt in range(1, cls.eviction_attempts + 1):
            try:
                cache.delete_many(keys)
                return
            except Exception:
                if attempt == cls.eviction_attempts:
                    logger.error(
                        "Could not evict %d session(s) from the cache.", len(key_hashes)
                    )
                    raise

    @classmethod
    async def aevict_cached(cls, key_hashes: list[str]) -> None:
        """See :meth:`evict_cached`."""
        cache = caches[settings.SESSION_CACHE_ALIAS]
        keys = cls._eviction_keys(key_hashes)
        for attempt in range(1, cls.eviction_attempts + 1):
            try:
                await cache.adelete_many(keys)
                return
            except Exception:
                if attempt == cls.eviction_attempts:
                    logger.error(
                        "Could not evict %d session(s) from the cache.", len(key_hashes)
                    )
                    raise
