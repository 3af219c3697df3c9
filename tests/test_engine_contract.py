"""The session-engine contract, run against both engines.

What Django's own engines promise (the behaviours its ``SessionTestsMixin``
checks for ``db`` and ``cached_db``), ours keep: the dictionary API and its
``accessed``/``modified`` flags, save and load, ``cycle_key``, ``flush``,
expiry, ``clear_expired``, invalid keys, and the async twins of all of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.base import CreateError, UpdateError
from django.contrib.sessions.backends.signed_cookies import (
    SessionStore as SignedCookieStore,
)
from django.core.cache import caches
from django.core.management import call_command
from django.db import IntegrityError
from django.test import override_settings
from django.utils import timezone
from django.utils.crypto import get_random_string

from django_sessionguard.keys import hash_key
from django_sessionguard.models import Session
from tests.conftest import empty_cache

pytestmark = pytest.mark.django_db

Store = Callable[..., Any]

ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def row_of(session_key: str) -> Session | None:
    return Session.objects.filter(key_hash=hash_key(session_key)).first()


def saved(store_class: Store, **data: Any) -> Any:
    session = store_class()
    session.update(data)
    session.save()
    return session


def clear_session_cache() -> None:
    """Forget every cached copy, so the next load must read the database."""
    from django.conf import settings

    empty_cache(caches[settings.SESSION_CACHE_ALIAS])


@pytest.fixture
def session(store_class: Store) -> Any:
    return store_class()


# -- a new session ------------------------------------------------------------


def test_new_session_is_empty(session: Any) -> None:
    assert session.session_key is None
    assert session.modified is False
    assert session.accessed is False
    assert session.get("cat") is None
    assert list(session.items()) == []
    assert session.is_empty()


def test_new_session_is_not_stored_until_saved(session: Any) -> None:
    session.load()
    assert session.session_key is None
    assert Session.objects.count() == 0


# -- the dictionary API -------------------------------------------------------


def test_store_and_pop(session: Any) -> None:
    session["cat"] = "dog"
    assert session.modified is True
    assert session.pop("cat") == "dog"
    assert session.get("cat") is None


def test_pop_marks_accessed_and_modified(session: Any) -> None:
    session["some key"] = "exists"
    session.modified = session.accessed = False
    assert session.pop("some key") == "exists"
    assert session.accessed is True
    assert session.modified is True


def test_pop_default_does_not_modify(session: Any) -> None:
    assert session.pop("some key", "does not exist") == "does not exist"
    assert session.pop("some key", default="named") == "named"
    assert session.accessed is True
    assert session.modified is False


def test_pop_without_default_raises(session: Any) -> None:
    with pytest.raises(KeyError):
        session.pop("some key")


def test_setdefault(session: Any) -> None:
    assert session.setdefault("foo", "bar") == "bar"
    assert session.setdefault("foo", "baz") == "bar"
    assert session.accessed is True
    assert session.modified is True


def test_update(session: Any) -> None:
    session.update({"update key": 1})
    assert session.accessed is True
    assert session.modified is True
    assert session.get("update key") == 1


def test_has_key_and_contains(session: Any) -> None:
    session["some key"] = 1
    session.modified = session.accessed = False
    assert "some key" in session
    assert session.has_key("some key")
    assert not session.has_key("other key")
    assert session.accessed is True
    assert session.modified is False


@pytest.mark.parametrize(
    ("method", "expected"),
    [("keys", ["x"]), ("values", [1]), ("items", [("x", 1)])],
)
def test_views_read_without_modifying(
    session: Any, method: str, expected: list[Any]
) -> None:
    assert list(getattr(session, method)()) == []
    session["x"] = 1
    session.modified = session.accessed = False
    assert list(getattr(session, method)()) == expected
    assert session.accessed is True
    assert session.modified is False


def test_clear(store_class: Store) -> None:
    session = saved(store_class, x=1)
    session.modified = session.accessed = False
    session.clear()
    assert list(session.items()) == []
    assert session.accessed is True
    assert session.modified is True
    session.save()
    assert store_class(session.session_key).load() == {}


def test_session_key_is_read_only(session: Any) -> None:
    with pytest.raises(AttributeError):
        session.session_key = "x" * 32


def test_test_cookie(store_class: Store) -> None:
    session = store_class()
    session.set_test_cookie()
    session.save()
    loaded = store_class(session.session_key)
    assert loaded.test_cookie_worked() is True
    loaded.delete_test_cookie()
    assert loaded.test_cookie_worked() is False


def test_test_cookie_async(store_class: Store) -> None:
    async def scenario() -> None:
        session = store_class()
        await session.aset_test_cookie()
        assert await session.atest_cookie_worked() is True
        await session.adelete_test_cookie()
        assert await session.atest_cookie_worked() is False

    async_to_sync(scenario)()


def test_session_is_empty(store_class: Store) -> None:
    session = store_class()
    assert session.is_empty()
    session["a"] = 1
    assert not session.is_empty()
    session.save()
    assert not store_class(session.session_key).is_empty()


# -- save and load ------------------------------------------------------------


def test_save_and_load_round_trip(store_class: Store) -> None:
    session = saved(store_class, a="b", n=3, nested={"list": [1, 2]})
    key = session.session_key
    assert key is not None
    assert session.exists(key)
    row = row_of(key)
    assert row is not None
    assert row.get_decoded() == {"a": "b", "n": 3, "nested": {"list": [1, 2]}}

    assert store_class(key).load() == {"a": "b", "n": 3, "nested": {"list": [1, 2]}}
    clear_session_cache()  # cached_db: the same data from the database
    fresh = store_class(key)
    assert fresh["a"] == "b"
    assert fresh.session_key == key


def test_save_keeps_data(store_class: Store) -> None:
    session = saved(store_class, a="b")
    assert session["a"] == "b"


def test_later_save_updates_the_row(store_class: Store) -> None:
    session = saved(store_class, a=1)
    session["a"] = 2
    session.save()
    assert Session.objects.count() == 1
    assert store_class(session.session_key)["a"] == 2
    clear_session_cache()
    assert store_class(session.session_key)["a"] == 2


def test_create(session: Any) -> None:
    session.create()
    assert session.session_key is not None
    assert session.modified is True
    assert row_of(session.session_key) is not None


def test_save_must_create_refuses_an_existing_key(store_class: Store) -> None:
    key = saved(store_class, a=1).session_key
    other = store_class(key)
    other["a"] = 2
    with pytest.raises(CreateError):
        other.save(must_create=True)
    assert store_class(key)["a"] == 1


@pytest.mark.django_db(transaction=True)  # the user foreign key is checked at commit
def test_a_create_that_fails_for_another_reason_than_the_key_raises_at_once(
    store_class: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a key collision makes ``create()`` draw another key.

    Django's ``create()`` loops until ``save(must_create=True)`` stops raising
    ``CreateError``: a session naming a user who no longer exists (deleted
    meanwhile) would otherwise loop forever.
    """
    drawn: list[str] = []
    real_new_key = store_class._get_new_session_key

    def new_key(self: Any) -> str:
        key: str = real_new_key(self)
        drawn.append(key)
        if len(drawn) > 5:
            raise AssertionError("create() kept drawing keys")
        return key

    monkeypatch.setattr(store_class, "_get_new_session_key", new_key)
    session = store_class()
    session[SESSION_KEY] = "987654321"  # no such user
    with pytest.raises(IntegrityError):
        session.save()
    assert len(drawn) == 1
    assert Session.objects.count() == 0


