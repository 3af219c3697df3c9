"""What a signed-in user does: read pages and the API, write, sign in and out,
sign other devices out. Each answer is checked against the model exactly
(one client thread per user at a time)."""

from __future__ import annotations

import re

from tests.load.browser import SESSION_COOKIE, Browser, Response
from tests.load.model import (
    CROSS_USER,
    INJECTIONS,
    NO_SESSION_AUTHENTICATED,
    OTHER,
    LoadUser,
    Run,
    Tab,
    expect,
)

DEVICES = "/account/sessions/"
API = "/account/sessions/api/"
#: ``id="sg-<reference>-title"``: one per session card on the devices page.
CARD = re.compile(r'id="sg-([0-9a-f]{32})-title"')


# -- signing in and out ------------------------------------------------------------


def sign_in(run: Run, user: LoadUser, tab: Tab, kind: str = "login") -> None:
    """Login page, credentials, then the API to learn the new session's reference."""
    page = run.send("login-page", tab.browser, "GET", "/login/")
    expect(page.status == 200, f"login page: {page.status}")
    token = tab.browser.cookies.get("csrftoken", "")
    answer = run.send(
        kind,
        tab.browser,
        "POST",
        "/login/",
        form={
            "username": user.name,
            "password": user.password,
            "csrfmiddlewaretoken": token,
        },
    )
    expect(answer.status == 302, f"{kind} {user.name}: {answer.status}")
    user.logins += 1
    listing = run.send("devices-api", tab.browser, "GET", API)
    expect(listing.status == 200, f"api after login: {listing.status}")
    current = [row for row in listing.json()["sessions"] if row["current"]]
    expect(len(current) == 1, f"api after login: current rows {current}")
    tab.reference = current[0]["reference"]
    tab.alive = True
    tab.notes = 0
    check_listing(user, tab, listing)


def check_listing(user: LoadUser, tab: Tab, listing: Response) -> None:
    rows = listing.json()["sessions"]
    listed = {row["reference"] for row in rows}
    mine = user.references()
    expect(
        listed == mine,
        f"api for {user.name}: listed {sorted(listed)}, alive {sorted(mine)}",
        CROSS_USER if listed - mine else OTHER,
    )
    current = [row["reference"] for row in rows if row["current"]]
    expect(current == [tab.reference], f"api for {user.name}: current {current}")


def ended_at_once(run: Run, tab: Tab) -> None:
    """End the tab's session in the model, then replay its cookie right away.

    The very next request with it, served by whichever worker, is anonymous:
    revocation and sign-out take effect at once in every process.
    """
    agent = tab.browser.user_agent
    cookie = run.bury(tab)
    if cookie is None:
        return
    answer = run.send(
        "ended-cookie-at-once",
        Browser(run.host, run.port, agent),
        "GET",
        API,
        raw_cookie=f"{SESSION_COOKIE}={cookie}",
    )
    expect(
        answer.status == 401,
        f"ended-cookie-at-once: {answer.status}",
        NO_SESSION_AUTHENTICATED if answer.status == 200 else OTHER,
    )


# -- what a signed-in user does ----------------------------------------------------


def home(run: Run, user: LoadUser, tab: Tab) -> None:
    page = run.send("home", tab.browser, "GET", "/")
    expect(page.status == 200, f"home: {page.status}")
    names = run.usernames_in(page.text)
    expect(
        names == [user.name],
        f"home of {user.name} shows {names}",
        CROSS_USER if set(names) - {user.name} else OTHER,
    )


def devices(run: Run, user: LoadUser, tab: Tab) -> None:
    page = run.send("devices", tab.browser, "GET", DEVICES)
    expect(page.status == 200, f"devices: {page.status}")
    shown = set(CARD.findall(page.text))
    mine = user.references()
    expect(
        shown == mine,
        f"devices of {user.name}: {sorted(shown)} != {sorted(mine)}",
        CROSS_USER if shown - mine else OTHER,
    )
    for payload in INJECTIONS:
        expect(payload not in page.text, f"devices page shows raw {payload!r}")


def devices_api(run: Run, user: LoadUser, tab: Tab) -> None:
    listing = run.send("devices-api", tab.browser, "GET", API)
    expect(listing.status == 200, f"api: {listing.status}")
    check_listing(user, tab, listing)


def write(run: Run, user: LoadUser, tab: Tab) -> None:
    answer = run.send("write", tab.browser, "POST", "/load/note/", form={}, csrf=True)
    expect(answer.status == 200, f"write: {answer.status}")
    tab.notes += 1
    expect(
        answer.json() == {"user": user.name, "notes": tab.notes},
        f"write of {user.name}: {answer.json()} (expected {tab.notes} notes)",
    )


def logout(run: Run, user: LoadUser, tab: Tab) -> None:
    answer = run.send("logout", tab.browser, "POST", "/logout/", form={}, csrf=True)
    expect(answer.status == 302, f"logout: {answer.status}")
    user.logouts += 1
    ended_at_once(run, tab)


def revoke_other(run: Run, user: LoadUser, tab: Tab) -> None:
    others = [other for other in user.alive() if other is not tab]
    if not others:
        return devices_api(run, user, tab)
    target = run.rng.choice(others)
    answer = run.send(
        "revoke-other",
        tab.browser,
        "POST",
        f"{DEVICES}{target.reference}/sign-out/",
        form={},
        csrf=True,
    )
    expect(answer.status == 302, f"revoke-other: {answer.status}")
    user.revoked += 1
    ended_at_once(run, target)
    return None


def revoke_others_api(run: Run, user: LoadUser, tab: Tab) -> None:
    others = [other for other in user.alive() if other is not tab]
    answer = run.send(
        "revoke-others-api",
        tab.browser,
        "POST",
        f"{API}sign-out-others/",
        body=b"{}",
        content_type="application/json",
        csrf=True,
    )
    expect(answer.status == 200, f"revoke-others-api: {answer.status}")
    expect(
        answer.json() == {"revoked": len(others)},
        f"revoke-others-api: {answer.json()}, expected {len(others)}",
    )
    user.revoked += len(others)
    for other in others:
        ended_at_once(run, other)
