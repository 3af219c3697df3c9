"""Regenerate the admin screenshots in ``docs/screenshots/``.

Run with ``pytest tests/browser/admin_screenshots.py``. Not collected by the
normal test run (the file name does not start with ``test_``); it is a pytest
module so it gets the live server, database and browser fixtures.

A small site: a dozen people on varied devices, sign-ins spread over the last
month, a few security events. Addresses come from the documentation ranges
(RFC 5737 / RFC 3849).
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from django_sessionguard.events import EventKind
from django_sessionguard.models import Session, SessionEvent
from tests.browser.test_admin_browser import WINDOWS_FIREFOX, admin_page
from tests.test_admin_helpers import make_superuser, make_user
from tests.user_sessions import (
    ANDROID_FIREFOX,
    ANDROID_TABLET_CHROME,
    IPHONE_SAFARI,
    MAC_SAFARI,
    UBUNTU_FIREFOX,
    WINDOWS_CHROME,
    start_session,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PEOPLE = [
    ("amelia.hart", [WINDOWS_CHROME, IPHONE_SAFARI, MAC_SAFARI]),
    ("bruno.costa", [UBUNTU_FIREFOX]),
    ("chen.wei", [ANDROID_FIREFOX, WINDOWS_CHROME]),
    ("dana.okafor", [MAC_SAFARI]),
    ("emil.larsen", [IPHONE_SAFARI]),
    ("farah.nasser", [ANDROID_TABLET_CHROME, WINDOWS_FIREFOX]),
    ("gus.pereira", [WINDOWS_CHROME]),
    ("hana.sato", [IPHONE_SAFARI, MAC_SAFARI]),
    ("ivan.petrov", [UBUNTU_FIREFOX]),
    ("julia.weber", [WINDOWS_FIREFOX]),
]
ADDRESSES = ["203.0.113.", "198.51.100.", "192.0.2."]


def populate() -> None:
    rng = random.Random(7)
    now = timezone.now()
    for index, (username, agents) in enumerate(PEOPLE):
        user = make_user(username)
        for number, agent in enumerate(agents):
            if rng.random() < 0.15:
                ip = f"2001:db8:{index:x}::{number + 5:x}"
            else:
                ip = f"{rng.choice(ADDRESSES)}{rng.randint(2, 250)}"
            _cookie, reference = start_session(user, user_agent=agent, ip=ip)
            active = timedelta(minutes=rng.randint(1, 60 * 30))
            signed_in = active + timedelta(hours=rng.randint(1, 24 * 12))
            Session.objects.filter(reference=reference).update(
                last_activity=now - active,
                created_at=now - signed_in,
                authenticated_at=now - signed_in,
            )
    # Two visitors who never signed in, and a session that ran out.
    for agent, ip in ((UBUNTU_FIREFOX, "198.51.100.77"), (ANDROID_FIREFOX, None)):
        start_session(make_user(f"tmp-{ip}"), user_agent=agent, ip=ip)
    Session.objects.filter(user__username__startswith="tmp-").update(
        user=None, authenticated_at=None
    )
    expired = Session.objects.filter(user__username="ivan.petrov")
    expired.update(expire_date=now - timedelta(hours=3))

    users = list(Session.objects.exclude(user=None).values_list("user", flat=True))
    logins = []
    for day in range(30):
        weekday = (now - timedelta(days=day)).weekday()
        base = 9 if weekday < 5 else 3
        for _ in range(base + rng.randint(0, 8) + (30 - day) // 6):
            logins.append(
                SessionEvent(
                    kind=EventKind.LOGIN,
                    user_id=rng.choice(users),
                    timestamp=now - timedelta(days=day, minutes=rng.randint(0, 600)),
                    ip_address=f"203.0.113.{rng.randint(2, 250)}",
                    device="Chrome 124.0.0 on Windows 10",
                )
            )
    SessionEvent.objects.bulk_create(logins)
    for minutes, kind, ip, device in (
        (4, EventKind.EVICTED, "203.0.113.61", "Mobile Safari 17.4 on iOS 17.4"),
        (38, EventKind.IP_CHANGED, "198.51.100.23", "Chrome 124.0.0 on Windows 10"),
        (95, EventKind.LOGIN_DENIED, "192.0.2.44", "Firefox 126.0 on Ubuntu"),
        (260, EventKind.UA_CHANGED, "203.0.113.140", "Chrome 123.0.6312 on Android 13"),
    ):
        SessionEvent.objects.create(
            kind=kind,
            user_id=rng.choice(users),
            timestamp=now - timedelta(minutes=minutes),
            ip_address=ip,
            device=device,
        )


@pytest.mark.parametrize("name", ["admin-sessions.png", "admin-dashboard.png"])
def test_screenshot(name: str, live_server: Any, browser: Any) -> None:
    populate()
    make_superuser("admin")
    page = admin_page(browser, live_server.url, "admin")
    if name == "admin-sessions.png":
        page.goto("/admin/django_sessionguard/session/?status=active")
    else:
        page.goto("/admin/django_sessionguard/session/dashboard/")
    page.locator("#content-main").wait_for()
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / name), full_page=True, animations="disabled")
