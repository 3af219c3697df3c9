"""Cached, database-backed sessions: the database is the record, the cache the hot path.

Each session has one cache entry, named by the key's hash, holding
``(session dict, activity)``. A request loads it with one ``get`` (a single
``GET`` on Redis); a cache miss reads the row once and repopulates the entry
with ``add`` (``SET NX``), so it cannot overwrite a newer save.

Two kinds of write change the entry:

* a save writes the data (and the activity it knows) with one ``set``;
* a throttled :meth:`~SessionStore.touch` changes only the activity, keeping
  the data the entry holds *at that moment*
  (:mod:`~django_sessionguard.backends.cache_update`: a ``WATCH``/``MULTI``
  transaction on django-redis), so a slow request cannot undo a concurrent
  save. A save racing with a touch may leave the cached activity older than
  the row's; before a session is ended as idle, the row's is checked.

The cache is a copy, and a cache that fails never fails a request
(``docs/faults.md``):

* Reads fall back to the database. After one failed cache call a store makes
  no more (a hung Redis costs one ``SOCKET_TIMEOUT`` per request, not one per
  call).
* Writes reach the database whether or not the cache takes them. When it did
  not, the store is :attr:`~SessionStore.cache_behind` and the middleware
  tells the client (:mod:`django_sessionguard.stale_cache`); the client's next
  request drops the cached copy and reads the row, so a copy that Redis kept
  through the outage cannot undo a write made during it.
* Ending a session deletes its row and, in the same transaction, writes a
  short-lived *tombstone* over its entry. A cache-miss ``add`` cannot
  replace it; an update writes the cache before the row, so it either
  finished before the ``DELETE`` (and its copy is overwritten) or finds no
  row and puts the tombstone back; a touch that finds no row does the same.
  A request racing with the ending therefore cannot bring the session back
  into the cache. If the tombstone cannot be written, the ending raises
  :class:`~django_sessionguard.faults.SessionCacheUnavailable` and nothing is
  ended, unless Django's own check already refuses the session for good
  (its password changed: :mod:`~django_sessionguard.auth_hash`).
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.sessions.backends.base import UpdateError
from django.core.cache import BaseCache, caches
from django.db import router, transaction

from django_sessionguard import auth_hash
from django_sessionguard.backends import cache_update
from django_sessionguard.backends.base import Activity, SessionGuardStore
from django_sessionguard.base_session import AbstractSession
from django_sessionguard.faults import SessionCacheUnavailable
from django_sessionguard.keys import hash_key, is_well_formed

logger = logging.getLogger("django_sessionguard")

KEY_PREFIX = "django_sessionguard.cached_db:"

#: The value written over a session's entry when it ends. Any reader treats
#: it as a miss that must not be repopulated.
TOMBSTONE = "django_sessionguard:ended"


def describe(exc: BaseException) -> str:
    """``"TimeoutError: Timeout reading from socket"``: for a log line, no traceback."""
    return f"{type(exc).__name__}: {exc}"


def is_timeout(exc: BaseException) -> bool:
    """Whether the cache timed out (redis-py, socket or builtin), here or in a cause."""
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and seen not in chain:  # chains can loop
        if isinstance(seen, TimeoutError | socket.timeout) or (
            type(seen).__name__ == "TimeoutError"
        ):
            return True
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    return False


class SessionStore(SessionGuardStore):
    """Sessions read from the cache and written through to the database."""

    cache_key_prefix = KEY_PREFIX

    #: Attempts made to write tombstones before an ending is refused. A timeout
    #: is not retried: a hung cache would only cost another timeout.
    eviction_attempts = 3

    #: Seconds a tombstone outlives the ending. It must outlast the time between
    #: a racing request's read of the row and its ``add``: milliseconds, unless
    #: that process stalls.
    tombstone_timeout = 300

    # Per-request state: class defaults, set on the instance when it changes.
    #: A cache call failed during this request: make no more.
    _cache_failed = False
    #: The database has a write the cache did not get.
    _cache_behind = False
    #: The client says the cached copy may be older than the row.
    _distrust_cache = False
    #: The cached copy was checked (and dropped if it was suspect).
    _cache_repaired = False
    #: ``(key hash, data)`` of the session flush() or cycle_key() is ending.
    _held_for_ending: tuple[str, dict[str, Any]] | None = None

    def __init__(self, session_key: str | None = None) -> None:
        self._cache: BaseCache = caches[settings.SESSION_CACHE_ALIAS]
        #: Key hashes this store has already written tombstones for.
        self._sealed: set[str] = set()
        super().__init__(session_key)

    # -- cache keys --------------------------------------------------------

    @classmethod
    def data_cache_key(cls, key_hash: str) -> str:
        return f"{cls.cache_key_prefix}{key_hash}"

    @property
    def cache_key(self) -> str:
        """The session's cache key (named by the key's hash, never the key)."""
        return self.data_cache_key(hash_key(self._get_or_create_session_key()))

    async def acache_key(self) -> str:
        return self.data_cache_key(hash_key(await self._aget_or_create_session_key()))

    def _cache_timeout(self, **kwargs: Any) -> int:
        return self.get_expiry_age(**kwargs)

    # -- cache health ------------------------------------------------------

    @property
    def cache_behind(self) -> bool:
        """Whether a write reached the database but not the cache in this request."""
        return self._cache_behind

    @property
    def cache_repaired(self) -> bool:
        """Whether a distrusted cached copy was checked (and dropped) successfully."""
        return self._cache_repaired and not self._cache_behind

    def distrust_cache(self) -> None:
        """Do not serve the cached copy as it is: drop it and read the row.

        Called by the middleware, before the session loads, when the client
        carries the reminder that an earlier write missed the cache.
        """
        self._distrust_cache = True

    def _cache_call(
        self, what: str, call: Callable[..., Any], *args: Any
    ) -> tuple[bool, Any]:
        """Make one cache call; on failure log it, and skip the rest of the request.

        Returns ``(ok, result)``.
        """
        if self._cache_failed:
            return False, None
        try:
            return True, call(*args)
        except Exception as exc:
            self._cache_failed = True
            logger.warning(
                "Session cache unavailable (%s: %s); using the database.",
                what,
                describe(exc),
            )
            return False, None

    async def _acache_call(
        self, what: str, call: Callable[..., Awaitable[Any]], *args: Any
    ) -> tuple[bool, Any]:
        """See :meth:`_cache_call`."""
        if self._cache_failed:
            return False, None
        try:
            return True, await call(*args)
        except Exception as exc:
            self._cache_failed = True
            logger.warning(
                "Session cache unavailable (%s: %s); using the database.",
                what,
                describe(exc),
            )
            return False, None

    # -- load --------------------------------------------------------------

    def _from_cache(self, entry: Any) -> dict[str, Any] | None:
        """The data of a usable entry (its activity is kept); None for anything else.

        An entry without a usable activity is not used either: the row's is
        read, so timeouts and activity tracking never go blind (the next
        touch repairs the entry).
        """
        # A tuple as pickled; a list from a JSON or msgpack serializer.
        if not isinstance(entry, tuple | list) or len(entry) != 2:
            return None
        data, cached = entry
        activity = Activity.from_cache(cached)
        if not isinstance(data, dict) or activity is None:
            return None
        self._activity = activity
        return data

    def _entry(
        self, data: dict[str, Any], activity: Activity | None = None
    ) -> tuple[dict[str, Any], Any]:
        activity = activity or self._activity
        return (data, activity.to_cache() if activity else None)

    def _suspect(self, entry: Any) -> bool:
        """Whether a distrusted copy is there to drop (the cache answered)."""
        if entry is None or entry == TOMBSTONE:
            self._cache_repaired = True  # nothing stale to serve
            return False
        return True

    def load(self) -> dict[str, Any]:
        key_hash = self.key_hash
        if key_hash is None:
            return {}
        cache_key = self.data_cache_key(key_hash)
        ok, entry = self._cache_call("read", self._cache.get, cache_key)
        if ok and self._distrust_cache and self._suspect(entry):
            dropped, _ = self._cache_call(
                "drop a stale copy", self._cache.delete, cache_key
            )
            self._cache_repaired = dropped
            entry = None
        data = self._from_cache(entry)
        if data is not None:
            return data
        row = self._get_session_from_db()
        if row is None:
            return {}
        data = self.decode(row.session_data)
        if entry != TOMBSTONE:
            self._cache_call(
                "repopulate",
                self._cache.add,
                cache_key,
                self._entry(data),
                self._cache_timeout(expiry=row.expire_date),
            )
        return data

    async def aload(self) -> dict[str, Any]:
        key_hash = self.key_hash
        if key_hash is None:
            return {}
        cache_key = self.data_cache_key(key_hash)
        ok, entry = await self._acache_call("read", self._cache.aget, cache_key)
        if ok and self._distrust_cache and self._suspect(entry):
            dropped, _ = await self._acache_call(
                "drop a stale copy", self._cache.adelete, cache_key
            )
            self._cache_repaired = dropped
            entry = None
        data = self._from_cache(entry)
        if data is not None:
            return data
        row = await self._aget_session_from_db()
        if row is None:
            return {}
        data = self.decode(row.session_data)
        if entry != TOMBSTONE:
            await self._acache_call(
                "repopulate",
                self._cache.aadd,
                cache_key,
                self._entry(data),
                await self.aget_expiry_age(expiry=row.expire_date),
            )
        return data

    def exists(self, session_key: str | None) -> bool:
        if not is_well_formed(session_key):
            return False
        ok, entry = self._cache_call(
            "read", self._cache.get, self.data_cache_key(hash_key(session_key))
        )
        if ok and entry is not None and entry != TOMBSTONE:
            return True
        return super().exists(session_key)

    async def aexists(self, session_key: str | None) -> bool:
        if not is_well_formed(session_key):
            return False
        ok, entry = await self._acache_call(
            "read", self._cache.aget, self.data_cache_key(hash_key(session_key))
        )
        if ok and entry is not None and entry != TOMBSTONE:
            return True
        return await super().aexists(session_key)

    # -- save --------------------------------------------------------------

    def _activity_saved(
        self, obj: AbstractSession, must_create: bool, update_fields: list[str] | None
    ) -> Activity | None:
        """The activity the row will hold after this write (``None``: unchanged)."""
        if must_create or (update_fields and "last_activity" in update_fields):
            return Activity(
                obj.last_activity.timestamp(),
                self._client_ip,
                self._client_user_agent or "",
            )
        return None

    def save(self, must_create: bool = False) -> None:
        """Write the row and the data entry (an unchanged save writes neither).

        A new session is inserted, then cached. An existing one is cached
        first, then updated: if the row has gone meanwhile (the session was
        ended), the tombstone is put back and :class:`UpdateError` raised, so
        the ending stays effective. A cache that fails is logged and skipped.
        """
        if self.session_key is None:
            return self.create()
        data = self._get_session(no_load=must_create)
        if not must_create and self._unchanged_since_save(data):
            return None
        obj = self.create_model_instance(data)
        update_fields = self._prepare_save(obj, must_create)
        activity = self._activity_saved(obj, must_create, update_fields)
        entry = self._entry(data, activity)
        if not must_create:
            self._write_entry(entry)
        try:
            self._write_row(obj, must_create, update_fields)
        except UpdateError:
            self._reseal()
            raise
        if must_create:
            self._write_entry(entry)
        if activity is not None:
            self._remember_activity(obj.last_activity)
        return None

    async def asave(self, must_create: bool = False) -> None:
        """See :meth:`save`."""
        if self.session_key is None:
            return await self.acreate()
        data = await self._aget_session(no_load=must_create)
        if not must_create and self._unchanged_since_save(data):
            return None
        obj = await self.acreate_model_instance(data)
        update_fields = self._prepare_save(obj, must_create)
        activity = self._activity_saved(obj, must_create, update_fields)
        entry = self._entry(data, activity)
        if not must_create:
            await self._awrite_entry(entry)
        try:
            await sync_to_async(self._write_row)(obj, must_create, update_fields)
        except UpdateError:
            await self._areseal()
            raise
        if must_create:
            await self._awrite_entry(entry)
        if activity is not None:
            self._remember_activity(obj.last_activity)
        return None

    def _write_entry(self, entry: tuple[dict[str, Any], Any]) -> None:
        ok, _ = self._cache_call(
            "write", self._cache.set, self.cache_key, entry, self._cache_timeout()
        )
        if not ok:
            self._cache_behind = True

    async def _awrite_entry(self, entry: tuple[dict[str, Any], Any]) -> None:
        ok, _ = await self._acache_call(
            "write",
            self._cache.aset,
            await self.acache_key(),
            entry,
            await self.aget_expiry_age(),
        )
        if not ok:
            self._cache_behind = True

    def _reseal(self) -> None:
        """After an update or a touch that found no row: keep the session ended.

        The request's own cache write may have replaced the ending's
        tombstone, or the request was served from a copy that outlived its
        row. Skipped once a cache call failed in this request.
        """
        key_hash = self.key_hash
        if key_hash is None or self._cache_failed:
            return
        # Logged if it fails; the write that raced with the ending may then
        # stay cached (see docs/faults.md).
        with contextlib.suppress(SessionCacheUnavailable):
            self.evict_cached([key_hash])

    async def _areseal(self) -> None:
        """See :meth:`_reseal`."""
        key_hash = self.key_hash
        if key_hash is None or self._cache_failed:
            return
        with contextlib.suppress(SessionCacheUnavailable):
            await self.aevict_cached([key_hash])

    # -- activity ----------------------------------------------------------

    def _restamp(self, activity: Activity) -> Callable[[Any], Any]:
        """The change a touch makes to the entry: new activity, the data as it is."""

        def change(current: Any) -> Any:
            if not isinstance(current, tuple | list) or len(current) != 2:
                # Missing, ended (tombstone) or malformed: the next load reads
                # the row, and nothing here may bring an ended session back.
                return cache_update.UNCHANGED
            data, cached = current
            newer = Activity.from_cache(cached)
            if not isinstance(data, dict) or (
                newer is not None and newer.last_activity >= activity.last_activity
            ):
                return cache_update.UNCHANGED
            return (data, activity.to_cache())

        return change

    def _write_activity(self, key_hash: str, now: datetime) -> bool:
        """Stamp the cached entry first, then the row; keep an ended session ended.

        The same order as a save. If the row has gone (the session ended
        meanwhile, or this request was served from a copy that outlived its
        row), the tombstone is written: no cached copy outlives its row.
        """
        self._stamp_cache(key_hash, self._client_activity(now))
        if super()._write_activity(key_hash, now):
            return True
        self._reseal()
        return False

    async def _awrite_activity(self, key_hash: str, now: datetime) -> bool:
        """See :meth:`_write_activity`."""
        await self._astamp_cache(key_hash, self._client_activity(now))
        if await super()._awrite_activity(key_hash, now):
            return True
        await self._areseal()
        return False

    def _stamp_cache(self, key_hash: str, activity: Activity) -> None:
        ok, _ = self._cache_call(
            "write activity",
            cache_update.update,
            self._cache,
            self.data_cache_key(key_hash),
            self._restamp(activity),
            self._cache_timeout(),
        )
        if not ok:
            self._cache_behind = True

    async def _astamp_cache(self, key_hash: str, activity: Activity) -> None:
        ok, _ = await self._acache_call(
            "write activity",
            cache_update.aupdate,
            self._cache,
            self.data_cache_key(key_hash),
            self._restamp(activity),
            await self.aget_expiry_age(),
        )
        if not ok:
            self._cache_behind = True

    def confirm_activity(self) -> Activity | None:
        """The newer of the cached activity and the row's, the entry repaired.

        A save that raced with a touch can leave the cached activity older
        than the row's: checked before the session is ended as idle.
        """
        key_hash = self.key_hash
        if key_hash is None:
            return self._activity
        recorded = self._recorded_activity(
            self.model.objects.filter(key_hash=key_hash)
            .values_list("last_activity", "ip_address", "user_agent")
            .first()
        )
        if recorded is not None:
            self._stamp_cache(key_hash, recorded)
        return self._activity

    async def aconfirm_activity(self) -> Activity | None:
        """See :meth:`confirm_activity`."""
        key_hash = self.key_hash
        if key_hash is None:
            return self._activity
        recorded = self._recorded_activity(
            await self.model.objects.filter(key_hash=key_hash)
            .values_list("last_activity", "ip_address", "user_agent")
            .afirst()
        )
        if recorded is not None:
            await self._astamp_cache(key_hash, recorded)
        return self._activity

    def _recorded_activity(self, row: tuple[Any, ...] | None) -> Activity | None:
        """The row's activity if it is newer than the cached one (kept then)."""
        if row is None:
            return None
        at, ip_address, user_agent = row
        recorded = Activity(at.timestamp(), ip_address, user_agent)
        current = self._activity
        if current is not None and current.last_activity >= recorded.last_activity:
            return None
        self._activity = recorded
        return recorded

    # -- ending ------------------------------------------------------------

    def delete(self, session_key: str | None = None) -> None:
        """End a session: its row and its cached copies, in one transaction.

        The row is deleted first, then tombstones are written over its cache
        entry before the commit (as :func:`~django_sessionguard.services.end_sessions`
        does). A save racing with this either updated the row before the
        ``DELETE`` (its cache write, made before its ``UPDATE``, is then
        overwritten by the tombstones) or waits for the row lock and finds no
        row (and puts the tombstones back, see :meth:`save`). If the
        tombstones cannot be written the transaction rolls back and
        :class:`~django_sessionguard.faults.SessionCacheUnavailable` is
        raised, with nothing ended; except for a session Django's own check
        already refuses for good (:mod:`~django_sessionguard.auth_hash`),
        whose row is then deleted alone.
        """
        if session_key is None:
            session_key = self.session_key
        if not is_well_formed(session_key):
            return
        key_hash = hash_key(session_key)
        try:
            self._end_row(key_hash)
        except SessionCacheUnavailable:
            if not self._refused_by_django(key_hash):
                raise
            self._end_refused_row(key_hash)

    async def adelete(self, session_key: str | None = None) -> None:
        """See :meth:`delete`."""
        if session_key is None:
            session_key = self.session_key
        if not is_well_formed(session_key):
            return
        key_hash = hash_key(session_key)
        try:
            await sync_to_async(self._end_row)(key_hash)
        except SessionCacheUnavailable:
            if not await sync_to_async(self._refused_by_django)(key_hash):
                raise
            await sync_to_async(self._end_refused_row)(key_hash)

    def _end_row(self, key_hash: str) -> None:
        using = router.db_for_write(self.model)
        with transaction.atomic(using=using):
            self.model.objects.using(using).filter(key_hash=key_hash).delete_rows()
            # After the DELETE, before the commit: see delete().
            self.evict_cached([key_hash])
        self._sealed.add(key_hash)

    def _ending_data(self, key_hash: str) -> dict[str, Any] | None:
        """The data of the session being ended: as this store held it, or its row's."""
        held = self._held_for_ending
        if held is not None and held[0] == key_hash and held[1]:
            return held[1]
        row = (
            self.model.objects.filter(key_hash=key_hash)
            .values_list("session_data", flat=True)
            .first()
        )
        return self.decode(row) if row is not None else None

    def _refused_by_django(self, key_hash: str) -> bool:
        data = self._ending_data(key_hash)
        return data is not None and auth_hash.refused_by_django(data)

    def _end_refused_row(self, key_hash: str) -> None:
        """End, in the database alone, a session Django refuses for good."""
        self.model.objects.filter(key_hash=key_hash).delete_rows()
        logger.warning(
            "Session cache unavailable: a session whose password hash no longer "
            "matches was ended in the database only; any cached copy is refused "
            "by Django's session check."
        )

    def flush(self) -> None:
        """Django's flush; a session Django refuses for good ends without the cache."""
        self._hold_for_ending(getattr(self, "_session_cache", None))
        try:
            super().flush()
        finally:
            self._held_for_ending = None

    async def aflush(self) -> None:
        """See :meth:`flush`."""
        self._hold_for_ending(getattr(self, "_session_cache", None))
        try:
            await super().aflush()
        finally:
            self._held_for_ending = None

    def _hold_for_ending(self, data: dict[str, Any] | None) -> None:
        # Django's flush() clears the data before delete() runs; delete()
        # needs it if the cache is down (to tell whether Django refuses it).
        key_hash = self.key_hash
        if key_hash is not None and data:
            self._held_for_ending = (key_hash, dict(data))

    def seal(self) -> None:
        """Make this session's cached copies unusable now, or raise.

        For code that records an ending before Django deletes the session
        (the sign-out receiver): if this raises, nothing has been recorded
        yet. The later :meth:`delete` writes the tombstones again, after its
        ``DELETE``, since a save racing with the sign-out may have replaced
        these.
        """
        key_hash = self.key_hash
        if key_hash is not None and key_hash not in self._sealed:
            self.evict_cached([key_hash])
            self._sealed.add(key_hash)

    def cycle_key(self) -> None:
        """A new key for the same data; the old key's row stays if the cache is down.

        Signing in must work during a cache outage. The old key's cached copy
        holds what the old key already gave access to, so when it cannot be
        made unusable the old row is kept too (listed, revocable, expiring),
        rather than leaving a cached copy that nothing records. (After a
        password change the old key is refused by Django's own check, and its
        row goes: see :meth:`delete`.)
        """
        self._hold_for_ending(self._get_session())
        try:
            super().cycle_key()
        except SessionCacheUnavailable:
            logger.warning(
                "Session cache unavailable: the previous key of a session whose "
                "key changed at sign-in stays valid until it expires or is revoked."
            )
        finally:
            self._held_for_ending = None

    async def acycle_key(self) -> None:
        """See :meth:`cycle_key`."""
        self._hold_for_ending(await self._aget_session())
        try:
            await super().acycle_key()
        except SessionCacheUnavailable:
            logger.warning(
                "Session cache unavailable: the previous key of a session whose "
                "key changed at sign-in stays valid until it expires or is revoked."
            )
        finally:
            self._held_for_ending = None

    @classmethod
    def _eviction_keys(cls, key_hashes: list[str]) -> list[str]:
        return [cls.data_cache_key(key_hash) for key_hash in key_hashes]

    @classmethod
    def _refuse(cls, count: int, exc: BaseException) -> SessionCacheUnavailable:
        logger.error(
            "Session cache unavailable: could not make %d ended session(s) "
            "unusable there (%s).",
            count,
            describe(exc),
        )
        return SessionCacheUnavailable(
            f"The session cache could not be reached to end {count} session(s)."
        )

    @classmethod
    def evict_cached(cls, key_hashes: list[str]) -> None:
        """Write tombstones over these sessions' cache entries, or raise.

        One round trip (``set_many``: a pipeline on Redis). A cached copy would
        keep a session usable, so a failure is retried (unless it was a
        timeout) and then raised as
        :class:`~django_sessionguard.faults.SessionCacheUnavailable`; callers
        write tombstones before, or inside the same transaction as, deleting
        rows, so nothing is half-ended.
        """
        cache = caches[settings.SESSION_CACHE_ALIAS]
        tombstones = dict.fromkeys(cls._eviction_keys(key_hashes), TOMBSTONE)
        for attempt in range(1, cls.eviction_attempts + 1):
            try:
                failed = cache.set_many(tombstones, cls.tombstone_timeout)
                if failed:
                    raise ConnectionError(f"{len(failed)} cache key(s) not written")
                return
            except Exception as exc:
                if attempt == cls.eviction_attempts or is_timeout(exc):
                    raise cls._refuse(len(key_hashes), exc) from exc

    @classmethod
    async def aevict_cached(cls, key_hashes: list[str]) -> None:
        """See :meth:`evict_cached`."""
        cache = caches[settings.SESSION_CACHE_ALIAS]
        tombstones = dict.fromkeys(cls._eviction_keys(key_hashes), TOMBSTONE)
        for attempt in range(1, cls.eviction_attempts + 1):
            try:
                failed = await cache.aset_many(tombstones, cls.tombstone_timeout)
                if failed:
                    raise ConnectionError(f"{len(failed)} cache key(s) not written")
                return
            except Exception as exc:
                if attempt == cls.eviction_attempts or is_timeout(exc):
                    raise cls._refuse(len(key_hashes), exc) from exc
