"""Clearing and counting the demo accounts' records, so seeding can start over."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q

from django_sessionguard.lifecycle import idle_timeout_for
from django_sessionguard.models import Session, SessionEvent


def clear(users: Iterable[Any]) -> tuple[int, int]:
    """End the users' sessions and the anonymous ones everywhere; delete their events.

    Events are theirs when they name the user as owner or actor, or concern
    one of their sessions (a session is anonymous until sign-in). Anonymous
    sessions (the seeded crawler's, visitors who never signed in) go too,
    with every event that names no user, so each run leaves the same records.
    Returns how many sessions and events were deleted.
    """
    users = list(users)
    theirs = Q(user__in=users) | Q(actor__in=users)
    nobodys = Q(user__isnull=True, actor__isnull=True)
    sessions = Session.objects.filter(Q(user__in=users) | Q(user__isnull=True))
    references = set(
        SessionEvent.objects.filter(theirs)
        .exclude(session_ref="")
        .values_list("session_ref", flat=True)
    )
    references.update(sessions.values_list("reference", flat=True))
    # QuerySet.delete() evicts cached copies too: these sessions really end.
    ended, _ = sessions.delete()
    events, _ = SessionEvent.objects.filter(
        theirs | nobodys | Q(session_ref__in=references)
    ).delete()
    return ended, events


def live_sessions(users: Iterable[Any]) -> Counter[str]:
    """Live sessions per username."""
    username = f"user__{get_user_model().USERNAME_FIELD}"
    return Counter(
        Session.objects.active()
        .filter(user__in=list(users))
        .values_list(username, flat=True)
    )


def events(users: Iterable[Any]) -> Counter[str]:
    """The users' events per kind."""
    users = list(users)
    return Counter(
        SessionEvent.objects.filter(Q(user__in=users) | Q(actor__in=users)).values_list(
            "kind", flat=True
        )
    )


def first_idle_deadline(users: Iterable[Any]) -> datetime | None:
    """When the first of the users' live sessions ends if nothing uses it.

    The idle deadline of each live session, with its owner's idle timeout,
    counted from its last activity (or sign-in, if later); ``None`` without a
    live session or an idle timeout.
    """
    deadlines = []
    for user in users:
        idle = idle_timeout_for(user)
        if idle is None:
            continue
        for last, signed_in in Session.objects.live(user=user).values_list(
            "last_activity", "authenticated_at"
        ):
            since = max(filter(None, (last, signed_in)), default=None)
            if since is not None:
                deadlines.append(since + timedelta(seconds=idle))
    return min(deadlines, default=None)