def test_save_of_deleted_session_raises_update_error(store_class: Store) -> None:
    first = store_class()
    first["test_data"] = "value1"
    first.save(must_create=True)
    store_class(first.session_key).delete()  # logged out elsewhere
    first["test_data"] = "value2"
    with pytest.raises(UpdateError):
        first.save()
    assert first.load() == {}
    assert Session.objects.count() == 0


def test_unknown_key_loads_empty_without_creating_a_row(store_class: Store) -> None:
    key = get_random_string(32, ALPHABET)
    session = store_class(key)
    assert session.load() == {}
    assert session.session_key is None
    assert not session.exists(key)
    assert Session.objects.count() == 0


def test_unknown_key_gets_a_new_key_on_save(store_class: Store) -> None:
    key = get_random_string(32, ALPHABET)
    session = store_class(key)
    session["cat"] = "dog"
    session.save()
    assert session.session_key not in (None, key)
    assert row_of(key) is None
    assert store_class(session.session_key)["cat"] == "dog"


def test_key_from_djangos_own_engine_is_unknown(store_class: Store) -> None:
    from django.contrib.sessions.backends.cache import SessionStore as DjangoStore

    django_session = DjangoStore()
    django_session["cat"] = "dog"
    django_session.save()
    session = store_class(django_session.session_key)
    assert session.get("cat") is None
    assert session.session_key is None


