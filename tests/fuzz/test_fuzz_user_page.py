"""Fuzzing the devices page and its JSON API: only the owner's own sessions end.

Alice (signed in, with a second session) sends requests to every revoke
endpoint with any method, any reference in the URL (arbitrary Unicode,
invalid UTF-8, near misses, Bob's real references, her own), any form body,
garbage JSON, garbage query strings, with and without a valid CSRF token.
The answer is always one of the expected statuses, never a 500; Bob's
sessions are never touched; and exactly the sessions of Alice's that a
well-formed, CSRF-protected POST named are ended.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from hypothesis import event, given
from hypothesis import strategies as st

from django_sessionguard.models import Session
from tests.fuzz.support import (
    CLIENT_ERRORS,
    form_body,
    fuzzing,
    hostile_text,
    mostly,
    rolled_back,
    url_text,
)
from tests.user_sessions import (
    ANDROID_FIREFOX,
    IPHONE_SAFARI,
    WINDOWS_CHROME,
    SignedIn,
    sign_in,
)

pytestmark = pytest.mark.django_db

PREFIX = "/account/sessions/"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


@dataclass
class World:
    me: SignedIn
    mine: str  # alice's other session
    bobs: list[str]
    csrf: str


@pytest.fixture
def world(engine: str, user: Any, django_user_model: Any) -> World:
    bob = django_user_model.objects.create_user("bob", password="pw")
    me = sign_in(user, user_agent=WINDOWS_CHROME)
    mine = sign_in(user, user_agent=IPHONE_SAFARI, ip="203.0.113.9").reference
    bobs = [
        sign_in(bob, user_agent=ANDROID_FIREFOX).reference,
        sign_in(bob, user_agent=WINDOWS_CHROME, ip="198.51.100.7").reference,
    ]
    me.client.get(f"{PREFIX}")  # sets the CSRF cookie
    csrf = me.client.cookies[django_settings.CSRF_COOKIE_NAME].value
    return World(me, mine, bobs, csrf)


def references(world: World) -> st.SearchStrategy[str]:
    real = [world.me.reference, world.mine, *world.bobs]
    return mostly(
        st.sampled_from(real),
        st.one_of(
            hostile_text,
            st.text("0123456789abcdef", min_size=32, max_size=32),
            st.sampled_from(real).map(str.upper),
            st.sampled_from(real).map(lambda ref: ref[:-1]),
            st.sampled_from(real).map(lambda ref: ref + "0"),
            st.sampled_from(real).map(lambda ref: f"{ref}\x00"),
            st.sampled_from(real).map(lambda ref: f" {ref}"),
        ),
        weight=1,
    )


json_garbage = st.one_of(
    st.text(max_size=100),
    st.sampled_from(
        ['{"reference": ', "[" * 500, '{"a": 1e999}', "null", '"\\ud800"', "\x00"]
    ),
    st.binary(max_size=100).map(lambda raw: raw.decode("latin-1")),
)
form_bodies = st.dictionaries(
    st.text(max_size=20), st.lists(st.text(max_size=50), max_size=3), max_size=5
)


@dataclass(frozen=True)
class Attempt:
    endpoint: str  # "revoke", "api-revoke", "others", "api-others", "list", "api-list"
    method: str
    reference: str
    csrf: str  # "valid", "missing", "garbage"
    body: Any
    json: bool
    query: str

    @property
    def path(self) -> str:
        ref = url_text(self.reference)
        paths = {
            "revoke": f"{PREFIX}{ref}/sign-out/",
            "api-revoke": f"{PREFIX}api/{ref}/sign-out/",
            "others": f"{PREFIX}sign-out-others/",
            "api-others": f"{PREFIX}api/sign-out-others/",
            "list": PREFIX,
            "api-list": f"{PREFIX}api/",
        }
        query = f"?{url_text(self.query)}" if self.query else ""
        return paths[self.endpoint] + query


@st.composite
def attempts(draw: st.DrawFn, world: World) -> Attempt:
    # Mostly POSTs to the revoke endpoints: where a mistake would cost most.
    endpoint = draw(
        mostly(
            st.sampled_from(["revoke", "api-revoke"]),
            st.sampled_from(["others", "api-others", "list", "api-list"]),
        )
    )
    json = draw(st.booleans())
    return Attempt(
        endpoint=endpoint,
        method=draw(mostly(st.just("POST"), st.sampled_from(METHODS), weight=2)),
        reference=draw(references(world)),
        csrf=draw(st.sampled_from(["valid", "valid", "missing", "garbage"])),
        body=draw(json_garbage if json else form_bodies),
        json=json,
        query=draw(st.sampled_from(["", "", "next=//evil.example"]) | hostile_text),
    )


def send(world: World, attempt: Attempt) -> Any:
    client = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=WINDOWS_CHROME)
    client.cookies[django_settings.SESSION_COOKIE_NAME] = world.me.cookie
    client.cookies[django_settings.CSRF_COOKIE_NAME] = world.csrf
    headers: dict[str, Any] = {}
    if attempt.csrf == "valid":
        headers["HTTP_X_CSRFTOKEN"] = world.csrf
    elif attempt.csrf == "garbage":
        headers["HTTP_X_CSRFTOKEN"] = secrets.token_urlsafe(24)
    if attempt.json:
        return client.generic(
            attempt.method,
            attempt.path,
            attempt.body.encode("utf-8", "surrogatepass"),
            content_type="application/json",
            **headers,
        )
    if attempt.method in ("GET", "HEAD"):
        return client.generic(attempt.method, attempt.path, **headers)
    return client.generic(
        attempt.method,
        attempt.path,
        form_body(attempt.body),
        content_type="application/x-www-form-urlencoded",
        **headers,
    )


def expected(world: World, attempt: Attempt) -> tuple[set[int], set[str]]:
    """The statuses allowed for ``attempt``, and the sessions it must end."""
    state_changing = attempt.method not in ("GET", "HEAD", "OPTIONS")
    csrf_ok = attempt.csrf == "valid"
    ends: set[str] = set()
    if attempt.endpoint in ("revoke", "api-revoke"):
        if "/" in attempt.reference or not attempt.reference:
            return {404}, set()  # no URL matches
        if state_changing and not csrf_ok:
            return {403}, set()
        if attempt.method != "POST" and (
            attempt.endpoint == "api-revoke" or attempt.method not in ("GET", "HEAD")
        ):
            return {405}, set()
        if attempt.reference not in (world.me.reference, world.mine):
            return {404}, set()
        if attempt.method != "POST":
            return {200}, set()  # the confirmation page
        ends = {attempt.reference}
        return ({302} if attempt.endpoint == "revoke" else {200}), ends
    if state_changing and not csrf_ok:
        return {403}, set()
    if attempt.endpoint in ("others", "api-others"):
        if attempt.method == "POST":
            return ({302} if attempt.endpoint == "others" else {200}), {world.mine}
        if attempt.endpoint == "others" and attempt.method in ("GET", "HEAD"):
            return {200}, set()
        return {405}, set()
    if attempt.method in ("GET", "HEAD"):
        return {200}, set()
    return {405}, set()


def live(references: list[str]) -> set[str]:
    return set(
        Session.objects.filter(reference__in=references).values_list(
            "reference", flat=True
        )
    )


@fuzzing(60)
@given(data=st.data())
def test_only_what_the_owner_asked_for_ends(world: World, data: st.DataObject) -> None:
    attempt = data.draw(attempts(world), label="attempt")
    everyone = [world.me.reference, world.mine, *world.bobs]
    statuses, ends = expected(world, attempt)

    with rolled_back():
        response = send(world, attempt)
        event(f"{attempt.endpoint}: {response.status_code}")

        assert response.status_code in statuses
        assert response.status_code in CLIENT_ERRORS | {200, 302}
        assert live(everyone) == set(everyone) - ends


@pytest.mark.parametrize(
    "path",
    [f"{PREFIX}%00/sign-out/", f"{PREFIX}api/%00/sign-out/", f"{PREFIX}a%00/sign-out/"],
)
def test_a_nul_byte_in_a_reference_is_not_found(world: World, path: str) -> None:
    # Found by the property above on PostgreSQL, which refuses NUL in a query.
    everyone = [world.me.reference, world.mine, *world.bobs]
    client = Client(HTTP_USER_AGENT=WINDOWS_CHROME)
    client.cookies[django_settings.SESSION_COOKIE_NAME] = world.me.cookie

    assert client.post(path).status_code == 404
    assert live(everyone) == set(everyone)
