"""Suite-wide fixtures and hooks.

The leg (database and cache) comes from ``tests/settings.py``'s environment
variables. At start-up the suite says which leg it runs and refuses to start a
leg whose services do not answer (exit code 3), rather than failing test by test.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import django
import pytest
from django.conf import settings as django_settings

ENGINES = [
    "django_sessionguard.backends.db",
    "django_sessionguard.backends.cached_db",
]
SERVICE_NAMES = ("redis", "postgres", "mysql")

#: Commands a connection sends before its first real command. Not counted by
#: ``redis_commands`` (they depend on connection reuse, not on the code under
#: test) but kept in ``CommandCounts.handshake``.
HANDSHAKE_COMMANDS = frozenset(
    {"hello", "auth", "select", "client|setinfo", "client|setname", "readonly"}
)


# -- the leg ------------------------------------------------------------------


def leg_services() -> set[str]:
    """The services the configured leg talks to."""
    services = set()
    vendor = os.environ.get("SESSIONGUARD_TEST_DB", "sqlite")
    if vendor in ("postgres", "mysql"):
        services.add(vendor)
    if os.environ.get("SESSIONGUARD_TEST_CACHE", "locmem") == "redis":
        services.add("redis")
    return services


#: For a test that needs a server database but not a particular one (row locks,
#: writers in several connections at once): PostgreSQL or MySQL/MariaDB.
#: ``services()`` without names asks for Redis as well.
server_database = pytest.mark.skipif(
    not leg_services() & {"postgres", "mysql"},
    reason="needs a server database (PostgreSQL or MySQL/MariaDB)",
)


def redis_url() -> str:
    return str(django_settings.TEST_REDIS_URL)


def _check_postgres() -> None:
    import psycopg

    database: dict[str, Any] = django_settings.DATABASES["default"]
    psycopg.connect(
        host=database["HOST"],
        port=database["PORT"],
        user=database["USER"],
        password=database["PASSWORD"] or None,
        dbname="postgres",
        connect_timeout=3,
    ).close()


def _check_mysql() -> None:
    database: dict[str, Any] = django_settings.DATABASES["default"]
    socket.create_connection((database["HOST"], database["PORT"]), timeout=3).close()


def _check_redis() -> None:
    import redis

    client = redis.Redis.from_url(redis_url(), socket_connect_timeout=3)
    try:
        client.ping()
    finally:
        client.close()


CHECKS: dict[str, Callable[[], None]] = {
    "postgres": _check_postgres,
    "mysql": _check_mysql,
    "redis": _check_redis,
}


def pytest_report_header(config: pytest.Config) -> list[str]:
    database: dict[str, Any] = django_settings.DATABASES["default"]
    cache: dict[str, Any] = django_settings.CACHES[django_settings.SESSION_CACHE_ALIAS]
    where = (
        "in memory"
        if database["ENGINE"].endswith("sqlite3")
        else f"{database['HOST']}:{database['PORT']}"
    )
    location = f" at {redis_url()}" if "redis" in cache["BACKEND"].lower() else ""
    return [
        f"sessionguard leg: database {database['ENGINE'].rsplit('.', 1)[-1]} "
        f"({where}), cache {cache['BACKEND'].rsplit('.', 1)[-1]}{location}, "
        f"Django {django.get_version()}"
    ]


def pytest_sessionstart(session: pytest.Session) -> None:
    required = os.environ.get("SESSIONGUARD_REQUIRE_SERVICES") == "1"
    for name in sorted(leg_services()):
        try:
            CHECKS[name]()
        except Exception as exc:
            why = (
                "required (SESSIONGUARD_REQUIRE_SERVICES=1)" if required else "selected"
            )
            pytest.exit(
                f"\n\n*** {name} is {why} by this test leg but does not answer: "
                f"{type(exc).__name__}: {exc}\n*** Start it (see .ci/run) or pick "
                "another leg with SESSIONGUARD_TEST_DB / SESSIONGUARD_TEST_CACHE.\n",
                returncode=3,
            )


# -- markers ------------------------------------------------------------------


def chromium_executable() -> str | None:
    """A Chromium for Playwright: ``SESSIONGUARD_CHROMIUM`` or one on ``PATH``."""
    explicit = os.environ.get("SESSIONGUARD_CHROMIUM")
    if explicit:
        return explicit
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    available = leg_services()
    server_db = bool(available & {"postgres", "mysql"})
    chromium = chromium_executable()
    required = os.environ.get("SESSIONGUARD_REQUIRE_SERVICES") == "1"
    for item in items:
        marker = item.get_closest_marker("services")
        if marker is not None:
            unknown = set(marker.args) - set(SERVICE_NAMES)
            if unknown:
                raise pytest.UsageError(
                    f"{item.nodeid}: unknown service(s) {sorted(unknown)}; "
                    f"use {SERVICE_NAMES}."
                )
            names = set(marker.args)
            satisfied = (
                names <= available if names else server_db and "redis" in available
            )
            if not satisfied:
                wanted = ", ".join(sorted(names)) or "Redis and a server database"
                item.add_marker(pytest.mark.skip(reason=f"needs {wanted}"))
        if item.get_closest_marker("browser") is not None and chromium is None:
            if required:
                raise pytest.UsageError(
                    "Browser tests are required but no Chromium was found "
                    "(install chromium or set SESSIONGUARD_CHROMIUM)."
                )
            item.add_marker(pytest.mark.skip(reason="no Chromium installed"))


# -- fixtures -----------------------------------------------------------------


def uses_redis() -> bool:
    return any(
        "redis" in config["BACKEND"].lower()
        for config in django_settings.CACHES.values()
    )


def empty_cache(cache: Any) -> None:
    """Empty one cache alias: on Redis only this run's keys, never the database.

    django-redis's ``clear()`` is a ``FLUSHDB``, which would empty the caches
    of every other run sharing the Redis database too.
    """
    delete_pattern = getattr(cache, "delete_pattern", None)
    if delete_pattern is not None:
        delete_pattern("*")  # django-redis adds the alias's KEY_PREFIX
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def redis_flush() -> None:
    """Start every test with empty caches.

    On the Redis leg: delete every key of this run (its ``KEY_PREFIX``es carry
    the run id, so a concurrent run on the same Redis is left alone).
    Otherwise: ``clear()`` every configured cache alias (local memory is per
    process and survives tests).
    """
    if uses_redis():
        import redis

        client = redis.Redis.from_url(redis_url())
        try:
            for config in django_settings.CACHES.values():
                keys = list(client.scan_iter(match=f"{config['KEY_PREFIX']}:*"))
                if keys:
                    client.delete(*keys)
        finally:
            client.close()
    else:
        from django.core.cache import caches

        for alias in django_settings.CACHES:
            caches[alias].clear()


@pytest.fixture(params=ENGINES, ids=["db", "cached_db"])
def engine(request: pytest.FixtureRequest, settings: Any) -> str:
    """Run the test once per session engine; returns the engine's module path."""
    path: str = request.param
    settings.SESSION_ENGINE = path
    return path


