"""The demo's session limit, a callable so that staff get a stricter one.

``SESSIONGUARD_MAX_SESSIONS = "example_project.demo.limits.max_sessions"``.
"""

from __future__ import annotations

from typing import Any

#: Concurrent sessions per account; a sign-in beyond it ends the least
#: recently active one (``SESSIONGUARD_LIMIT_POLICY = "evict_oldest"``).
USER_LIMIT = 5
STAFF_LIMIT = 2


def max_sessions(user: Any) -> int:
    """Two sessions for staff, five for everyone else."""
    return STAFF_LIMIT if getattr(user, "is_staff", False) else USER_LIMIT