def test_decode_garbage_is_empty(
    session: Any, caplog: pytest.LogCaptureFixture
) -> None:
    assert session.decode(session.encode({"a": 1})) == {"a": 1}
    assert session.decode("garbage") == {}
    assert session.decode("") == {}
    assert session.decode("a:b:c:d") == {}
    assert "Session data corrupted" in caplog.text


def test_corrupted_row_loads_empty(store_class: Store) -> None:
    key = saved(store_class, a=1).session_key
    Session.objects.filter(key_hash=hash_key(key)).update(session_data="garbage")
    clear_session_cache()
    assert store_class(key).load() == {}


# -- exists and delete --------------------------------------------------------


def test_exists(store_class: Store) -> None:
    session = saved(store_class, a=1)
    assert session.exists(session.session_key) is True
    assert session.exists(get_random_string(32, ALPHABET)) is False


def test_delete(store_class: Store) -> None:
    session = saved(store_class, a=1)
    key = session.session_key
    session.delete()
    assert session.exists(key) is False
    assert row_of(key) is None
    assert store_class(key).load() == {}


def test_delete_by_key(store_class: Store) -> None:
    key = saved(store_class, a=1).session_key
    store_class().delete(key)
    assert row_of(key) is None
    assert store_class(key).load() == {}


def test_delete_unknown_key_is_quiet(store_class: Store) -> None:
    store_class().delete(get_random_string(32, ALPHABET))
    store_class().delete()


# -- flush and cycle_key ------------------------------------------------------


def test_flush(store_class: Store) -> None:
    session = saved(store_class, foo="bar")
    prev_key = session.session_key
    session.flush()
    assert session.exists(prev_key) is False
    assert session.session_key is None
    assert session.modified is True
    assert session.accessed is True
    assert list(session.items()) == []
    assert row_of(prev_key) is None
    assert store_class(prev_key).load() == {}


def test_cycle_key_keeps_data_and_replaces_the_row(store_class: Store) -> None:
    session = saved(store_class, a="c", b="d")
    prev_key = session.session_key
    prev_data = list(session.items())
    session.cycle_key()
    assert session.session_key not in (None, prev_key)
    assert list(session.items()) == prev_data
    assert session.exists(prev_key) is False
    assert row_of(prev_key) is None
    assert store_class(prev_key).load() == {}  # no stale cached copy either
    session.save()
    assert Session.objects.count() == 1
    assert store_class(session.session_key).load() == dict(prev_data)


def test_cycle_key_before_the_data_is_loaded(store_class: Store) -> None:
    prev_key = saved(store_class, a="b").session_key
    session = store_class(prev_key)  # nothing loaded yet
    session.cycle_key()
    assert session.session_key != prev_key
    assert session["a"] == "b"
    assert row_of(prev_key) is None


def test_cycle_key_of_an_unsaved_session(session: Any, store_class: Store) -> None:
    session["a"] = 1
    session.cycle_key()
    assert session.session_key is not None
    session.save()
    assert store_class(session.session_key)["a"] == 1


# -- expiry -------------------------------------------------------------------


def assert_expires_in(session: Any, seconds: int) -> None:
    assert session.get_expiry_age() in (seconds - 1, seconds)
    expected = timezone.now() + timedelta(seconds=seconds)
    assert abs(session.get_expiry_date() - expected) < timedelta(seconds=2)


def test_default_expiry(session: Any, settings: Any) -> None:
    assert_expires_in(session, settings.SESSION_COOKIE_AGE)


@pytest.mark.parametrize(
    "expiry",
    [
        pytest.param(10, id="int"),
        pytest.param(timedelta(seconds=10), id="timedelta"),
        pytest.param("datetime", id="datetime"),
    ],
)
def test_custom_expiry(store_class: Store, expiry: Any) -> None:
    if expiry == "datetime":
        expiry = timezone.now() + timedelta(seconds=10)
    session = store_class()
    session.set_expiry(expiry)
    assert_expires_in(session, 10)
    session["a"] = 1
    session.save()
    # The expiry is stored: with the session, and on the row.
    assert_expires_in(store_class(session.session_key), 10)
    row = row_of(session.session_key)
    assert row is not None
    assert abs(row.expire_date - session.get_expiry_date()) < timedelta(seconds=2)


