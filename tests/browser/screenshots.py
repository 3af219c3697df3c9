"""Regenerate the devices-page screenshots in ``docs/screenshots/``.

Run with ``make screenshots`` (or ``pytest tests/browser/screenshots.py``).
Not collected by the normal test run (the file name does not start with
``test_``); it is a pytest module so it gets the same live server, database
and browser fixtures as the browser tests.

A user with five devices: this one (Chrome on Windows, or Safari on an iPhone
for the phone shot) and four others, of varied age. Client addresses come from
the documentation ranges (RFC 5737 / RFC 3849) through a trusted proxy header.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import sign_in_page
from tests.user_sessions import (
    ANDROID_TABLET_CHROME,
    IPHONE_SAFARI,
    MAC_SAFARI,
    UBUNTU_FIREFOX,
    WINDOWS_CHROME,
    age,
    start_session,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

OTHER_DEVICES = [
    (MAC_SAFARI, "198.51.100.23", timedelta(minutes=14), timedelta(days=12)),
    (ANDROID_TABLET_CHROME, "203.0.113.140", timedelta(hours=5), timedelta(days=3)),
    (UBUNTU_FIREFOX, "2001:db8:4a2f:17::5", timedelta(days=2), timedelta(days=21)),
]

SHOTS = {
    "devices-desktop.png": {
        "user_agent": WINDOWS_CHROME,
        "viewport": {"width": 1100, "height": 900},
        "extra_http_headers": {"X-Forwarded-For": "203.0.113.24"},
    },
    "devices-phone.png": {
        "user_agent": IPHONE_SAFARI,
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
        "extra_http_headers": {"X-Forwarded-For": "203.0.113.61"},
    },
}


@pytest.mark.parametrize("name", list(SHOTS))
def test_screenshot(
    name: str, live_server: Any, browser: Any, user: Any, settings: Any
) -> None:
    settings.SESSIONGUARD_TRUSTED_PROXIES = ["127.0.0.1", "::1"]
    context = SHOTS[name]
    # The device not being photographed is one of the "other" devices.
    other_agent, other_ip = (
        (IPHONE_SAFARI, "203.0.113.61")
        if "desktop" in name
        else (WINDOWS_CHROME, "203.0.113.24")
    )
    devices = [(other_agent, other_ip, timedelta(minutes=2), timedelta(days=1))]
    for agent, ip, active, signed_in in [*devices, *OTHER_DEVICES]:
        _, reference = start_session(user, user_agent=agent, ip=ip)
        age(reference, active=active, signed_in=signed_in)

    page = sign_in_page(browser, live_server.url, color_scheme="light", **context)
    page.goto("/account/sessions/")
    page.locator(".sg-session").first.wait_for()

    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / name), full_page=True, animations="disabled")
