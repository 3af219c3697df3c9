"""What the clients do, what they expect, and what they remember.

Every user has a few browsers ("tabs"), each signed in with its own session.
A client thread takes a user (one thread per user at a time, so the expected
answer to each request is exact), picks an action by weight, sends it, and
checks the answer against its model: who is signed in where, which sessions
are alive, how many notes each session wrote. Hostile requests come from a
user's tab aimed at another user's sessions, or from anonymous browsers with
forged cookies, replayed dead cookies, huge or malicious User-Agents.

Every answer is recorded (kind, status, latency); every mismatch is a
violation with the request that caused it.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from tests.load.hostile import (
    bad_reference,
    foreign_revoke,
    forged,
    garbage_body,
    garbage_query,
    hostile_agent,
    hostile_user_agent_login,
    no_csrf,
    replay,
    spoofed_ip,
)
from tests.load.model import OTHER, LoadUser, Run, Tab, Violation
from tests.load.ordinary import (
    devices,
    devices_api,
    home,
    logout,
    revoke_other,
    revoke_others_api,
    sign_in,
    write,
)

# -- the mix -----------------------------------------------------------------------

UserAction = Callable[[Run, LoadUser, Tab], None]
USER_ACTIONS: list[tuple[UserAction, int]] = [
    (home, 18),
    (devices, 10),
    (devices_api, 14),
    (write, 12),
    (logout, 3),
    (revoke_other, 3),
    (revoke_others_api, 1),
    (foreign_revoke, 6),
    (bad_reference, 3),
    (no_csrf, 3),
    (spoofed_ip, 3),
    (garbage_query, 2),
    (garbage_body, 2),
    (hostile_user_agent_login, 1),
]
ANONYMOUS_ACTIONS: list[tuple[Callable[[Run], None], int]] = [
    (forged, 6),
    (replay, 5),
    (hostile_agent, 3),
]


def step(run: Run) -> None:
    """One action of the mix (a user's action re-signs a dead tab in first)."""
    total = sum(w for _, w in USER_ACTIONS) + sum(w for _, w in ANONYMOUS_ACTIONS)
    pick = run.rng.randrange(total)
    for action, weight in USER_ACTIONS:
        if pick < weight:
            user = run.rng.choice(run.users)
            with user.lock:
                tab = run.rng.choice(user.tabs)
                if not tab.alive:
                    sign_in(run, user, tab)
                action(run, user, tab)
            return
        pick -= weight
    for anonymous_action, weight in ANONYMOUS_ACTIONS:
        if pick < weight:
            anonymous_action(run)
            return
        pick -= weight


def client_thread(run: Run, seed: int) -> None:
    """Run actions until the request budget is spent; note every violation."""
    run.local.rng = random.Random(seed)
    while not run.spent():
        try:
            step(run)
        except Violation as exc:
            run.violation(exc.category, str(exc))
        except Exception as exc:  # a broken answer (bad JSON...) is a violation
            run.violation(OTHER, f"{type(exc).__name__}: {exc}")