class CommandCounts(dict[str, int]):
    """Redis commands issued in a block, ``{"mget": 1, "set": 2}``.

    Filled when the block exits. Commands are named as Redis names them in
    ``INFO commandstats``, lower case, subcommands as ``"client|setinfo"``; a
    ``MULTI``/``EXEC`` pipeline counts its ``multi`` and ``exec`` too.
    Connection set-up commands (``HELLO``, ``SELECT``, ``AUTH``, ...) are left
    out of the mapping and kept in :attr:`handshake`.
    """

    def __init__(self) -> None:
        super().__init__()
        self.handshake: dict[str, int] = {}

    @property
    def total(self) -> int:
        return sum(self.values())


@pytest.fixture
def redis_commands(
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[], AbstractContextManager[CommandCounts]]:
    """Count the Redis commands a block issues; skips the test off the Redis leg.

    Usage::

        with redis_commands() as counts:
            client.get("/read/")
        assert counts == {"mget": 1}

    Counted in this process at redis-py's command layer, so the count is exact
    even when another suite uses the same Redis. Pipelines count each queued
    command, plus ``multi``/``exec`` when transactional. Connection set-up
    (``HELLO``, ``SELECT``, ...) is sent below that layer and not counted.
    """
    if not uses_redis():
        pytest.skip("counts Redis commands: needs SESSIONGUARD_TEST_CACHE=redis")
    import redis.client

    recording: list[CommandCounts] = []

    def note(name: Any) -> None:
        if recording:
            key = (name.decode() if isinstance(name, bytes) else str(name)).lower()
            if key in HANDSHAKE_COMMANDS:
                recording[-1].handshake[key] = recording[-1].handshake.get(key, 0) + 1
            else:
                recording[-1][key] = recording[-1].get(key, 0) + 1

    real_execute = redis.client.Redis.execute_command
    real_pipeline_command = redis.client.Pipeline.execute_command
    real_pipeline_execute = redis.client.Pipeline.execute

    def execute_command(self: Any, *args: Any, **options: Any) -> Any:
        note(args[0])
        return real_execute(self, *args, **options)

    def pipeline_command(self: Any, *args: Any, **options: Any) -> Any:
        note(args[0])
        return real_pipeline_command(self, *args, **options)

    def pipeline_execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self.transaction and self.command_stack:
            note("multi")
            note("exec")
        return real_pipeline_execute(self, *args, **kwargs)

    monkeypatch.setattr(redis.client.Redis, "execute_command", execute_command)
    monkeypatch.setattr(redis.client.Pipeline, "execute_command", pipeline_command)
    monkeypatch.setattr(redis.client.Pipeline, "execute", pipeline_execute)

    @contextmanager
    def count() -> Iterator[CommandCounts]:
        counts = CommandCounts()
        recording.append(counts)
        try:
            yield counts
        finally:
            recording.remove(counts)

    return count


