"""The session stores the scenarios run against, and the sessions put in them.

Three stores, each holding the sessions of the engines that use it:

``django_db``
    Django's ``django_session`` table: Django's db and cached_db engines
    (cached_db also keeps a copy of each session in the ``default`` cache).
``django_cache``
    The Redis database of the ``django_sessions`` cache alias: Django's cache
    engine, and nothing else (see ``settings.py``).
``sessionguard``
    Our ``sessionguard_session`` table: our db and cached_db engines (cached_db
    also keeps a copy in the ``default`` cache).

Every scenario, at every N, starts from the same state (:func:`reset_stores`):
empty stores, then the scenario's users and their sessions, then other users'
sessions (:func:`seed_others`) until each engine's store holds
:data:`OTHER_SESSIONS` sessions besides its user's own. Where two engines share
a store (Django's db and cached_db share ``django_session``), the other
engine's user counts among those others, so every engine sees the same
population. Django's engines can only find a user's sessions by decoding
every session in the store (``bench_django``): what they scan is then exactly
their user's sessions plus :data:`OTHER_SESSIONS`.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.benchmarks.bench_runner import Engine

#: Sessions of other users in every store, besides the scenario user's own.
#: Not near a multiple of :data:`bench_django.SCAN_COUNT` (1,000), so that the
#: number of ``SCAN`` calls Django's cache engine needs is the same in every
#: run (Redis returns a page of *about* COUNT keys: 2,000 keys can take 2 or 3).
OTHER_SESSIONS = 2_500
#: ... of this many users (ten sessions each).
OTHER_USERS = 250
#: Sessions are created valid for two weeks (Django's SESSION_COOKIE_AGE).
SESSION_AGE = timedelta(days=14)
#: The cache alias of Django's cache engine (``settings.CACHES``).
DJANGO_CACHE_ALIAS = "django_sessions"

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"

#: User-Agents of the extra sessions of a user, with their parsed columns.
OTHER_DEVICES = (
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "mobile",
        "Mobile Safari",
        "17.5",
        "iOS",
        "17.5",
    ),
    (
        "Mozilla/5.0 (Android 14; Mobile; rv:127.0) Gecko/127.0 Firefox/127.0",
        "mobile",
        "Firefox Mobile",
        "127.0",
        "Android",
        "14",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
        "desktop",
        "Chrome",
        "126.0.0",
        "Windows",
        "10",
    ),
)

_other_users: list[Any] = []


# -- the stores as a whole ---------------------------------------------------------


def reset_stores() -> None:
    """Empty every store: both session tables, the audit trail, both Redis dbs."""
    from django.db import connection
    from django_redis import get_redis_connection

    from django_sessionguard.models import Session, SessionEvent

    tables = [
        "django_session",
        Session._meta.db_table,
        SessionEvent._meta.db_table,
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE {} RESTART IDENTITY".format(
                ", ".join(connection.ops.quote_name(table) for table in tables)
            )
        )
    for alias in ("default", DJANGO_CACHE_ALIAS):
        get_redis_connection(alias).flushdb()


def other_users() -> list[Any]:
    """The :data:`OTHER_USERS` users the others' sessions belong to (made once)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    if not _other_users:
        user_model = get_user_model()
        names = [f"other_{i:04d}" for i in range(OTHER_USERS)]
        existing = set(
            user_model._default_manager.filter(username__in=names).values_list(
                "username", flat=True
            )
        )
        user_model._default_manager.bulk_create(
            [
                user_model(username=name, password=make_password(None))
                for name in names
                if name not in existing
            ]
        )
        _other_users.extend(
            user_model._default_manager.filter(username__in=names).order_by("pk")
        )
    return _other_users


def seed_others(store: str, count: int) -> None:
    """Put ``count`` sessions of other users (round robin) into ``store``."""
    users = other_users()
    owners = [users[i % len(users)] for i in range(count)]
    if store == "sessionguard":
        _add_sessionguard(owners, cache=False)
    elif store == "django_db":
        _add_django_db(owners, cached_db=False)
    elif store == "django_cache":
        _add_django_cache(owners)
    else:
        raise ValueError(f"unknown store {store!r}")


def others_needed(own_sessions: Sequence[int]) -> int:
    """How many other users' sessions a store needs, given each of its engines'
    users' sessions: :data:`OTHER_SESSIONS` as seen from every engine (the other
    engines' users count among the others)."""
    if not own_sessions:
        return 0
    shared = sum(own_sessions) - max(own_sessions)
    return max(0, OTHER_SESSIONS - shared)


# -- one user's sessions -----------------------------------------------------------


