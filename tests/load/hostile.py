"""Hostile requests: at other users' sessions, without CSRF, with forged or
replayed cookies, spoofed forwarding headers, garbage queries and bodies,
huge or malicious User-Agents. None may fail the server, sign anybody in
without a live session, or touch another user's sessions."""

from __future__ import annotations

import random
import secrets
import string

from tests.load.browser import SESSION_COOKIE, Browser
from tests.load.model import (
    CROSS_USER,
    INJECTIONS,
    NO_SESSION_AUTHENTICATED,
    OTHER,
    USER_AGENTS,
    LoadUser,
    Run,
    Tab,
    expect,
)
from tests.load.ordinary import API, DEVICES, check_listing, devices, logout, sign_in

# -- hostile requests from a signed-in user ----------------------------------------


def foreign_revoke(run: Run, user: LoadUser, tab: Tab) -> None:
    """Aim at another user's live session: the page, then the API."""
    victims = [
        other.reference
        for someone in run.other_users(user)
        for other in someone.tabs
        if other.reference
    ]
    reference = run.rng.choice(victims) if victims else secrets.token_hex(16)
    if run.rng.random() < 0.5:
        path, kind, body = f"{DEVICES}{reference}/sign-out/", "fuzz-foreign-revoke", b""
    else:
        path, kind, body = (
            f"{API}{reference}/sign-out/",
            "fuzz-foreign-revoke-api",
            b"{}",
        )
    answer = run.send(
        kind,
        tab.browser,
        "POST",
        path,
        body=body,
        content_type="application/json",
        csrf=True,
    )
    expect(answer.status == 404, f"{kind}: {answer.status}", CROSS_USER)


BAD_REFERENCES = (
    "%00",
    "0" * 31 + "%00",
    "A" * 32,
    "..%2F..%2Fadmin",
    "%E2%80%AE" * 10,
    "x" * 3000,
    "%ff%fe",
    "' OR 1=1 --",
)


def bad_reference(run: Run, user: LoadUser, tab: Tab) -> None:
    reference = (
        run.rng.choice(
            [
                *BAD_REFERENCES,
                (tab.reference or "").upper(),
                (tab.reference or "") + "0",
            ]
        )
        .replace(" ", "%20")
        .replace("'", "%27")
    )
    answer = run.send(
        "fuzz-bad-reference",
        tab.browser,
        "POST",
        f"{DEVICES}{reference}/sign-out/",
        form={},
        csrf=True,
    )
    expect(answer.status in (400, 404), f"fuzz-bad-reference: {answer.status}")


def no_csrf(run: Run, user: LoadUser, tab: Tab) -> None:
    """A state-changing POST without (or with a forged) CSRF token: refused."""
    others = [other for other in user.alive() if other is not tab]
    target = others[0].reference if others else tab.reference
    token = run.rng.choice([None, secrets.token_urlsafe(24), "x"])
    answer = run.send(
        "fuzz-no-csrf",
        tab.browser,
        "POST",
        f"{DEVICES}{target}/sign-out/",
        form={"csrfmiddlewaretoken": token} if token else {},
        headers={"X-CSRFToken": token} if token else None,
    )
    expect(answer.status == 403, f"fuzz-no-csrf: {answer.status}")


def spoofed_ip(run: Run, user: LoadUser, tab: Tab) -> None:
    """Forwarding headers from a client: at most an IP change, never a sign-out."""
    header, value = run.rng.choice(
        [
            ("X-Forwarded-For", f"203.0.113.{run.rng.randrange(256)}"),
            ("X-Forwarded-For", "1.2.3.4, <script>, ::1::, 10.0.0.1"),
            ("X-Forwarded-For", ", ".join(["198.51.100.7"] * 400)),
            ("Forwarded", 'for="[2001:db8::17]:443";proto=https, for=unknown'),
            ("Forwarded", "for=;;;,,,===" * 50),
        ]
    )
    listing = run.send(
        "fuzz-spoofed-ip", tab.browser, "GET", API, headers={header: value}
    )
    expect(listing.status == 200, f"fuzz-spoofed-ip: {listing.status}")
    check_listing(user, tab, listing)


def garbage_query(run: Run, user: LoadUser, tab: Tab) -> None:
    query = run.rng.choice(
        [
            "a=%00",
            "%ff%fe=%c0%ae",
            "x=" + "y" * 2000,
            "next=//evil.example",
            "&&&==",
            "a[]=1&a[]=2",
        ]
    )
    listing = run.send("fuzz-garbage-query", tab.browser, "GET", f"{API}?{query}")
    expect(listing.status == 200, f"fuzz-garbage-query: {listing.status}")
    check_listing(user, tab, listing)


