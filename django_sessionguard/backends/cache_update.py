"""Change one cached value from what it holds now, without undoing a concurrent write.

A session's cache entry holds its data and its last activity. Recording
activity (a *touch*) must change the activity and keep whatever data the entry
holds at that moment, which a concurrent request may have saved after this
request loaded the session. :func:`update` reads the entry as it is now and
writes the changed value back:

* on django-redis (its default and Sentinel clients), as a transaction:
  ``WATCH`` the key, ``GET`` it, then ``MULTI`` / ``SET`` / ``EXEC``; a write
  by anyone else in between aborts it, and it starts again from the new value;
* on any other cache, as a ``get`` followed by a ``set``: a write landing
  between those two calls (one round trip) is overwritten.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.core.cache import BaseCache

#: What ``change`` returns to leave the entry as it is.
UNCHANGED = object()

#: Attempts made when concurrent writes keep aborting the transaction.
ATTEMPTS = 3


class ConcurrentWrites(Exception):
    """The entry kept changing under the transaction; nothing was written."""


def _redis_client(cache: BaseCache) -> Any | None:
    """django-redis's client object when the transaction can be used, else None."""
    client = getattr(cache, "client", None)
    if client is None:
        return None
    try:
        from django_redis.client import DefaultClient, HerdClient, ShardClient
    except ImportError:
        return None
    # The herd client wraps values in an envelope of its own, and the sharded
    # client picks a server per key: both take the generic path.
    if isinstance(client, DefaultClient) and not isinstance(
        client, HerdClient | ShardClient
    ):
        return client
    return None


def update(
    cache: BaseCache, key: str, change: Callable[[Any], Any], timeout: int
) -> bool:
    """Set ``key`` to ``change(current)``; ``current`` is ``None`` when absent.

    ``change`` returns the new value, or :data:`UNCHANGED` to write nothing.
    Returns whether a value was written. Cache errors propagate;
    :class:`ConcurrentWrites` is raised when a django-redis transaction was
    aborted :data:`ATTEMPTS` times in a row.
    """
    client = _redis_client(cache)
    if client is None:
        new = change(cache.get(key))
        if new is UNCHANGED:
            return False
        cache.set(key, new, timeout)
        return True
    return _update_on_redis(client, key, change, timeout)


async def aupdate(
    cache: BaseCache, key: str, change: Callable[[Any], Any], timeout: int
) -> bool:
    """See :func:`update`."""
    client = _redis_client(cache)
    if client is None:
        new = change(await cache.aget(key))
        if new is UNCHANGED:
            return False
        await cache.aset(key, new, timeout)
        return True
    # django-redis has no asyncio client: run the transaction in a thread.
    return await sync_to_async(_update_on_redis)(client, key, change, timeout)


def _update_on_redis(
    client: Any, key: str, change: Callable[[Any], Any], timeout: int
) -> bool:
    from redis.exceptions import WatchError

    redis_key = client.make_key(key)
    with client.get_client(write=True).pipeline() as pipe:
        for _ in range(ATTEMPTS):
            try:
                pipe.watch(redis_key)
                raw = pipe.get(redis_key)
                new = change(None if raw is None else client.decode(raw))
                if new is UNCHANGED:
                    pipe.unwatch()
                    return False
                pipe.multi()
                pipe.set(redis_key, client.encode(new), ex=max(int(timeout), 1))
                pipe.execute()
                return True
            except WatchError:
                continue
    raise ConcurrentWrites(key)
