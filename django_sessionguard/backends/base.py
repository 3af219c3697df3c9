"""What both engines share: hashed keys at rest, request metadata, throttled activity.

:class:`SessionGuardStore` subclasses Django's database store and keeps its
constructor and its public behaviour. It overrides only what storing a hash of
the key instead of the key needs, plus two additions the middleware uses:
:meth:`~SessionGuardStore.bind_request` (who is asking) and
:meth:`~SessionGuardStore.touch` (record activity, at most once per
``SESSIONGUARD_ACTIVITY_INTERVAL``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from importlib import import_module
from typing import TYPE_CHECKING, Any, NamedTuple

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.sessions.backends.base import (
    VALID_KEY_CHARS,
    CreateError,
    UpdateError,
)
from django.contrib.sessions.backends.db import SessionStore as DjangoDBStore
from django.db import DatabaseError, IntegrityError, router, transaction
from django.db.models import Model, Q
from django.utils import timezone
from django.utils.crypto import get_random_string

from django_sessionguard import liveness
from django_sessionguard.auth_hash import user_id_of
from django_sessionguard.base_session import AbstractSession
from django_sessionguard.conf import conf
from django_sessionguard.devices import clean_user_agent, parse_user_agent
from django_sessionguard.keys import hash_key, is_well_formed, reference_for

logger = logging.getLogger("django_sessionguard")

#: Session data key holding the time of the last authentication (epoch seconds).
AUTH_AT_KEY = "_sessionguard_auth_at"

#: Columns a data save writes; activity columns are written only by a touch.
DATA_FIELDS = ("session_data", "expire_date", "user", "authenticated_at")
ACTIVITY_FIELDS = (
    "last_activity",
    "ip_address",
    "user_agent",
    "device_type",
    "browser",
    "browser_version",
    "os",
    "os_version",
)


class Activity(NamedTuple):
    """When a session was last active, and from which address and browser.

    A named tuple: read from the cache on every request, so it is built as
    cheaply as Python builds anything.
    """

    last_activity: float
    ip_address: str | None
    user_agent: str

    def to_cache(self) -> tuple[float, str | None, str]:
        return (self.last_activity, self.ip_address, self.user_agent)

    @classmethod
    def from_cache(cls, value: object) -> Activity | None:
        """Rebuild from a cached tuple; anything malformed reads as unknown."""
        if type(value) is tuple and len(value) == 3:
            at, ip, ua = value
            # What this app writes: checked with exact types, the usual case.
            if (
                type(at) is float
                and type(ua) is str
                and (ip is None or type(ip) is str)
            ):
                return cls(at, ip, ua)
        if not isinstance(value, tuple | list) or len(value) != 3:
            return None
        at, ip, ua = value
        if isinstance(at, bool) or not isinstance(at, int | float):
            return None
        if not isinstance(ua, str) or (ip is not None and not isinstance(ip, str)):
            return None
        return cls(float(at), ip, ua)

    @classmethod
    def from_row(cls, row: AbstractSession) -> Activity:
        return cls(row.last_activity.timestamp(), row.ip_address, row.user_agent)


def authentication_time(data: Mapping[str, Any]) -> float | None:
    """When a session's user last authenticated (epoch seconds), from its data."""
    value = data.get(AUTH_AT_KEY)
    if type(value) is float:  # as stored by this app
        return value
    return float(value) if isinstance(value, int | float) else None


# Every request binds its client: remembered per distinct (address, browser).
@lru_cache(maxsize=2048)
def _kept_of_client(
    ip_address: str | None,
    user_agent: str | None,
    keep: Callable[[str | None, str], tuple[str | None, str]] | None,
) -> tuple[str | None, str]:
    """What is recorded of a client: the User-Agent bounded, both as privacy allows."""
    cleaned = clean_user_agent(user_agent)
    if keep is None:  # the defaults: kept as received
        return ip_address, cleaned
    return keep(ip_address, cleaned)


def get_engine_store_class() -> type[SessionGuardStore] | None:
    """The configured ``SESSION_ENGINE``'s store, if it is one of ours."""
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    if isinstance(store_class, type) and issubclass(store_class, SessionGuardStore):
        return store_class
    return None


