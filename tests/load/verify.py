"""After the run: the database against what the clients did.

Runs in the runner's process, with Django set up on the run's settings.
"""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.load.model import CROSS_USER, OTHER, SERVER_ERROR, LoadUser, Run

#: Endings the clients cause themselves; anything else ending a session is a
#: violation (no staff acts, no timeout is reached, no limit is exceeded).
OWN_ENDINGS = {"logout", "revoked_user"}
ENDINGS = {
    "logout",
    "expired_idle",
    "expired_absolute",
    "revoked_user",
    "revoked_staff",
    "revoked_system",
    "evicted",
    "login_denied",
    "new_device_reported",
}


def setup_django() -> None:
    import django

    django.setup()


def create_users(count: int, prefix: str) -> list[tuple[str, str]]:
    """``count`` users with random names and passwords (fast hasher)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    credentials = [
        (f"{prefix}{index:03d}-{secrets.token_hex(3)}", secrets.token_urlsafe(12))
        for index in range(count)
    ]
    model: Any = get_user_model()
    model.objects.bulk_create(
        model(username=name, password=make_password(password))
        for name, password in credentials
    )
    return credentials


def check_database(run: Run, started: datetime) -> list[tuple[str, str]]:
    """Every user's live sessions and audit trail, compared with the clients."""
    from django.utils import timezone

    from django_sessionguard.models import Session, SessionEvent

    found: list[tuple[str, str]] = []
    by_name = {user.name: user for user in run.users}
    live: dict[str, set[str]] = {name: set() for name in by_name}
    for reference, username in Session.objects.filter(
        expire_date__gt=timezone.now(), user__isnull=False
    ).values_list("reference", "user__username"):
        if username not in live:
            found.append((CROSS_USER, f"a live session of unknown user {username!r}"))
        else:
            live[username].add(reference)
    for name, user in by_name.items():
        expected = user.references()
        if live[name] != expected:
            found.append(
                (
                    CROSS_USER,
                    f"{name}: database has {sorted(live[name])}, "
                    f"the clients hold {sorted(expected)}",
                )
            )
    events = SessionEvent.objects.filter(
        timestamp__gte=started, user__username__in=list(by_name)
    ).values_list("kind", "user__username", "actor__username")
    counts: Counter[tuple[str, str]] = Counter()
    for kind, owner, actor in events:
        counts[kind, owner] += 1
        if kind in ENDINGS and kind not in OWN_ENDINGS:
            found.append((CROSS_USER, f"{owner}: a session ended by {kind}"))
        if kind == "revoked_user" and actor != owner:
            found.append(
                (CROSS_USER, f"{owner}: revoked_user event with actor {actor}")
            )
    for name, user in by_name.items():
        found.extend(compare_counts(user, counts, name))
    return found


def compare_counts(
    user: LoadUser, counts: Counter[tuple[str, str]], name: str
) -> list[tuple[str, str]]:
    expected = {
        "login": user.logins,
        "logout": user.logouts,
        "revoked_user": user.revoked,
    }
    return [
        (OTHER, f"{name}: {counts[kind, name]} {kind} events, the clients did {number}")
        for kind, number in expected.items()
        if counts[kind, name] != number
    ]


def check_error_log(path: Path) -> list[tuple[str, str]]:
    """Tracebacks, worker timeouts or crashes that gunicorn logged."""
    if not path.exists():
        return []
    text = path.read_text(errors="replace")
    markers = ("Traceback", "Internal Server Error", "WORKER TIMEOUT", "Worker exiting")
    return [
        (SERVER_ERROR, f"gunicorn error log: {line.strip()[:200]}")
        for line in text.splitlines()
        if any(marker in line for marker in markers)
    ]
