"""The devices page in a real browser: two devices, a phone, and no JavaScript."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in_page
from tests.user_sessions import (
    ANDROID_FIREFOX,
    ANDROID_TABLET_CHROME,
    IPHONE_SAFARI,
    UBUNTU_FIREFOX,
    WINDOWS_CHROME,
    start_session,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIST = "/account/sessions/"
DESKTOP = {"user_agent": WINDOWS_CHROME, "viewport": {"width": 1280, "height": 800}}
IPHONE = {
    "user_agent": IPHONE_SAFARI,
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
}


def test_sign_out_the_other_device(live_server: Any, browser: Any, user: Any) -> None:
    desktop = sign_in_page(browser, live_server.url, **DESKTOP)
    phone = sign_in_page(browser, live_server.url, **IPHONE)

    # Each device sees both sessions and calls itself "This device".
    phone.goto(LIST)
    expect(phone.locator(".sg-session")).to_have_count(2)
    expect(phone.locator(".sg-session--current")).to_contain_text("Mobile Safari")

    desktop.goto(LIST)
    rows = desktop.locator(".sg-session")
    expect(rows).to_have_count(2)
    current = desktop.locator(".sg-session--current")
    expect(current).to_have_count(1)
    expect(current).to_contain_text("This device")
    expect(current).to_contain_text("Chrome 124")
    expect(current).to_contain_text("on Windows 10")
    expect(current).to_contain_text("Desktop")
    other = desktop.locator(".sg-session:not(.sg-session--current)")
    expect(other).to_contain_text("Mobile Safari 17.4")
    expect(other).to_contain_text("on iOS 17.4")
    expect(other).to_contain_text("Mobile")
    expect(other).not_to_contain_text("This device")

    desktop.get_by_role("button", name="Sign out Mobile Safari on iOS").click()

    expect(desktop.get_by_role("status")).to_have_text(
        "Signed out Mobile Safari on iOS."
    )
    expect(rows).to_have_count(1)
    expect(desktop.get_by_role("button", name="Sign out this device")).to_be_visible()

    # The phone's next page load lands on the login page.
    phone.goto(LIST)
    assert urlsplit(phone.url).path == "/login/"
    expect(phone.get_by_label("Password")).to_be_visible()

    # The desktop is still signed in.
    desktop.reload()
    expect(desktop.locator(".sg-session--current")).to_have_count(1)


def no_horizontal_overflow(page: Any, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url
    for button in page.locator(".sg-button").all():
        box = button.bounding_box()
        assert box is not None
        assert box["x"] >= 0, button.inner_text()
        assert box["x"] + box["width"] <= width, button.inner_text()


def test_readable_on_a_360px_phone(live_server: Any, browser: Any, user: Any) -> None:
    for agent, ip in [
        (UBUNTU_FIREFOX, "2001:db8:85a3:8d3:1319:8a2e:370:7348"),
        (ANDROID_TABLET_CHROME, "198.51.100.23"),
        (IPHONE_SAFARI, "203.0.113.77"),
    ]:
        start_session(user, user_agent=agent, ip=ip)
    page = sign_in_page(
        browser,
        live_server.url,
        user_agent=ANDROID_FIREFOX,
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
    )

    page.goto(LIST)
    expect(page.locator(".sg-session")).to_have_count(4)
    no_horizontal_overflow(page, 360)
    # Touch targets: every button at least 44 px high.
    for button in page.locator(".sg-button").all():
        box = button.bounding_box()
        assert box is not None
        assert box["height"] >= 44

    page.get_by_role("link", name="Sign out all other devices").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Sign out all other devices?"
    )
    no_horizontal_overflow(page, 360)

    page.goto(f"{LIST}confirm-password/")
    no_horizontal_overflow(page, 360)


def test_works_without_javascript(live_server: Any, browser: Any, user: Any) -> None:
    page = sign_in_page(browser, live_server.url, java_script_enabled=False, **DESKTOP)
    start_session(user, user_agent=IPHONE_SAFARI)
    start_session(user, user_agent=ANDROID_FIREFOX)

    page.goto(LIST)
    expect(page.locator(".sg-session")).to_have_count(3)
    page.get_by_role("link", name="Sign out all other devices").click()
    expect(page.locator(".sg-session")).to_have_count(2)  # what will be signed out
    page.get_by_role("button", name="Sign out all other devices").click()

    assert urlsplit(page.url).path == LIST
    expect(page.get_by_role("status")).to_have_text("Signed out 2 other devices.")
    expect(page.locator(".sg-session")).to_have_count(1)
    expect(page.locator(".sg-session--current")).to_have_count(1)

    page.get_by_role("button", name="Sign out this device").click()
    assert urlsplit(page.url).path == "/login/"
    page.goto(LIST)
    assert urlsplit(page.url).path == "/login/"
