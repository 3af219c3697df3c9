"""Which session rows are live: the middleware's deadlines, as SQL conditions.

A session is *live* when the next request with its cookie would not end it.
The middleware ends a signed-in session on its next request when it is past
one of these deadlines (see :func:`django_sessionguard.lifecycle.ending_for`,
checked in the same order):

1. ``SESSIONGUARD_NOT_VALID_BEFORE``: signed in before the cut-off (or at an
   unknown time);
2. ``SESSIONGUARD_ABSOLUTE_TIMEOUT``: signed in longer ago than the timeout;
3. ``SESSIONGUARD_IDLE_TIMEOUT``: neither active nor signed in within the
   timeout (signing in is activity too).

Anonymous sessions have none of these: they live until their expiry date.
Every list, count and purge of sessions applies the same conditions, built
here, so "listed as live" means "the next request would not end it". A
timeout configured as a per-user callable is applied only when the owner is
known (one user's sessions); queries over many users apply no timeout for
it, and such sessions count as live until their expiry date.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import reduce
from typing import Any

from django.db.models import Case, CharField, Q, Value, When

from django_sessionguard.conf import conf, resolve_per_user
from django_sessionguard.events import EndReason, EventKind

#: The ending code of a row past its expiry date (not an event kind: such a
#: session is never loaded again, and nothing records its end).
EXPIRED = "expired"


@dataclass(frozen=True)
class Deadline:
    """One way a signed-in session ends before its expiry date."""

    #: The event recorded when a session ends this way (an ``EventKind``).
    kind: str
    #: The rows past this deadline.
    overdue: Q
    #: The timeout that ran out (seconds), kept in the event's detail.
    timeout: int | None = None
    #: Kept as the event's ``detail["reason"]``.
    reason: str = ""

    def detail(self) -> dict[str, Any]:
        """The ``detail`` of the event recording such an ending, as the
        middleware records it."""
        return {
            **({"timeout": self.timeout} if self.timeout else {}),
            **({"reason": self.reason} if self.reason else {}),
        }


def _timeout(setting: int | str | None, user: Any, name: str) -> int | None:
    if isinstance(setting, str) and user is None:
        return None  # a per-user callable, and no one user to ask it about
    return resolve_per_user(setting, user, name)


def deadlines(now: datetime, user: Any = None) -> list[Deadline]:
    """The deadlines in force at ``now``, in the order the middleware checks them.

    ``user``: the owner of the sessions judged, whose per-user callable
    timeouts are resolved (each callable is called once); ``None``: timeouts
    configured as callables are left out.
    """
    signed_in = Q(user__isnull=False)
    found: list[Deadline] = []
    cutoff = conf.NOT_VALID_BEFORE
    if cutoff is not None:
        instant = datetime.fromtimestamp(cutoff, tz=UTC)
        found.append(
            Deadline(
                kind=EventKind.REVOKED_BY_SYSTEM,
                overdue=signed_in
                & (Q(authenticated_at__isnull=True) | Q(authenticated_at__lt=instant)),
                reason=EndReason.NOT_VALID_BEFORE,
            )
        )
    absolute = _timeout(conf.ABSOLUTE_TIMEOUT, user, "SESSIONGUARD_ABSOLUTE_TIMEOUT")
    if absolute is not None:
        found.append(
            Deadline(
                kind=EventKind.EXPIRED_ABSOLUTE,
                # An unknown sign-in time has no absolute deadline.
                overdue=signed_in
                & Q(authenticated_at__lt=now - timedelta(seconds=absolute)),
                timeout=absolute,
            )
        )
    idle = _timeout(conf.IDLE_TIMEOUT, user, "SESSIONGUARD_IDLE_TIMEOUT")
    if idle is not None:
        since = now - timedelta(seconds=idle)
        found.append(
            Deadline(
                kind=EventKind.EXPIRED_IDLE,
                # max(last activity, sign-in) < since, with an unknown sign-in
                # time counting as none.
                overdue=signed_in
                & Q(last_activity__lt=since)
                & (Q(authenticated_at__isnull=True) | Q(authenticated_at__lt=since)),
                timeout=idle,
            )
        )
    return found


def overdue(found: list[Deadline]) -> Q | None:
    """Rows past any of ``found`` (``None``: no deadline in force)."""
    if not found:
        return None
    return reduce(operator.or_, (deadline.overdue for deadline in found))


def live_q(now: datetime, found: list[Deadline]) -> Q:
    """Rows not expired at ``now`` and past none of ``found``."""
    condition = Q(expire_date__gt=now)
    past = overdue(found)
    return condition if past is None else condition & ~past


def dead_q(now: datetime, found: list[Deadline]) -> Q:
    """The complement of :func:`live_q`: expired, or past one of ``found``."""
    condition = Q(expire_date__lte=now)
    past = overdue(found)
    return condition if past is None else condition | past


def ending(now: datetime, found: list[Deadline]) -> Case:
    """An annotation: how each row has ended at ``now`` ("" for a live row).

    :data:`EXPIRED` past the expiry date, else the ``kind`` of the first of
    ``found`` it is past.
    """
    return Case(
        When(expire_date__lte=now, then=Value(EXPIRED)),
        *(When(deadline.overdue, then=Value(deadline.kind)) for deadline in found),
        default=Value(""),
        output_field=CharField(),
    )


def by_kind(found: list[Deadline]) -> dict[str, Deadline]:
    """``found`` by ``kind``, to turn an :func:`ending` value back into a deadline."""
    return {deadline.kind: deadline for deadline in found}