def evict_cached_sessions(key_hashes: Iterable[str]) -> None:
    """Remove any cached copy of these sessions (a no-op for the db engine)."""
    key_hashes = list(key_hashes)
    store_class = get_engine_store_class()
    if key_hashes and store_class is not None:
        store_class.evict_cached(key_hashes)


async def aevict_cached_sessions(key_hashes: Iterable[str]) -> None:
    """Async twin of :func:`evict_cached_sessions`."""
    key_hashes = list(key_hashes)
    store_class = get_engine_store_class()
    if key_hashes and store_class is not None:
        await store_class.aevict_cached(key_hashes)


class SessionGuardStore(DjangoDBStore):
    """Database-backed session store that records who, where and when."""

    if TYPE_CHECKING:
        # Django's private session API, which django-stubs does not declare.
        _session: dict[str, Any]
        model: type[AbstractSession]  # type: ignore[assignment]

        def _get_session(self, no_load: bool = False) -> dict[str, Any]: ...

        async def _aget_session(self, no_load: bool = False) -> dict[str, Any]: ...

        def _get_or_create_session_key(self) -> str: ...

        async def _aget_or_create_session_key(self) -> str: ...

    # Per-request state, set on the instance when it changes (class defaults:
    # a store is built on every request, so its constructor stays Django's).
    _client_ip: str | None = None
    _client_user_agent: str | None = None
    _activity: Activity | None = None
    _activity_written = False
    _saved_snapshot: tuple[str | None, bytes] | None = None
    _cycling = False

    @classmethod
    def get_model_class(cls) -> type[AbstractSession]:  # type: ignore[override]
        from django_sessionguard.models import Session

        return Session

    # -- keys --------------------------------------------------------------

    def _validate_session_key(self, key: str | None) -> bool:
        # Malformed cookies (wrong alphabet, over-long, another engine's
        # format) are dropped here, before any database or cache lookup.
        return is_well_formed(key)

    def _get_new_session_key(self) -> str:
        # 165 random bits: a collision is caught by the INSERT in create()
        # anyway, so the extra existence query Django makes is skipped.
        return get_random_string(32, VALID_KEY_CHARS)

    async def _aget_new_session_key(self) -> str:
        return self._get_new_session_key()

    @property
    def key_hash(self) -> str | None:
        """The at-rest name of this session (never the cookie value)."""
        key = self.session_key
        if not key:
            return None
        # Remembered per key: a request asks for it several times.
        memo = self.__dict__.get("_key_hash_memo")
        if memo is None or memo[0] != key:
            memo = (key, hash_key(key))
            self.__dict__["_key_hash_memo"] = memo
        return memo[1]

    @property
    def reference(self) -> str | None:
        """The public, non-secret identifier of this session."""
        key_hash = self.key_hash
        return reference_for(key_hash) if key_hash else None

    # -- request metadata --------------------------------------------------

    def bind_request(self, *, ip_address: str | None, user_agent: str | None) -> None:
        """Tell the store which client it serves (called by the middleware).

        What is kept of the address and User-Agent is decided here, once, by
        the privacy settings (:mod:`django_sessionguard.privacy`): everything
        recorded later starts from these values.
        """
        self._client_ip, self._client_user_agent = _kept_of_client(
            ip_address, user_agent, conf.client_filter
        )

    @property
    def cache_behind(self) -> bool:
        """Whether a write reached the database but not the cache (no cache here)."""
        return False

    @property
    def activity(self) -> Activity | None:
        """The activity record that came with the last load or write."""
        return self._activity

    @property
    def authenticated_at(self) -> float | None:
        """When the session's user last authenticated (epoch seconds), if known."""
        return authentication_time(self._get_session())

    def activity_due(self, now: float | None = None) -> bool:
        """Whether the next write should also record activity.

        True once ``SESSIONGUARD_ACTIVITY_INTERVAL`` has passed since the last
        recorded activity, or at once when the client's IP or User-Agent
        differs from the recorded ones.
        """
        activity = self._activity
        if activity is None or self._client_user_agent is None:
            return False
        now = time.time() if now is None else now
        return (
            now - activity.last_activity >= conf.ACTIVITY_INTERVAL
            or activity.ip_address != self._client_ip
            or activity.user_agent != self._client_user_agent
        )

    def _activity_values(self, now: datetime) -> dict[str, Any]:
        user_agent = self._client_user_agent or ""
        device = parse_user_agent(user_agent)
        return {
            "last_activity": now,
            "ip_address": self._client_ip,
            "user_agent": user_agent,
            "device_type": device.device_type,
            "browser": device.browser,
            "browser_version": device.browser_version,
            "os": device.os,
            "os_version": device.os_version,
        }

    def _client_activity(self, now: datetime) -> Activity:
        """The activity this request records: now, from the bound client."""
        return Activity(now.timestamp(), self._client_ip, self._client_user_agent or "")

    def _remember_activity(self, now: datetime) -> None:
        self._activity = self._client_activity(now)
        self._activity_written = True

    def confirm_activity(self) -> Activity | None:
        """The activity as recorded, for decisions that end a session.

        The database engine loaded it from the row already; engines with a
        cache check the row when the cached copy may lag behind it.
        """
        return self._activity

    async def aconfirm_activity(self) -> Activity | None:
        """See :meth:`confirm_activity`."""
        return self._activity

    # -- the row -----------------------------------------------------------

    def _user_id(self, data: dict[str, Any]) -> Any:
        return user_id_of(data)

    def create_model_instance(  # type: ignore[override]
        self, data: dict[str, Any]
    ) -> AbstractSession:
        """Build the row for ``data``; activity columns describe the bound client."""
        now = timezone.now()
        user_id = self._user_id(data)
        if user_id is not None and not isinstance(data.get(AUTH_AT_KEY), int | float):
            data[AUTH_AT_KEY] = now.timestamp()
        auth_at = data.get(AUTH_AT_KEY) if user_id is not None else None
        key_hash = hash_key(self._get_or_create_session_key())
        return self.model(
            key_hash=key_hash,
            reference=reference_for(key_hash),
            session_data=self.encode(data),
            expire_date=self.get_expiry_date(),
            user_id=user_id,
            authenticated_at=(
                datetime.fromtimestamp(auth_at, tz=timezone.get_current_timezone())
                if isinstance(auth_at, int | float)
                else None
            ),
            created_at=now,
            **self._activity_values(now),
        )

    async def acreate_model_instance(  # type: ignore[override]
        self, data: dict[str, Any]
    ) -> AbstractSession:
        """See :meth:`create_model_instance`."""
        if self._session_key is None:
            self._session_key = await self._aget_new_session_key()
        return self.create_model_instance(data)

    def get_update_fields(self, *, with_activity: bool) -> list[str]:
        """Columns an UPDATE writes: data always, activity only when due."""
        fields = list(DATA_FIELDS)
        if with_activity:
            fields.extend(ACTIVITY_FIELDS)
        return fields

    # -- load --------------------------------------------------------------

    def _get_session_from_db(self) -> AbstractSession | None:
        key_hash = self.key_hash
        if key_hash is None:
            return None
        try:
            row = self.model.objects.get(
                key_hash=key_hash, expire_date__gt=timezone.now()
            )
        except self.model.DoesNotExist:
            self._session_key = None
            return None
        self._activity = Activity.from_row(row)
        return row

    async def _aget_session_from_db(self) -> AbstractSession | None:
        key_hash = self.key_hash
        if key_hash is None:
            return None
        try:
            row = await self.model.objects.aget(
                key_hash=key_hash, expire_date__gt=timezone.now()
            )
        except self.model.DoesNotExist:
            self._session_key = None
            return None
        self._activity = Activity.from_row(row)
        return row

    def exists(self, session_key: str | None) -> bool:
        if not is_well_formed(session_key):
            return False
        return self.model.objects.filter(key_hash=hash_key(session_key)).exists()

    async def aexists(self, session_key: str | None) -> bool:
        if not is_well_formed(session_key):
            return False
        return await self.model.objects.filter(key_hash=hash_key(session_key)).aexists()

    # -- save --------------------------------------------------------------

    def _write_row(
        self, obj: Model, must_create: bool, update_fields: list[str] | None
    ) -> None:
        using = router.db_for_write(self.model, instance=obj)
        if must_create:
            try:
                if transaction.get_connection(using).in_atomic_block:
                    # A savepoint, so a key collision cannot break the outer
                    # transaction.
                    with transaction.atomic(using=using):
                        obj.save(force_insert=True, using=using)
                else:
                    # Autocommit: a failed INSERT breaks nothing, and the
                    # BEGIN/COMMIT pair would cost two round trips at sign-in.
                    obj.save(force_insert=True, using=using)
            except IntegrityError:
                if self._key_taken(obj, using):
                    raise CreateError from None  # create() draws another key
                # Anything else (a user deleted meanwhile, say) is not solved
                # by another key: Django's create() would retry forever.
                raise
            return
        # A queryset UPDATE of the named columns: one statement, no savepoint,
        # and a vanished row (0 rows) leaves any outer transaction usable.
        values = {
            field.attname: getattr(obj, field.attname)
            for field in self.model._meta.concrete_fields
            if field.name in (update_fields or ())
        }
        try:
            updated = (
                self.model._base_manager.using(using).filter(pk=obj.pk).update(**values)
            )
        except DatabaseError:
            raise UpdateError from None
        if not updated:
            raise UpdateError

    def _key_taken(self, obj: Model, using: str) -> bool:
        key_hash = getattr(obj, "key_hash", None)
        return self.model._base_manager.using(using).filter(key_hash=key_hash).exists()

    def _prepare_save(
        self, obj: AbstractSession, must_create: bool
    ) -> list[str] | None:
        if must_create:
            return None
        return self.get_update_fields(
            with_activity=self.activity_due(obj.last_activity.timestamp())
        )

    def _unchanged_since_save(self, data: dict[str, Any]) -> bool:
        snapshot = self._saved_snapshot
        return snapshot is not None and snapshot == self._snapshot(data)

    def _snapshot(self, data: dict[str, Any]) -> tuple[str | None, bytes]:
        return (self.session_key, self.serializer().dumps(data))

    def mark_saved(self) -> None:
        """Note that the data just saved is current: an identical save is skipped.

        Used where a session must be written early (at sign-in, under the
        session-limit lock) without paying for a second identical write when
        the middleware saves it again at the end of the request.
        """
        self._saved_snapshot = self._snapshot(self._get_session())

    def save(self, must_create: bool = False) -> None:
        """Write the session; an UPDATE leaves activity columns alone unless due."""
        if self.session_key is None:
            return self.create()
        data = self._get_session(no_load=must_create)
        if not must_create and self._unchanged_since_save(data):
            return
        obj = self.create_model_instance(data)
        update_fields = self._prepare_save(obj, must_create)
        self._write_row(obj, must_create, update_fields)
        if must_create or (update_fields and "last_activity" in update_fields):
            self._remember_activity(obj.last_activity)

    async def asave(self, must_create: bool = False) -> None:
        """See :meth:`save`."""
        if self.session_key is None:
            return await self.acreate()
        data = await self._aget_session(no_load=must_create)
        if not must_create and self._unchanged_since_save(data):
            return
        obj = await self.acreate_model_instance(data)
        update_fields = self._prepare_save(obj, must_create)
        await sync_to_async(self._write_row)(obj, must_create, update_fields)
        if must_create or (update_fields and "last_activity" in update_fields):
            self._remember_activity(obj.last_activity)

    # -- creation ----------------------------------------------------------

    def create(self) -> None:
        super().create()
        self._record_created()

    async def acreate(self) -> None:
        await super().acreate()
        await sync_to_async(self._record_created)()

    def cycle_key(self) -> None:
        # The new row replaces the old one at sign-in; that is recorded as a
        # login, not as a new session.
        self._cycling = True
        try:
            super().cycle_key()
        finally:
            self._cycling = False

    async def acycle_key(self) -> None:
        self._cycling = True
        try:
            await super().acycle_key()
        finally:
            self._cycling = False

    def _record_created(self) -> None:
        if self._cycling:
            return
        from django_sessionguard.events import EventKind, record_event

        record_event(
            EventKind.CREATED,
            session_ref=self.reference or "",
            ip_address=self._client_ip,
            device=str(parse_user_agent(self._client_user_agent or "")),
        )

    # -- activity ----------------------------------------------------------

    def touch(self, *, force: bool = False) -> bool:
        """Record activity if due, touching only the activity columns.

        Never rewrites session data, so a slow request cannot undo a newer
        write made by a concurrent one. ``force`` writes even when not due
        (an explicit "stay signed in"). Returns whether anything was written.

        Finding no row means the session ended while this request was served
        from a cached copy: that copy is made unusable (a tombstone, on
        ``cached_db``), so it cannot outlive its row.
        """
        if not (force or self.activity_due()):
            return False
        key_hash = self.key_hash
        if key_hash is None:
            return False
        now = timezone.now()
        updated = self._write_activity(key_hash, now)
        if updated:
            self._remember_activity(now)
        return updated

    async def atouch(self, *, force: bool = False) -> bool:
        """See :meth:`touch`."""
        if not (force or self.activity_due()):
            return False
        key_hash = self.key_hash
        if key_hash is None:
            return False
        now = timezone.now()
        updated = await self._awrite_activity(key_hash, now)
        if updated:
            self._remember_activity(now)
        return updated

    def _write_activity(self, key_hash: str, now: datetime) -> bool:
        """Write the activity columns of the row; whether it still exists."""
        rows = self.model.objects.filter(key_hash=key_hash)
        return bool(rows.update(**self._activity_values(now)))

    async def _awrite_activity(self, key_hash: str, now: datetime) -> bool:
        """See :meth:`_write_activity`."""
        rows = self.model.objects.filter(key_hash=key_hash)
        return bool(await rows.aupdate(**self._activity_values(now)))

    # -- delete ------------------------------------------------------------

    def delete(self, session_key: str | None = None) -> None:
        if session_key is None:
            session_key = self.session_key
        if not is_well_formed(session_key):
            return
        key_hash = hash_key(session_key)
        self.model.objects.filter(key_hash=key_hash).delete_rows()
        self.evict_cached([key_hash])

    async def adelete(self, session_key: str | None = None) -> None:
        if session_key is None:
            session_key = self.session_key
        if not is_well_formed(session_key):
            return
        key_hash = hash_key(session_key)
        await sync_to_async(self.model.objects.filter(key_hash=key_hash).delete_rows)()
        await self.aevict_cached([key_hash])

    # -- cache hooks -------------------------------------------------------

    def seal(self) -> None:
        """Make this session's cached copies unusable now, or raise.

        For code that records an ending before Django deletes the session; the
        database engine has no cached copies.
        """

    @classmethod
    def evict_cached(cls, key_hashes: list[str]) -> None:
        """Remove cached copies of these sessions; the database engine has none."""

    @classmethod
    async def aevict_cached(cls, key_hashes: list[str]) -> None:
        """See :meth:`evict_cached`."""

    # -- housekeeping ------------------------------------------------------

    #: Rows deleted per statement by :meth:`clear_expired`.
    clear_expired_batch_size = 1000

    @classmethod
    def clear_expired(cls) -> None:
        """Delete expired rows in batches (bounded memory and lock time)."""
        for _ in cls.iter_clear_expired():
            pass

    @classmethod
    def iter_clear_expired(cls, batch_size: int | None = None) -> Iterable[int]:
        """Delete dead rows batch by batch, yielding each batch's row count.

        First the expired rows (through the expiry index); their cached copies
        have already timed out. Then, one pass per deadline in force, the
        signed-in rows past a timeout or the "not valid before" cut-off
        (:mod:`~django_sessionguard.liveness`; a timeout set as a per-user
        callable is left to the expiry date): their cached copies are evicted
        with each batch, so a timeout relaxed later cannot bring one back.
        """
        batch_size = batch_size or cls.clear_expired_batch_size
        now = timezone.now()
        yield from cls._clear_batches(Q(expire_date__lt=now), batch_size, evict=False)
        for deadline in liveness.deadlines(now):
            yield from cls._clear_batches(
                deadline.overdue & Q(expire_date__gte=now), batch_size, evict=True
            )

    @classmethod
    def _clear_batches(
        cls, condition: Q, batch_size: int, *, evict: bool
    ) -> Iterable[int]:
        model = cls.get_model_class()
        while True:
            batch = list(
                model.objects.filter(condition).values_list("key_hash", flat=True)[
                    :batch_size
                ]
            )
            if not batch:
                return
            using = router.db_for_write(model)
            rows = model.objects.using(using).filter(key_hash__in=batch)
            if evict:
                # All or nothing, as when sessions are ended.
                with transaction.atomic(using=using):
                    deleted = rows.delete_rows()
                    cls.evict_cached(batch)
            else:
                deleted = rows.delete_rows()
            yield deleted
            if len(batch) < batch_size:
                return

    @classmethod
    async def aclear_expired(cls) -> None:
        """See :meth:`clear_expired`."""
        await sync_to_async(cls.clear_expired)()