def garbage_body(run: Run, user: LoadUser, tab: Tab) -> None:
    """A write whose body is garbage: refused (400) or served as a write."""
    content_type, body = run.rng.choice(
        [
            ("multipart/form-data; boundary=xyz", b"--xyz\r\nbroken"),
            ("multipart/form-data", b"no boundary at all"),
            ("application/x-www-form-urlencoded", b"%ff=%fe&" * 200),
            ("application/json", b'{"load_notes": 999999'),
            ("text/plain", bytes(range(256))),
        ]
    )
    answer = run.send(
        "fuzz-garbage-body",
        tab.browser,
        "POST",
        "/load/note/",
        body=body,
        content_type=content_type,
        csrf=True,
    )
    expect(answer.status in (200, 400), f"fuzz-garbage-body: {answer.status}")
    if answer.status == 200:
        tab.notes += 1
        expect(
            answer.json() == {"user": user.name, "notes": tab.notes},
            f"fuzz-garbage-body: {answer.json()} (expected {tab.notes} notes)",
        )


def hostile_user_agent_login(run: Run, user: LoadUser, tab: Tab) -> None:
    """Sign in with a malicious User-Agent in a fifth browser, look, sign out."""
    agent = run.rng.choice(INJECTIONS) + " " + run.rng.choice(USER_AGENTS)
    if run.rng.random() < 0.3:
        agent = agent * 40  # about 4-6 KB
    visitor = Tab(Browser(run.host, run.port, agent))
    user.tabs.append(visitor)
    try:
        sign_in(run, user, visitor, kind="fuzz-ua-login")
        devices(run, user, tab)  # the others' page lists the hostile browser
        logout(run, user, visitor)
    finally:
        if visitor.alive:  # a violation interrupted it
            run.bury(visitor, ended=False)
        user.tabs.remove(visitor)


# -- hostile requests from nobody in particular ------------------------------------


def forged_cookie(rng: random.Random) -> str:
    alphabet = string.ascii_lowercase + string.digits
    return rng.choice(
        [
            "".join(rng.choices(alphabet, k=32)),
            "".join(rng.choices(alphabet, k=64)),
            "".join(rng.choices(alphabet, k=31)),
            "A" * 32,
            "x" * 4000,
            "eyJfYXV0aF91c2VyX2lkIjoiMSJ9:1rAbCd:Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4",
            '"' + "".join(rng.choices(alphabet, k=32)) + '"',
            "../../etc/passwd",
            "%00" * 16,
        ]
    )


def anonymous(run: Run, kind: str, cookie: str | None, agent: str) -> None:
    """A request whose cookie names no live session: nobody is signed in.

    (400: the server refused the request line or a header; 429: key-guessing
    blocking, if a site turns it on.)
    """
    browser = Browser(run.host, run.port, agent)
    raw = None if cookie is None else f"{SESSION_COOKIE}={cookie}"
    if run.rng.random() < 0.5:
        answer = run.send(kind, browser, "GET", "/", raw_cookie=raw)
        names = run.usernames_in(answer.text)
        expect(
            not names,
            f"{kind}: a request without a live session sees {names}",
            NO_SESSION_AUTHENTICATED,
        )
        expect(answer.status in (200, 400, 429), f"{kind} home: {answer.status}")
    else:
        answer = run.send(kind, browser, "GET", API, raw_cookie=raw)
        expect(
            answer.status in (400, 401, 429),
            f"{kind} api: {answer.status}",
            NO_SESSION_AUTHENTICATED if answer.status == 200 else OTHER,
        )


def forged(run: Run) -> None:
    anonymous(
        run, "fuzz-forged-cookie", forged_cookie(run.rng), run.rng.choice(USER_AGENTS)
    )


def replay(run: Run) -> None:
    with run.lock:
        cookie = run.rng.choice(run.dead_cookies) if run.dead_cookies else None
    if cookie is None:
        return forged(run)
    anonymous(run, "fuzz-replay-dead-cookie", cookie, run.rng.choice(USER_AGENTS))
    return None


def hostile_agent(run: Run) -> None:
    agent = run.rng.choice(
        [
            run.rng.choice(INJECTIONS) * 200,
            "\u202e" + run.rng.choice(USER_AGENTS)[::-1],
            "😀🔥 Mozilla/5.0 (🤖) " * 100,
            "A" * 7000,
            "Mozilla/5.0\x00\x07\x1b[31m",  # controls: gunicorn refuses them
        ]
    )
    anonymous(run, "fuzz-user-agent", None, agent)
