"""Fixtures for the browser tests: Debian's Chromium driven by Playwright (sync API).

The browser is started once per module and stopped after it, so the event loop
Playwright keeps in the main thread (which trips Django's async-safety check,
hence ``DJANGO_ALLOW_ASYNC_UNSAFE`` for the same span) never outlives the
browser tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import chromium_executable

#: Flags for a headless Chromium in a container, without network side trips.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=chromium_executable() or "/usr/bin/chromium",
                args=CHROMIUM_ARGS,
            )
            try:
                yield chromium
            finally:
                chromium.close()


def sign_in_page(
    browser: Any, base_url: str, *, username: str = "alice", **context: Any
) -> Any:
    """A new browser context signed in through the site's real login page."""
    page = browser.new_context(base_url=base_url, **context).new_page()
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/read/")
    return page
