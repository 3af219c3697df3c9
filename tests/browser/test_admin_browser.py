"""The staff side in a real browser: filter, revoke two sessions, see the dashboard."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.browser.conftest import sign_in_page
from tests.test_admin_helpers import REVOKER, make_user
from tests.user_sessions import UBUNTU_FIREFOX, WINDOWS_CHROME

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect = pytest.importorskip("playwright.sync_api").expect

WINDOWS_FIREFOX = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:126.0) Gecko/20100101 Firefox/126.0"
)
SESSIONS = "/admin/django_sessionguard/session/"


def who(page: Any) -> str | None:
    """Who the server thinks this browser is, on its next request."""
    page.goto("/read/")
    user: str | None = json.loads(page.locator("body").inner_text())["user"]
    return user


def admin_page(browser: Any, base_url: str, username: str) -> Any:
    page = browser.new_context(
        base_url=base_url,
        user_agent=WINDOWS_CHROME,
        viewport={"width": 1400, "height": 900},
    ).new_page()
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")
    return page


def test_staff_filter_revoke_and_dashboard(live_server: Any, browser: Any) -> None:
    for name in ("alice", "bob", "carol"):
        make_user(name)
    make_user("moderator", staff=True, perms=REVOKER)
    alice = sign_in_page(
        browser, live_server.url, username="alice", user_agent=WINDOWS_CHROME
    )
    bob = sign_in_page(
        browser, live_server.url, username="bob", user_agent=UBUNTU_FIREFOX
    )
    carol = sign_in_page(
        browser, live_server.url, username="carol", user_agent=WINDOWS_FIREFOX
    )
    assert [who(alice), who(bob), who(carol)] == ["alice", "bob", "carol"]

    staff = admin_page(browser, live_server.url, "moderator")
    staff.goto(SESSIONS)
    rows = staff.locator("#result_list tbody tr")
    expect(rows).to_have_count(4)  # three users and the staff member

    # Filter: Firefox only.
    staff.locator("#changelist-filter").get_by_role(
        "link", name="Firefox", exact=True
    ).click()
    staff.wait_for_url("**/?browser=Firefox")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="bob")).to_contain_text("Firefox 126.0 on Ubuntu")
    expect(rows.filter(has_text="carol")).to_contain_text("Firefox 126.0 on Windows")

    # Select both, run the action, confirm.
    for row in rows.all():
        row.locator("input.action-select").check()
    staff.locator("select[name=action]").first.select_option("revoke_selected")
    staff.locator("button[name=index]").first.click()
    expect(staff.locator("#content-main")).to_contain_text(
        "These 2 sessions will end now"
    )
    confirmation = staff.locator(".sg-confirm-table tbody tr")
    expect(confirmation).to_have_count(2)
    staff.get_by_label("Reason").fill("shared account, reported by bob")
    staff.get_by_role("button", name="Yes, revoke").click()

    staff.wait_for_url("**/?browser=Firefox")
    expect(staff.locator(".messagelist")).to_contain_text("Revoked 2 sessions.")
    expect(rows).to_have_count(0)

    # Their next request is anonymous; alice and the staff member carry on.
    assert [who(bob), who(carol)] == [None, None]
    assert who(alice) == "alice"

    # The dashboard: reachable from the list, with its chart drawn.
    staff.goto(SESSIONS)
    staff.get_by_role("link", name="Dashboard").click()
    staff.wait_for_url("**/session/dashboard/")
    expect(staff.locator("h1")).to_have_text("Sessions dashboard")
    chart = staff.locator("svg.sg-bar-chart")
    expect(chart).to_be_visible()
    bars = chart.locator("rect.sg-bar")
    expect(bars).to_have_count(30)
    heights = [float(bar.get_attribute("height") or 0) for bar in bars.all()]
    assert heights[-1] > 0  # today's sign-ins
    box = chart.bounding_box()
    assert box is not None
    assert box["width"] > 600
    assert box["height"] > 150
    expect(staff.locator(".sg-security")).to_contain_text("Revoked by staff")
    expect(staff.locator(".sg-card").first).to_contain_text("active sessions")
