"""Copying ``django.contrib.sessions`` sessions into ours, so switching logs nobody out.

The source is the ``django_session`` table, read through a throw-away
unmanaged model (``django.contrib.sessions`` need not be installed). Each live
row is decoded exactly as the source engine decodes it and written again
through our store's :meth:`~SessionGuardStore.create_model_instance`, so it is
stored the way our engine stores everything: under the hash of its key, with a
reference, its data re-encoded (our store signs with its own salt), and the
user taken from the data. The source row's expiry date is kept.

What the source never knew stays unknown until the session's next request:
the device, browser and IP columns are empty and the first request fills them
in. ``authenticated_at`` is the time of the import (the source does not record
sign-in times), so an absolute timeout counts from the switch.

Safe to run again: rows whose key hash is already in our table are skipped
before being decoded, so an interrupted import resumes where it stopped at the
cost of reading (not decoding) what it already copied. Expired rows are not
read at all. For ``cached_db`` sources the table is the truth as well
(Django's ``cached_db`` writes every save through to the database), so
importing the table is complete.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, fields
from functools import lru_cache
from importlib import import_module
from typing import Any

from django.apps.registry import Apps
from django.contrib.auth import get_user_model
from django.db import connections, models, router, transaction
from django.utils import timezone

from django_sessionguard.backends.base import SessionGuardStore, get_engine_store_class
from django_sessionguard.keys import hash_key, is_well_formed

logger = logging.getLogger("django_sessionguard")

DEFAULT_TABLE = "django_session"
SOURCE_ENGINES = (
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cached_db",
)
#: Engines that keep no table: there is nothing on the server to import.
TABLELESS_ENGINES = (
    "django.contrib.sessions.backends.cache",
    "django.contrib.sessions.backends.signed_cookies",
    "django.contrib.sessions.backends.file",
)


class CannotImport(Exception):
    """The import cannot start; the message says why and what to do."""


@lru_cache(maxsize=8)
def source_model(table: str = DEFAULT_TABLE) -> type[models.Model]:
    """An unmanaged model over a ``django.contrib.sessions``-shaped table.

    Registered in a private app registry, so it never reaches migrations,
    the admin or a clash with ``django.contrib.sessions.models.Session``.
    """
    meta = type(
        "Meta",
        (),
        {
            "apps": Apps(),
            "app_label": "sessionguard_import",
            "db_table": table,
            "managed": False,
        },
    )
    return type(
        "ContribSession",
        (models.Model,),
        {
            "__module__": __name__,
            "session_key": models.CharField(max_length=40, primary_key=True),
            "session_data": models.TextField(),
            "expire_date": models.DateTimeField(),
            "Meta": meta,
        },
    )


@dataclass
class ImportResult:
    """What an import (or one batch of it) did with the rows it read."""

    imported: int = 0
    already_present: int = 0
    unreadable: int = 0
    malformed_key: int = 0
    unknown_user: int = 0
    batches: int = 0

    @property
    def read(self) -> int:
        return (
            self.imported
            + self.already_present
            + self.unreadable
            + self.malformed_key
            + self.unknown_user
        )

    def add(self, other: ImportResult) -> None:
        for item in fields(self):
            setattr(
                self, item.name, getattr(self, item.name) + getattr(other, item.name)
            )


def target_store_class() -> type[SessionGuardStore]:
    """The store imported rows are written for: the configured engine if ours.

    Before the switch (``SESSION_ENGINE`` still Django's), the database engine:
    both of ours share the table, and ``cached_db`` fills its cache from it.
    """
    store_class = get_engine_store_class()
    if store_class is not None:
        return store_class
    from django_sessionguard.backends.db import SessionStore

    return SessionStore


class SessionImporter:
    """Copies live sessions from a ``django.contrib.sessions`` table, batch by batch."""

    def __init__(
        self,
        *,
        source_engine: str = SOURCE_ENGINES[0],
        table: str = DEFAULT_TABLE,
        using: str | None = None,  # the source's database alias
        batch_size: int = 1000,
        dry_run: bool = False,
    ) -> None:
        if source_engine in TABLELESS_ENGINES:
            raise CannotImport(
                f"{source_engine} keeps no sessions in a database table; there is "
                "nothing on the server to import."
            )
        try:
            decoder_class = import_module(source_engine).SessionStore
        except (ImportError, AttributeError):
            raise CannotImport(
                f"{source_engine!r} is not a session engine (a module with a "
                "SessionStore)."
            ) from None
        if isinstance(decoder_class, type) and issubclass(
            decoder_class, SessionGuardStore
        ):
            raise CannotImport(
                f"{source_engine} is one of django-sessionguard's engines: its "
                "sessions are already in place."
            )
        self.decoder = decoder_class()
        self.store_class = target_store_class()
        self.target = self.store_class.get_model_class()
        self.source = source_model(table)
        self.target_using = router.db_for_write(self.target)
        self.using = using or self.target_using
        self.batch_size = batch_size
        self.dry_run = dry_run
        self.now = timezone.now()
        connection = connections[self.using]
        with connection.cursor() as cursor:
            tables = connection.introspection.table_names(cursor)
        if table not in tables:
            raise CannotImport(
                f"There is no table {table!r} in database {self.using!r}: "
                "nothing to import."
            )

    def live_rows(self) -> models.QuerySet[Any]:
        return self.source._default_manager.using(self.using).filter(
            expire_date__gt=self.now
        )

    def count(self) -> int:
        """Live rows in the source (for a progress bar's total)."""
        return self.live_rows().count()

    def run(self) -> ImportResult:
        total = ImportResult()
        for result in self.batches():
            total.add(result)
        return total

    def batches(self) -> Iterator[ImportResult]:
        """Import batch after batch (keyset pagination on the key), yielding each."""
        after = ""
        while True:
            rows = list(
                self.live_rows()
                .filter(session_key__gt=after)
                .order_by("session_key")
                .values_list("session_key", "session_data", "expire_date")[
                    : self.batch_size
                ]
            )
            if not rows:
                return
            yield self.import_batch(rows)
            if len(rows) < self.batch_size:
                return
            after = rows[-1][0]

    def import_batch(self, rows: list[tuple[str, str, Any]]) -> ImportResult:
        result = ImportResult(batches=1)
        by_hash: dict[str, tuple[str, str, Any]] = {}
        for key, data, expire_date in rows:
            if is_well_formed(key):
                by_hash[hash_key(key)] = (key, data, expire_date)
            else:
                result.malformed_key += 1
        present = set(
            self.target._default_manager.using(self.target_using)
            .filter(key_hash__in=list(by_hash))
            .values_list("key_hash", flat=True)
        )
        result.already_present = len(present)
        decoded: list[tuple[str, dict[str, Any], Any]] = []
        for key_hash, (key, data, expire_date) in by_hash.items():
            if key_hash in present:
                continue
            session = self.decoder.decode(data)
            if session:
                decoded.append((key, session, expire_date))
            else:
                result.unreadable += 1  # corrupt, empty, or another SECRET_KEY
        instances = self._instances(decoded, result)
        result.imported = len(instances)
        if instances and not self.dry_run:
            with transaction.atomic(using=self.target_using):
                self.target._default_manager.using(self.target_using).bulk_create(
                    instances, ignore_conflicts=True
                )
        return result

    def _instances(
        self, decoded: list[tuple[str, dict[str, Any], Any]], result: ImportResult
    ) -> list[Any]:
        stores = []
        user_ids = set()
        for key, session, _expiry in decoded:
            store = self.store_class(key)
            # The data is already known: the store must not load it again.
            store._session_cache = session  # type: ignore[attr-defined]
            stores.append(store)
            user_id = store._user_id(session)
            if user_id is not None:
                user_ids.add(user_id)
        existing = set(
            get_user_model()
            ._base_manager.using(self.target_using)
            .filter(pk__in=user_ids)
            .values_list("pk", flat=True)
        )
        instances = []
        for store, (_key, session, expire_date) in zip(stores, decoded, strict=True):
            user_id = store._user_id(session)
            if user_id is not None and user_id not in existing:
                # Signed in as a user who was deleted since: Django shows such
                # a session as anonymous; ours are deleted with their user.
                result.unknown_user += 1
                continue
            instance = store.create_model_instance(session)
            instance.expire_date = expire_date
            instances.append(instance)
        return instances


def log_result(result: ImportResult, *, table: str, dry_run: bool) -> None:
    """One structured log line for the audit trail's log stream."""
    logger.info(
        "sessionguard import %s",
        " ".join(
            [
                f"table={table}",
                f"dry_run={str(dry_run).lower()}",
                *(
                    f"{item.name}={getattr(result, item.name)}"
                    for item in fields(result)
                ),
            ]
        ),
    )
