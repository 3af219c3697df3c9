"""``SessionGuardMiddleware`` through the test client: what it records and costs.

Counts on ``cached_db`` are exact. ``cache_calls`` counts calls to the session
cache on either leg (one ``get`` is one round trip); on the Redis leg
``redis_commands`` also counts the commands Redis receives. The one SQL query
of an authenticated read-only request is ``AuthenticationMiddleware`` loading
the user (``SELECT ... FROM auth_user``): nothing reads the session table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings
from django.core.checks import run_checks
from django.core.management import call_command
from django.db import connection
from django.test import AsyncClient, Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_sessionguard.keys import hash_key
from django_sessionguard.models import Session
from tests.conftest import empty_cache, uses_redis

pytestmark = pytest.mark.django_db

CACHED_DB = "django_sessionguard.backends.cached_db"
IP = "198.51.100.23"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)
CHROME_DEVICE = {
    "device_type": "desktop",
    "browser": "Chrome",
    "browser_version": "120.0.0",
    "os": "Windows",
    "os_version": "10",
}


@pytest.fixture
def client() -> Client:
    """The same browser at the same address for every request of a test."""
    return Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=CHROME)


def log_in(client: Client, **extra: Any) -> None:
    response = client.post("/login/", {"username": "alice", "password": "pw"}, **extra)
    assert response.status_code == 302, response.content


def cookie(client: Client | AsyncClient) -> str:
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


def row(client: Client | AsyncClient) -> Session:
    return Session.objects.get(key_hash=hash_key(cookie(client)))


class AsyncClientAt(AsyncClient):
    """An ``AsyncClient`` for one browser: its address (the ASGI ``client``) and
    its User-Agent are sent with every request."""

    def __init__(self, remote_addr: str, user_agent: str) -> None:
        super().__init__()
        self.remote_addr = remote_addr
        self.user_agent = user_agent

    def _base_scope(self, **request: Any) -> dict[str, Any]:
        scope: dict[str, Any] = super()._base_scope(**request)
        scope["client"] = [self.remote_addr, 50000]
        scope["headers"].append((b"user-agent", self.user_agent.encode("latin-1")))
        return scope


# -- what a session records ---------------------------------------------------


def test_login_records_user_ip_device_and_time(
    engine: str, client: Client, user: Any
) -> None:
    before = timezone.now()
    log_in(client)
    session = row(client)
    assert session.user == user
    assert session.ip_address == IP
    assert session.user_agent == CHROME
    assert {field: getattr(session, field) for field in CHROME_DEVICE} == CHROME_DEVICE
    assert session.authenticated_at is not None
    assert before <= session.authenticated_at <= timezone.now()
    assert before <= session.created_at <= timezone.now()
    assert before <= session.last_activity <= timezone.now()
    assert session.expire_date > timezone.now() + timedelta(days=13)
    assert Session.objects.count() == 1
    assert client.get("/read/").json()["user"] == "alice"


def test_login_keeps_the_data_of_the_anonymous_session(
    engine: str, client: Client, user: Any
) -> None:
    client.get("/write/?value=7")
    anonymous_key = cookie(client)
    assert Session.objects.get().user is None
    log_in(client)
    assert cookie(client) != anonymous_key  # cycled at login
    assert Session.objects.count() == 1
    assert client.get("/read/").json() == {"user": "alice", "counter": 7}


def test_logout_deletes_the_row(engine: str, client: Client, user: Any) -> None:
    log_in(client)
    key = cookie(client)
    response = client.post("/logout/")
    assert response.status_code == 302
    assert not Session.objects.filter(key_hash=hash_key(key)).exists()
    # Replaying the old cookie finds nothing, in the cache or the database.
    replay = Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=CHROME)
    replay.cookies[django_settings.SESSION_COOKIE_NAME] = key
    assert replay.get("/read/").json()["user"] is None


def test_anonymous_request_that_never_touches_the_session_stores_nothing(
    engine: str, client: Client, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        response = client.get("/anon/")
    assert response.status_code == 200
    assert django_settings.SESSION_COOKIE_NAME not in response.cookies
    assert Session.objects.count() == 0


# -- the client's address -----------------------------------------------------


def test_forwarded_for_is_ignored_by_default(
    engine: str, client: Client, user: Any
) -> None:
    log_in(
        client,
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
        HTTP_FORWARDED="for=203.0.113.10",
    )
    assert row(client).ip_address == "10.0.0.1"


def test_forwarded_for_is_ignored_from_an_untrusted_peer(
    engine: str, client: Client, user: Any, settings: Any
) -> None:
    settings.SESSIONGUARD_TRUSTED_PROXIES = ["192.168.0.0/16"]
    log_in(client, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert row(client).ip_address == "10.0.0.1"


def test_forwarded_for_from_a_trusted_proxy_gives_the_rightmost_untrusted_hop(
    engine: str, client: Client, user: Any, settings: Any
) -> None:
    settings.SESSIONGUARD_TRUSTED_PROXIES = ["10.0.0.0/8"]
    log_in(
        client,
        REMOTE_ADDR="10.0.0.1",
        # The left-most entry is whatever the client claimed: never believed.
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9, 10.0.0.2",
    )
    assert row(client).ip_address == "203.0.113.9"


# -- async views ----------------------------------------------------------------


def test_async_views_record_the_same_metadata(engine: str, user: Any) -> None:
    """The same visit through WSGI + sync views and ASGI + async views."""
    sync_client = Client(REMOTE_ADDR="203.0.113.5", HTTP_USER_AGENT=IPHONE)
    assert sync_client.get("/write/?value=3").status_code == 200
    log_in(sync_client)
    assert sync_client.get("/read/").json() == {"user": "alice", "counter": 3}

    async def visit() -> AsyncClient:
        client = AsyncClientAt("203.0.113.5", IPHONE)
        response = await client.get("/async-write/", {"value": 3})
        assert response.status_code == 200
        response = await client.post("/login/", {"username": "alice", "password": "pw"})
        assert response.status_code == 302
        response = await client.get("/async-read/")
        assert response.json() == {"user": "alice", "counter": 3}
        return client

    async_client = async_to_sync(visit)()

    columns = (
        "user_id",
        "ip_address",
        "user_agent",
        "device_type",
        "browser",
        "browser_version",
        "os",
        "os_version",
    )
    sync_row, async_row = row(sync_client), row(async_client)
    recorded = {column: getattr(async_row, column) for column in columns}
    assert recorded == {column: getattr(sync_row, column) for column in columns}
    assert recorded == {
        "user_id": user.pk,
        "ip_address": "203.0.113.5",
        "user_agent": IPHONE,
        "device_type": "mobile",
        "browser": "Mobile Safari",
        "browser_version": "17.1",
        "os": "iOS",
        "os_version": "17.1",
    }
    assert async_row.authenticated_at is not None


def test_async_write_is_saved(engine: str) -> None:
    async def visit() -> AsyncClient:
        client = AsyncClientAt(IP, CHROME)
        await client.get("/async-write/", {"value": 9})
        response = await client.get("/async-read/")
        assert response.json() == {"user": None, "counter": 9}
        return client

    client = async_to_sync(visit)()
    assert row(client).get_decoded()["counter"] == 9


# -- Django's own checks --------------------------------------------------------


def test_checks_pass_and_admin_finds_the_session_middleware(engine: str) -> None:
    call_command("check")  # raises SystemCheckError on any error
    assert "admin.E410" not in {message.id for message in run_checks()}


# -- exact costs on cached_db ---------------------------------------------------


@pytest.fixture
def cached_db(settings: Any) -> str:
    settings.SESSION_ENGINE = CACHED_DB
    return CACHED_DB


@pytest.fixture
def costs(
    request: pytest.FixtureRequest,
    django_assert_num_queries: Any,
    cache_calls: Callable[[], AbstractContextManager[list[str]]],
) -> Callable[..., AbstractContextManager[dict[str, Any]]]:
    """Measure one block: exact SQL count, session-cache calls, Redis commands.

    ``with costs(sql=1, cache=["get"], redis={"get": 1}) as seen:`` fails
    unless the block costs exactly that; ``redis`` is checked on the Redis leg.
    """
    redis_commands = request.getfixturevalue("redis_commands") if uses_redis() else None

    @contextmanager
    def measure(
        *, sql: int, cache: list[str], redis: dict[str, int]
    ) -> Iterator[dict[str, Any]]:
        seen: dict[str, Any] = {}
        redis_block = redis_commands() if redis_commands else nullcontext({})
        with (
            django_assert_num_queries(sql) as queries,
            cache_calls() as calls,
            redis_block as commands,
        ):
            yield seen
        seen["sql"] = [query["sql"] for query in queries.captured_queries]
        seen["cache"] = calls
        seen["redis"] = dict(commands)
        assert calls == cache
        if redis_commands:
            assert dict(commands) == redis

    return measure


#: A read that records activity: the load's ``get``, then the entry changed
#: from what it holds at that moment (``cache_update``): a ``get`` and a ``set``
#: through the cache API, or on Redis one ``WATCH`` / ``GET`` /
#: ``MULTI`` ``SET`` ``EXEC`` transaction on the client underneath.
TOUCH_COSTS: dict[str, Any] = (
    {
        "cache": ["get"],
        "redis": {"get": 2, "watch": 1, "multi": 1, "set": 1, "exec": 1},
    }
    if uses_redis()
    else {"cache": ["get", "get", "set"], "redis": {}}
)


def quoted(name: str) -> str:
    """``name`` quoted as the leg's database quotes it in logged SQL: double
    quotes on SQLite and PostgreSQL, backticks on MySQL/MariaDB."""
    return connection.ops.quote_name(name)


def is_user_select(sql: str) -> bool:
    return sql.startswith("SELECT") and quoted("auth_user") in sql


def is_session_update(sql: str) -> bool:
    return sql.startswith(f"UPDATE {quoted('sessionguard_session')}")


def is_activity_update(sql: str) -> bool:
    return (
        is_session_update(sql)
        and quoted("last_activity") in sql
        and quoted("session_data") not in sql
    )


def test_authenticated_read_costs_one_cache_read_and_no_session_sql(
    cached_db: str, client: Client, user: Any, costs: Any
) -> None:
    log_in(client)
    with costs(sql=1, cache=["get"], redis={"get": 1}) as seen:
        response = client.get("/read/")
    assert response.json() == {"user": "alice", "counter": None}
    # The one query is AuthenticationMiddleware loading the user.
    assert is_user_select(seen["sql"][0])
    assert "Set-Cookie" not in str(response.cookies)


def test_async_authenticated_read_costs_the_same(
    cached_db: str, client: Client, user: Any, costs: Any
) -> None:
    log_in(client)
    with costs(sql=1, cache=["get"], redis={"get": 1}) as seen:
        response = client.get("/async-read/")
    assert response.json() == {"user": "alice", "counter": None}
    assert is_user_select(seen["sql"][0])


def test_writing_one_key_costs_one_cache_set_and_one_update(
    cached_db: str, client: Client, user: Any, costs: Any
) -> None:
    log_in(client)
    with costs(sql=2, cache=["get", "set"], redis={"get": 1, "set": 1}) as seen:
        response = client.get("/write/?value=5")
    assert response.json() == {"user": "alice", "counter": 5}
    user_select, update = seen["sql"]
    assert is_user_select(user_select)
    assert is_session_update(update)
    assert quoted("session_data") in update
    assert quoted("last_activity") not in update  # activity is not due yet
    assert client.get("/read/").json()["counter"] == 5


def test_activity_is_written_once_per_interval(
    cached_db: str, client: Client, user: Any, costs: Any, clock: Any, settings: Any
) -> None:
    settings.SESSIONGUARD_ACTIVITY_INTERVAL = 60
    log_in(client)
    signed_in_at = row(client).last_activity

    clock.advance(30)  # inside the interval: nothing is written
    with costs(sql=1, cache=["get"], redis={"get": 1}):
        client.get("/read/")
    assert row(client).last_activity == signed_in_at

    clock.advance(31)  # 61 s after the last recorded activity: one write
    with costs(sql=2, **TOUCH_COSTS) as seen:
        client.get("/read/")
    user_select, update = seen["sql"]
    assert is_user_select(user_select)
    assert is_activity_update(update)
    touched_at = row(client).last_activity
    assert touched_at - signed_in_at >= timedelta(seconds=61)

    # The new activity came back with the next load: nothing to write again.
    clock.advance(1)
    with costs(sql=1, cache=["get"], redis={"get": 1}):
        client.get("/read/")
    assert row(client).last_activity == touched_at


def test_write_after_the_interval_records_activity_in_the_same_update(
    cached_db: str, client: Client, user: Any, costs: Any, clock: Any
) -> None:
    log_in(client)
    clock.advance(61)
    with costs(sql=2, cache=["get", "set"], redis={"get": 1, "set": 1}) as seen:
        client.get("/write/?value=2")
    update = seen["sql"][1]
    assert is_session_update(update)
    assert quoted("session_data") in update
    assert quoted("last_activity") in update
    with costs(sql=1, cache=["get"], redis={"get": 1}):
        assert client.get("/read/").json()["counter"] == 2


def test_new_ip_records_activity_at_once(
    cached_db: str, client: Client, user: Any, costs: Any
) -> None:
    log_in(client)
    # An IP change is due at once (and recorded as an event by default).
    client.get("/read/", REMOTE_ADDR="198.51.100.99")
    assert row(client).ip_address == "198.51.100.99"
    with costs(sql=1, cache=["get"], redis={"get": 1}):
        client.get("/read/", REMOTE_ADDR="198.51.100.99")


def test_db_engine_read_costs(
    engine: str, client: Client, user: Any, django_assert_num_queries: Any
) -> None:
    """For reference: the database engine reads the row (one SELECT) instead."""
    log_in(client)
    expected = 1 if engine == CACHED_DB else 2
    with django_assert_num_queries(expected):
        client.get("/read/")


# -- a touch never undoes a concurrent write ------------------------------------


def test_touch_does_not_undo_a_concurrent_write(
    engine: str, store_class: Any, clock: Any
) -> None:
    first = store_class()
    first.bind_request(ip_address=IP, user_agent=CHROME)
    first["counter"] = 1
    first.save()
    key = first.session_key

    slow = store_class(key)  # request A: loads the session, then takes long
    slow.bind_request(ip_address=IP, user_agent=CHROME)
    assert slow["counter"] == 1

    fast = store_class(key)  # request B: writes new data meanwhile
    fast.bind_request(ip_address=IP, user_agent=CHROME)
    fast["counter"] = 2
    fast.save()

    clock.advance(61)
    assert slow.touch() is True  # request A ends and records its activity

    stored = Session.objects.get(key_hash=hash_key(key))
    assert stored.get_decoded()["counter"] == 2
    assert stored.last_activity >= timezone.now() - timedelta(seconds=1)
    reloaded = store_class(key)
    assert reloaded["counter"] == 2  # from the cache on cached_db
    assert reloaded.activity is not None
    assert reloaded.activity.last_activity == pytest.approx(
        stored.last_activity.timestamp()
    )
    from django.core.cache import caches

    empty_cache(caches[django_settings.SESSION_CACHE_ALIAS])
    assert store_class(key)["counter"] == 2  # and from the database


def test_touch_inside_the_interval_writes_nothing(
    engine: str, store_class: Any, django_assert_num_queries: Any, cache_calls: Any
) -> None:
    session = store_class()
    session.bind_request(ip_address=IP, user_agent=CHROME)
    session["a"] = 1
    session.save()
    loaded = store_class(session.session_key)
    loaded.bind_request(ip_address=IP, user_agent=CHROME)
    loaded.load()
    with django_assert_num_queries(0), cache_calls() as calls:
        assert loaded.touch() is False
    assert calls == []


def test_asgi_authenticated_read_costs_the_same(
    cached_db: str, user: Any, costs: Any
) -> None:
    client = AsyncClientAt(IP, CHROME)

    async def log_in_async() -> None:
        response = await client.post("/login/", {"username": "alice", "password": "pw"})
        assert response.status_code == 302

    async_to_sync(log_in_async)()
    with costs(sql=1, cache=["get"], redis={"get": 1}) as seen:
        response = async_to_sync(client.get)("/async-read/")
    assert response.json() == {"user": "alice", "counter": None}
    assert is_user_select(seen["sql"][0])
    with costs(sql=2, cache=["get", "set"], redis={"get": 1, "set": 1}):
        response = async_to_sync(client.get)("/async-write/", {"value": 8})
    assert response.json() == {"user": "alice", "counter": 8}


def test_new_session_costs_one_insert_and_one_cache_set(
    cached_db: str, client: Client, cache_calls: Any, request: pytest.FixtureRequest
) -> None:
    redis_commands = request.getfixturevalue("redis_commands") if uses_redis() else None
    with (
        CaptureQueriesContext(connection) as queries,
        cache_calls() as calls,
        redis_commands() if redis_commands else nullcontext({}) as commands,
    ):
        client.get("/write/?value=1")
    writes = [
        query["sql"].split(" ", 1)[0]
        for query in queries.captured_queries
        if quoted("sessionguard_session") in query["sql"]
    ]
    assert writes == ["INSERT"]
    assert calls == ["set"]
    if redis_commands:
        assert dict(commands) == {"set": 1}


def test_a_save_identical_to_the_last_writes_nothing(
    engine: str, store_class: Any, django_assert_num_queries: Any, cache_calls: Any
) -> None:
    session = store_class()
    session["a"] = 1
    session.save()
    session.mark_saved()
    with django_assert_num_queries(0), cache_calls() as calls:
        session.save()
        async_to_sync(session.asave)()
    assert calls == []
    session["a"] = 2
    with django_assert_num_queries(1), cache_calls() as calls:
        session.save()
    expected = ["set"] if engine == CACHED_DB else []
    assert calls == expected
    assert store_class(session.session_key)["a"] == 2
