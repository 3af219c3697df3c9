"""Clearing and counting the demo accounts' records, so seeding can start over."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q

from django_sessionguard.models import Session, SessionEvent


def clear(users: Iterable[Any]) -> tuple[int, int]:
    """End the users' sessions everywhere and delete their events.

    Events are theirs when they name the user as owner or actor, or concern
    one of their sessions (a session is anonymous until sign-in). Returns how
    many sessions and events were deleted.
    """
    users = list(users)
    theirs = Q(user__in=users) | Q(actor__in=users)
    references = set(
        SessionEvent.objects.filter(theirs)
        .exclude(session_ref="")
        .values_list("session_ref", flat=True)
    )
    references.update(
        Session.objects.filter(user__in=users).values_list("reference", flat=True)
    )
    # QuerySet.delete() evicts cached copies too: these sessions really end.
    sessions, _ = Session.objects.filter(user__in=users).delete()
    events, _ = SessionEvent.objects.filter(
        theirs | Q(session_ref__in=references)
    ).delete()
    return sessions, events


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