def add_sessions(user: Any, count: int, engine: Engine) -> None:
    """Give ``user`` ``count`` more live sessions on other devices, in ``engine``'s
    store, cached where the engine caches (as if each had been used lately)."""
    if count <= 0:
        return
    owners = [user] * count
    cached = engine.session_engine.endswith("cached_db")
    if engine.store == "sessionguard":
        _add_sessionguard(owners, cache=cached)
    elif engine.store == "django_db":
        _add_django_db(owners, cached_db=cached)
    elif engine.store == "django_cache":
        _add_django_cache(owners)
    else:
        raise ValueError(f"unknown store {engine.store!r}")


def django_session_data(user: Any) -> dict[str, str]:
    """What ``django.contrib.auth.login`` leaves in a session."""
    return {
        "_auth_user_id": str(user.pk),
        "_auth_user_backend": MODEL_BACKEND,
        "_auth_user_hash": user.get_session_auth_hash(),
    }


def _copy(model: Any, fields: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` with one ``COPY``: thousands of rows a scenario, where
    ``bulk_create``'s per-field preparation would take most of the set-up."""
    from django.db import connection

    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor, under Django's wrapper
        with raw.copy(
            f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)


SESSIONGUARD_FIELDS = (
    "key_hash",
    "reference",
    "session_data",
    "expire_date",
    "user",
    "ip_address",
    "user_agent",
    "device_type",
    "browser",
    "browser_version",
    "os",
    "os_version",
    "created_at",
    "authenticated_at",
    "last_activity",
)


def _add_sessionguard(owners: Sequence[Any], *, cache: bool) -> None:
    from django.conf import settings
    from django.core.cache import caches
    from django.utils import timezone

    from django_sessionguard.backends import cached_db
    from django_sessionguard.keys import reference_for
    from django_sessionguard.models import Session

    now = timezone.now()
    rows = []
    for i, owner in enumerate(owners):
        key_hash = secrets.token_hex(32)
        ua, device_type, browser, browser_version, os_name, os_version = OTHER_DEVICES[
            i % len(OTHER_DEVICES)
        ]
        # Within every timeout of settings.py (idle 30 min, absolute 24 h).
        age = timedelta(minutes=i % 600)
        rows.append(
            (
                key_hash,
                reference_for(key_hash),
                "{}",
                now + SESSION_AGE,
                owner.pk,
                f"198.51.100.{i % 250 + 1}",
                ua,
                device_type,
                browser,
                browser_version,
                os_name,
                os_version,
                now - age,
                now - age,
                now - timedelta(seconds=i % 1200 + 1),
            )
        )
    _copy(Session, SESSIONGUARD_FIELDS, rows)
    if cache:
        caches[settings.SESSION_CACHE_ALIAS].set_many(
            {
                cached_db.SessionStore.data_cache_key(row[0]): (
                    {"_auth_user_id": str(row[4])},
                    None,
                )
                for row in rows
            },
            int(SESSION_AGE.total_seconds()),
        )


def _add_django_db(owners: Sequence[Any], *, cached_db: bool) -> None:
    """Rows of ``django_session`` (and, for cached_db, their cached copies)."""
    from django.conf import settings
    from django.contrib.sessions.backends import cached_db as django_cached_db
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session as DjangoSession
    from django.core.cache import caches
    from django.utils import timezone

    expire_date = timezone.now() + SESSION_AGE
    store = SessionStore()
    data: dict[Any, dict[str, str]] = {}
    encoded: dict[Any, str] = {}
    keys = []
    rows = []
    for owner in owners:
        if owner.pk not in encoded:
            data[owner.pk] = django_session_data(owner)
            encoded[owner.pk] = store.encode(data[owner.pk])
        key = _django_key()
        keys.append(key)
        rows.append((key, encoded[owner.pk], expire_date))
    _copy(DjangoSession, ("session_key", "session_data", "expire_date"), rows)
    if cached_db:
        prefix = django_cached_db.SessionStore.cache_key_prefix
        caches[settings.SESSION_CACHE_ALIAS].set_many(
            {
                prefix + key: data[owner.pk]
                for key, owner in zip(keys, owners, strict=True)
            },
            int(SESSION_AGE.total_seconds()),
        )


def _add_django_cache(owners: Sequence[Any]) -> None:
    """Entries of Django's cache engine, in its own Redis database."""
    from django.contrib.sessions.backends.cache import SessionStore
    from django.core.cache import caches

    data: dict[Any, dict[str, str]] = {}
    entries = {}
    for owner in owners:
        if owner.pk not in data:
            data[owner.pk] = django_session_data(owner)
        entries[SessionStore.cache_key_prefix + _django_key()] = data[owner.pk]
    caches[DJANGO_CACHE_ALIAS].set_many(entries, int(SESSION_AGE.total_seconds()))


def _django_key() -> str:
    """A session key of Django's shape (32 of [a-z0-9]; hex is a subset), made
    faster than ``get_random_string`` makes them: thousands per scenario."""
    return secrets.token_hex(16)
