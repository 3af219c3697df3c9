"""The demo's per-user policy: callables, so that accounts can differ.

``SESSIONGUARD_MAX_SESSIONS = "example_project.demo.limits.max_sessions"`` and
``SESSIONGUARD_IDLE_TIMEOUT = "example_project.demo.limits.idle_timeout"``.
"""

from __future__ import annotations

from typing import Any

#: Concurrent sessions per account; a sign-in beyond it ends the least
#: recently active one (``SESSIONGUARD_LIMIT_POLICY = "evict_oldest"``).
USER_LIMIT = 5
STAFF_LIMIT = 2

#: Seconds without a request before a session ends. Two hours: the seeded
#: devices (last active minutes before ``seed_demo``) stay listed for well
#: over an hour of exploring.
IDLE_TIMEOUT = 2 * 60 * 60
#: carol's idle timeout: short enough to watch the idle warning (it opens
#: ``SESSIONGUARD_IDLE_WARNING_BEFORE``, two minutes, before the deadline).
SHORT_IDLE_TIMEOUT = 3 * 60
SHORT_IDLE_USERNAMES = frozenset({"carol"})


def max_sessions(user: Any) -> int:
    """Two sessions for staff, five for everyone else."""
    return STAFF_LIMIT if getattr(user, "is_staff", False) else USER_LIMIT


def idle_timeout(user: Any) -> int:
    """Three minutes for carol, two hours for everyone else."""
    username = user.get_username() if hasattr(user, "get_username") else ""
    return SHORT_IDLE_TIMEOUT if username in SHORT_IDLE_USERNAMES else IDLE_TIMEOUT
