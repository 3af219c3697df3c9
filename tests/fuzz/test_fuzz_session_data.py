"""Fuzzing session data: whatever JSON a site stores comes back unchanged.

Nested dicts, lists, strings (any Unicode, lone surrogates included), integers
of any size, floats, booleans and ``None`` are saved through the configured
engine and read back by a new store built from the cookie alone, as the next
request would. On ``cached_db`` the value is read back twice: from the cache,
and from the database after the cached copy is gone.
"""

from __future__ import annotations

import math
from importlib import import_module
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings
from hypothesis import given
from hypothesis import strategies as st

from django_sessionguard.backends.base import SessionGuardStore
from tests.fuzz.support import any_char, fuzzing, rolled_back

pytestmark = pytest.mark.django_db

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(any_char, max_size=40),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=6),
        st.dictionaries(st.text(any_char, max_size=12), children, max_size=6),
    ),
    max_leaves=30,
)
#: Top-level keys a site might use; Django's and this app's own are left alone.
site_keys = st.text(any_char, max_size=20).filter(
    lambda key: not key.startswith(("_auth_", "_sessionguard", "_session_"))
)
payloads = st.dictionaries(site_keys, json_values, min_size=1, max_size=5)


def same(left: Any, right: Any) -> bool:
    """Equality that also tells ``0.0`` from ``-0.0`` and ``1`` from ``1.0``."""
    if type(left) is not type(right):
        return False
    if isinstance(left, float):
        return left == right and math.copysign(1, left) == math.copysign(1, right)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(same, left, right))
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(
            same(value, right[key]) for key, value in left.items()
        )
    return bool(left == right)


def store_class() -> type[SessionGuardStore]:
    store: type[SessionGuardStore] = import_module(
        django_settings.SESSION_ENGINE
    ).SessionStore
    return store


def saved(payload: dict[str, Any]) -> str:
    store = store_class()()
    store.bind_request(ip_address="127.0.0.1", user_agent="fuzz")
    store.update(payload)
    store.save()
    assert store.session_key is not None
    return store.session_key


def loaded(key: str) -> dict[str, Any]:
    store = store_class()(key)
    return dict(store.items())


@fuzzing(25)
@given(payload=payloads)
def test_saved_data_loads_unchanged(engine: str, payload: dict[str, Any]) -> None:
    with rolled_back():
        key = saved(payload)

        assert same(loaded(key), payload)
        if engine.endswith("cached_db"):
            store = store_class()(key)
            assert store.key_hash is not None
            store_class().evict_cached([store.key_hash])
            assert same(loaded(key), payload)  # from the database


@fuzzing(15)
@given(payload=payloads)
def test_async_save_and_load(engine: str, payload: dict[str, Any]) -> None:
    async def save_and_load() -> dict[str, Any]:
        store = store_class()()
        store.bind_request(ip_address="127.0.0.1", user_agent="fuzz")
        await store.aupdate(payload)
        await store.asave()
        assert store.session_key is not None
        again = store_class()(store.session_key)
        return dict(await again.aitems())

    with rolled_back():
        assert same(async_to_sync(save_and_load)(), payload)


@fuzzing(15)
@given(first=payloads, second=payloads)
def test_a_second_save_replaces_the_data(
    engine: str, first: dict[str, Any], second: dict[str, Any]
) -> None:
    with rolled_back():
        key = saved(first)
        store = store_class()(key)
        store.clear()
        store.update(second)
        store.save()

        assert same(loaded(key), second)