def test_expiry_age_and_date_take_arguments(session: Any) -> None:
    now = timezone.now()
    later = now + timedelta(seconds=30)
    assert session.get_expiry_age(modification=now, expiry=later) == 30
    assert session.get_expiry_age(expiry=None) == session.get_session_cookie_age()
    assert session.get_expiry_date(modification=now, expiry=30) == later


def test_expiry_none_resets_to_default(session: Any, settings: Any) -> None:
    session.set_expiry(10)
    session.set_expiry(None)
    assert_expires_in(session, settings.SESSION_COOKIE_AGE)


def test_expiry_zero_expires_at_browser_close(store_class: Store) -> None:
    for at_close in (False, True):
        with override_settings(SESSION_EXPIRE_AT_BROWSER_CLOSE=at_close):
            session = store_class()
            session.set_expiry(10)
            assert session.get_expire_at_browser_close() is False
            session.set_expiry(0)
            assert session.get_expire_at_browser_close() is True
            session.set_expiry(None)
            assert session.get_expire_at_browser_close() is at_close


def test_browser_close_session_is_stored_with_the_default_age(
    store_class: Store, settings: Any
) -> None:
    session = store_class()
    session.set_expiry(0)
    session["a"] = 1
    session.save()
    loaded = store_class(session.session_key)
    assert loaded.get_expire_at_browser_close() is True
    assert_expires_in(loaded, settings.SESSION_COOKIE_AGE)


def test_expiry_in_the_past_loads_empty(store_class: Store) -> None:
    session = store_class()
    session["foo"] = "bar"
    session.set_expiry(-timedelta(seconds=10))
    session.save()
    old_key = session.session_key
    expired = store_class(old_key)
    assert "foo" not in expired
    assert expired.session_key is None
    expired.save()
    assert expired.session_key != old_key


def test_session_ends_when_it_expires(store_class: Store) -> None:
    session = store_class()
    session["foo"] = "bar"
    session.set_expiry(1)
    session.save()
    assert store_class(session.session_key)["foo"] == "bar"
    time.sleep(1.1)  # real time: the Redis entry expires on Redis's clock
    assert store_class(session.session_key).load() == {}


# -- clear_expired ------------------------------------------------------------


def make_expired(store_class: Store, count: int = 1) -> list[str]:
    keys = []
    for _ in range(count):
        session = store_class()
        session["dead"] = True
        session.set_expiry(-timedelta(seconds=10))
        session.save()
        keys.append(session.session_key)
    return keys


def test_clear_expired(store_class: Store) -> None:
    live = saved(store_class, alive=True).session_key
    dead = make_expired(store_class, 3)
    store_class.clear_expired()
    assert {row_of(key) for key in dead} == {None}
    assert row_of(live) is not None
    assert store_class(live)["alive"] is True