# -- engine-test helpers (session store, cache calls, clock, users) ------------


@pytest.fixture
def store_class(engine: str) -> type[Any]:
    """The ``SessionStore`` of the engine the test runs against."""
    from importlib import import_module

    store: type[Any] = import_module(engine).SessionStore
    return store


@pytest.fixture
def cache_calls(
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[], AbstractContextManager[list[str]]]:
    """Count calls to the session cache (``SESSION_CACHE_ALIAS``), on any backend.

    Usage::

        with cache_calls() as calls:
            client.get("/read/")
        assert calls == ["get"]

    Records the cache API methods the code under test calls, in order. Only
    outermost calls count (a backend's ``get_many`` built on ``get`` is one
    call), which is what a network round trip costs on Redis. Works off the
    Redis leg too, where ``redis_commands`` cannot.
    """
    import contextvars
    import functools
    import inspect

    from django.core.cache import caches

    cache = caches[django_settings.SESSION_CACHE_ALIAS]
    depth: contextvars.ContextVar[int] = contextvars.ContextVar("depth", default=0)
    recording: list[list[str]] = []

    def wrap(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(method):

            @functools.wraps(method)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                if depth.get() == 0 and recording:
                    recording[-1].append(name)
                token = depth.set(depth.get() + 1)
                try:
                    return await method(*args, **kwargs)
                finally:
                    depth.reset(token)

            return async_wrapper

        @functools.wraps(method)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if depth.get() == 0 and recording:
                recording[-1].append(name)
            token = depth.set(depth.get() + 1)
            try:
                return method(*args, **kwargs)
            finally:
                depth.reset(token)

        return wrapper

    names = [
        "get",
        "get_many",
        "set",
        "set_many",
        "add",
        "delete",
        "delete_many",
        "has_key",
        "touch",
        "incr",
        "get_or_set",
        "clear",
    ]
    for name in [*names, *(f"a{name}" for name in names)]:
        method = getattr(cache, name, None)
        if method is not None:
            monkeypatch.setattr(cache, name, wrap(name, method))

    @contextmanager
    def count() -> Iterator[list[str]]:
        calls: list[str] = []
        recording.append(calls)
        try:
            yield calls
        finally:
            recording.remove(calls)

    return count


class Clock:
    """Moves ``time.time()`` and ``timezone.now()`` forward together."""

    def __init__(self) -> None:
        self.offset = 0.0

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """A clock the test can move forward: ``clock.advance(61)``.

    Patches ``time.time`` and ``django.utils.timezone.now`` (both by the same
    offset), so activity throttling, timeouts, expiry dates and local-memory
    cache expiry all see the same time. Redis expires keys on its own clock.
    """
    import time
    from datetime import timedelta

    from django.utils import timezone

    state = Clock()
    real_time, real_now = time.time, timezone.now
    monkeypatch.setattr(time, "time", lambda: real_time() + state.offset)
    monkeypatch.setattr(
        timezone, "now", lambda: real_now() + timedelta(seconds=state.offset)
    )
    return state


@pytest.fixture
def user(django_user_model: Any) -> Any:
    """A user who can log in with password ``"pw"``."""
    return django_user_model.objects.create_user("alice", password="pw")
