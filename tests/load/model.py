"""The clients' model of the world: users, their browsers, and what went wrong.

Each user has a few browsers ("tabs"), each with the session the model says
it holds. :class:`Run` is shared by the client threads: it sends requests,
records every answer (kind, status, latency) and collects violations, each
in one of :data:`CATEGORIES`.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any

from tests.load.browser import SESSION_COOKIE, Browser, Response

USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0",
    "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
)
INJECTIONS = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</title><svg/onload=alert(1)>",
    "{{ request.META }}{% debug %}",
)


@dataclass(eq=False)
class Tab:
    """One browser of a user, and what its session should be."""

    browser: Browser
    reference: str | None = None
    alive: bool = False
    notes: int = 0


@dataclass(eq=False)
class LoadUser:
    name: str
    password: str
    tabs: list[Tab]
    lock: threading.Lock = field(default_factory=threading.Lock)
    logins: int = 0
    logouts: int = 0
    revoked: int = 0  # sessions this user revoked (its own, by definition)

    def alive(self) -> list[Tab]:
        return [tab for tab in self.tabs if tab.alive]

    def references(self) -> set[str]:
        """The references of the sessions this user's browsers hold."""
        return {tab.reference for tab in self.alive() if tab.reference}


@dataclass(frozen=True)
class Record:
    kind: str
    status: int
    elapsed: float


#: What a violation is about (the summary counts each category).
SERVER_ERROR = "server errors (5xx)"
NO_SESSION_AUTHENTICATED = "responses authenticated without a valid session"
CROSS_USER = "cross-user effects"
OTHER = "other violations"
CATEGORIES = (SERVER_ERROR, NO_SESSION_AUTHENTICATED, CROSS_USER, OTHER)


class Violation(Exception):
    """An answer the model did not allow."""

    def __init__(self, message: str, category: str = OTHER) -> None:
        super().__init__(message)
        self.category = category


@dataclass
class Run:
    """Shared state of one run: users, dead cookies, records, violations."""

    host: str
    port: int
    users: list[LoadUser]
    budget: int
    records: list[Record] = field(default_factory=list)
    violations: list[tuple[str, str]] = field(default_factory=list)
    dead_cookies: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    local: threading.local = field(default_factory=threading.local)

    # -- bookkeeping --------------------------------------------------------

    @property
    def rng(self) -> random.Random:
        """This client thread's random numbers (seeded: a run can be replayed)."""
        rng: random.Random = self.local.rng
        return rng

    def spent(self) -> bool:
        with self.lock:
            return len(self.records) >= self.budget

    def send(
        self, kind: str, browser: Browser, method: str, path: str, **options: Any
    ) -> Response:
        try:
            response = browser.request(method, path, **options)
        except OSError as exc:  # a dropped connection is a server failure too
            with self.lock:
                self.records.append(Record(kind, 599, 0.0))
            raise Violation(
                f"{kind}: {method} {path[:80]}: {exc!r}", SERVER_ERROR
            ) from exc
        with self.lock:
            self.records.append(Record(kind, response.status, response.elapsed))
        if response.status >= 500:
            raise Violation(
                f"{kind}: {method} {path[:80]} -> {response.status}", SERVER_ERROR
            )
        return response

    def violation(self, category: str, message: str) -> None:
        with self.lock:
            self.violations.append((category, message))

    def bury(self, tab: Tab, *, ended: bool = True) -> str | None:
        """The tab's session is over: keep its cookie to replay later.

        ``ended=False``: the tab is dropped after a violation, its session
        perhaps still live, so its cookie is not replayed as a dead one.
        """
        cookie = tab.browser.cookies.pop(SESSION_COOKIE, None)
        tab.alive = False
        tab.reference = None
        tab.notes = 0
        if cookie and ended:
            with self.lock:
                self.dead_cookies.append(cookie)
        return cookie

    def usernames_in(self, text: str) -> list[str]:
        return [user.name for user in self.users if user.name in text]

    def other_users(self, user: LoadUser) -> list[LoadUser]:
        return [other for other in self.users if other is not user]


def expect(condition: bool, message: str, category: str = OTHER) -> None:
    if not condition:
        raise Violation(message, category)