def test_clear_expired_works_in_batches(
    store_class: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = saved(store_class, alive=True).session_key
    make_expired(store_class, 5)
    assert list(store_class.iter_clear_expired(batch_size=2)) == [2, 2, 1]
    assert list(Session.objects.values_list("key_hash", flat=True)) == [hash_key(live)]


def test_clearsessions_command(store_class: Store) -> None:
    live = saved(store_class, alive=True).session_key
    make_expired(store_class, 2)
    call_command("clearsessions", verbosity=0)
    assert list(Session.objects.values_list("key_hash", flat=True)) == [hash_key(live)]


def test_clearsessions_reports_progress_per_batch(store_class: Store) -> None:
    make_expired(store_class, 3)
    out = StringIO()
    call_command("clearsessions", batch_size=2, verbosity=2, stdout=out)
    assert out.getvalue().splitlines() == [
        "Deleted 2 expired sessions (2 so far).",
        "Deleted 1 expired sessions (3 so far).",
        "Deleted 3 expired sessions.",
    ]
    assert Session.objects.count() == 0


# -- invalid keys -------------------------------------------------------------


def signed_cookie_key() -> str:
    other = SignedCookieStore()
    other["a"] = 1
    other.save()
    key: str = other.session_key
    return key


INVALID_KEYS = [
    pytest.param(None, id="none"),
    pytest.param("", id="empty"),
    pytest.param("1", id="short"),
    pytest.param("a" * 31, id="31-chars"),
    pytest.param("a" * 65, id="65-chars"),
    pytest.param("x" * 10_000, id="10k-chars"),
    pytest.param("A" * 32, id="uppercase"),
    pytest.param("abcdefghijklmnopqrstuvwxyz01234!", id="punctuation"),
    pytest.param("../../../../etc/passwd" + "a" * 20, id="path"),
    pytest.param("ä" * 32, id="non-ascii"),
    pytest.param(" " + "a" * 32, id="padded"),
    pytest.param("a" * 32 + "\n", id="newline"),
    pytest.param("signed_cookies", id="signed-cookies-format"),
]


@pytest.mark.parametrize("key", INVALID_KEYS)
def test_invalid_key_is_a_new_empty_session_without_io(
    store_class: Store,
    key: str | None,
    django_assert_num_queries: Any,
    cache_calls: Any,
) -> None:
    if key == "signed_cookies":
        key = signed_cookie_key()
    with django_assert_num_queries(0), cache_calls() as calls:
        session = store_class(key)
        assert session.session_key is None
        assert session.get("cat") is None
        assert session.load() == {}
        assert session.exists(key) is False
        session.delete(key)
    assert calls == []

    session["cat"] = "dog"
    session.save()
    assert session.session_key not in (None, key)
    assert store_class(session.session_key)["cat"] == "dog"


@pytest.mark.parametrize("key", INVALID_KEYS)
def test_invalid_key_async_without_io(
    store_class: Store,
    key: str | None,
    django_assert_num_queries: Any,
    cache_calls: Any,
) -> None:
    if key == "signed_cookies":
        key = signed_cookie_key()

    async def scenario() -> None:
        session = store_class(key)
        assert await session.aload() == {}
        assert await session.aget("cat") is None
        assert await session.aexists(key) is False
        await session.adelete(key)

    with django_assert_num_queries(0), cache_calls() as calls:
        async_to_sync(scenario)()
    assert calls == []


# -- request metadata ---------------------------------------------------------

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
METADATA_COLUMNS = (
    "user_id",
    "ip_address",
    "user_agent",
    "device_type",
    "browser",
    "browser_version",
    "os",
    "os_version",
)


def signed_in_data(user: Any) -> dict[str, Any]:
    return {
        SESSION_KEY: str(user.pk),
        BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
        HASH_SESSION_KEY: user.get_session_auth_hash(),
    }


def metadata(key: str) -> dict[str, Any]:
    row = row_of(key)
    assert row is not None
    assert row.authenticated_at is not None
    return {column: getattr(row, column) for column in METADATA_COLUMNS}


def test_sync_and_async_saves_record_the_same_metadata(
    store_class: Store, user: Any
) -> None:
    sync_session = store_class()
    sync_session.bind_request(ip_address="203.0.113.7", user_agent=CHROME)
    sync_session.update(signed_in_data(user))
    sync_session.save()

    async def async_save() -> str:
        session = store_class()
        session.bind_request(ip_address="203.0.113.7", user_agent=CHROME)
        await session.aupdate(signed_in_data(user))
        await session.asave()
        key: str = session.session_key
        return key

    async_key = async_to_sync(async_save)()
    expected = {
        "user_id": user.pk,
        "ip_address": "203.0.113.7",
        "user_agent": CHROME,
        "device_type": "desktop",
        "browser": "Chrome",
        "browser_version": "120.0.0",
        "os": "Windows",
        "os_version": "10",
    }
    assert metadata(sync_session.session_key) == expected
    assert metadata(async_key) == expected


def test_async_cycle_key_keeps_metadata(store_class: Store, user: Any) -> None:
    async def scenario() -> tuple[str, str]:
        session = store_class()
        session.bind_request(ip_address="2001:db8::1", user_agent=CHROME)
        await session.aset("a", 1)
        await session.asave()
        old = session.session_key
        await session.acycle_key()
        await session.aupdate(signed_in_data(user))
        await session.asave()
        return old, session.session_key

    old, new = async_to_sync(scenario)()
    assert row_of(old) is None
    assert metadata(new)["ip_address"] == "2001:db8::1"
    assert metadata(new)["user_id"] == user.pk
    assert metadata(new)["browser"] == "Chrome"


# -- the async API ------------------------------------------------------------


def test_async_dictionary_api(store_class: Store) -> None:
    async def scenario() -> None:
        session = store_class()
        assert await session.aget("cat") is None
        await session.aset("cat", "dog")
        assert session.modified is True
        assert await session.aget("cat") == "dog"
        assert await session.ahas_key("cat") is True
        assert await session.asetdefault("foo", "bar") == "bar"
        assert await session.asetdefault("foo", "baz") == "bar"
        await session.aupdate({"n": 1})
        assert list(await session.akeys()) == ["cat", "foo", "n"]
        assert list(await session.avalues()) == ["dog", "bar", 1]
        assert list(await session.aitems()) == [
            ("cat", "dog"),
            ("foo", "bar"),
            ("n", 1),
        ]
        assert await session.apop("n") == 1
        assert await session.apop("n", "gone") == "gone"
        with pytest.raises(KeyError):
            await session.apop("n")

    async_to_sync(scenario)()


def test_async_save_and_load(store_class: Store) -> None:
    async def scenario() -> str:
        session = store_class()
        await session.aset("cat", "dog")
        await session.asave()
        key: str = session.session_key
        assert key is not None
        assert await session.aexists(key) is True
        assert await store_class(key).aload() == {"cat": "dog"}
        return key

    key = async_to_sync(scenario)()
    assert store_class(key)["cat"] == "dog"
    clear_session_cache()
    assert async_to_sync(store_class(key).aload)() == {"cat": "dog"}


def test_async_create(store_class: Store) -> None:
    session = store_class()
    async_to_sync(session.acreate)()
    assert session.session_key is not None
    assert session.modified is True
    assert row_of(session.session_key) is not None


def test_async_delete(store_class: Store) -> None:
    key = saved(store_class, a=1).session_key

    async def scenario() -> None:
        session = store_class(key)
        await session.adelete()
        assert await session.aexists(key) is False
        assert await store_class(key).aload() == {}

    async_to_sync(scenario)()
    assert row_of(key) is None


def test_async_flush(store_class: Store) -> None:
    key = saved(store_class, foo="bar").session_key

    async def scenario() -> Any:
        session = store_class(key)
        await session.aflush()
        return session

    session = async_to_sync(scenario)()
    assert session.session_key is None
    assert session.modified is True
    assert row_of(key) is None
    assert store_class(key).load() == {}


def test_async_cycle_key(store_class: Store) -> None:
    prev_key = saved(store_class, a="c", b="d").session_key

    async def scenario() -> Any:
        session = store_class(prev_key)
        await session.acycle_key()
        await session.asave()
        return session

    session = async_to_sync(scenario)()
    assert session.session_key not in (None, prev_key)
    assert row_of(prev_key) is None
    assert store_class(prev_key).load() == {}
    assert store_class(session.session_key).load() == {"a": "c", "b": "d"}


def test_async_expiry(store_class: Store, settings: Any) -> None:
    async def scenario() -> str:
        session = store_class()
        assert await session.aget_expiry_age() == settings.SESSION_COOKIE_AGE
        await session.aset_expiry(10)
        assert await session.aget_expiry_age() == 10
        expected = timezone.now() + timedelta(seconds=10)
        assert abs(await session.aget_expiry_date() - expected) < timedelta(seconds=2)
        await session.aset_expiry(0)
        assert await session.aget_expire_at_browser_close() is True
        await session.aset_expiry(None)
        assert await session.aget_expire_at_browser_close() is False
        await session.aset_expiry(timedelta(seconds=10))
        await session.aset("a", 1)
        await session.asave()
        key: str = session.session_key
        return key

    key = async_to_sync(scenario)()
    assert_expires_in(store_class(key), 10)


def test_async_save_of_deleted_session_raises_update_error(store_class: Store) -> None:
    async def scenario() -> None:
        first = store_class()
        await first.aset("test_data", "value1")
        await first.asave(must_create=True)
        await store_class(first.session_key).adelete()
        await first.aset("test_data", "value2")
        with pytest.raises(UpdateError):
            await first.asave()
        assert await first.aload() == {}

    async_to_sync(scenario)()
    assert Session.objects.count() == 0


def test_async_clear_expired(store_class: Store) -> None:
    live = saved(store_class, alive=True).session_key
    make_expired(store_class, 2)
    async_to_sync(store_class.aclear_expired)()
    assert list(Session.objects.values_list("key_hash", flat=True)) == [hash_key(live)]
