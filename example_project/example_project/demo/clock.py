"""A clock the demo's story can set to the past, so the app itself dates its records.

While :func:`virtual_time` is active, ``time.time()`` and
``django.utils.timezone.now()`` (the two clocks django-sessionguard and Django
read) run at an offset chosen with :meth:`VirtualClock.go`, as the test
suite's ``clock`` fixture does. Every timestamp in the demo data (sign-in,
activity, expiry, events) is then written by the app's own code, not by hand.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from django.utils import timezone


class VirtualClock:
    """``go(moment)`` makes it ``moment`` now; time then runs on from there."""

    def __init__(self, real_time: Callable[[], float] = time.time) -> None:
        self._real_time = real_time
        self.origin = datetime.fromtimestamp(real_time(), tz=UTC)
        self.offset = 0.0

    def ago(self, **delta: float) -> datetime:
        """The moment ``timedelta(**delta)`` before the story's present."""
        return self.origin - timedelta(**delta)

    def go(self, moment: datetime) -> None:
        self.offset = moment.timestamp() - self._real_time()

    def time(self) -> float:
        return self._real_time() + self.offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), tz=UTC)


@contextmanager
def virtual_time() -> Iterator[VirtualClock]:
    """Patch both clocks for the duration of the block; restore them after."""
    real_time, real_now = time.time, timezone.now
    clock = VirtualClock(real_time)
    time.time = clock.time
    timezone.now = clock.now
    try:
        yield clock
    finally:
        time.time, timezone.now = real_time, real_now
