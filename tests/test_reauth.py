"""Re-authentication (``recent_login_required``, the mixin, the password page)
and passive views (``@passive``)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import Client
from django.urls import path, reverse
from django.views import View

from django_sessionguard.backends.base import AUTH_AT_KEY
from django_sessionguard.decorators import passive, recent_login_required
from django_sessionguard.mixins import RecentLoginRequiredMixin
from django_sessionguard.models import Session, SessionEvent
from tests import urls as test_urls
from tests.user_sessions import IPHONE_SAFARI, SignedIn, is_live, sign_in

# -- views under test, served by this module's URLconf -------------------------


@recent_login_required
def sensitive(request: HttpRequest) -> HttpResponse:
    return HttpResponse("sensitive")


@recent_login_required(max_age=60)
def short(request: HttpRequest) -> HttpResponse:
    return HttpResponse("short")


@recent_login_required(max_age=60)
async def async_sensitive(request: HttpRequest) -> HttpResponse:
    return HttpResponse("async sensitive")


class SensitiveView(RecentLoginRequiredMixin, View):
    reauth_max_age = 60

    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("class sensitive")


def touch_session(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"counter": request.session.get("counter")})


@passive
def heartbeat(request: HttpRequest) -> JsonResponse:
    return touch_session(request)


@passive
async def async_heartbeat(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"counter": await request.session.aget("counter")})


urlpatterns = [
    *test_urls.urlpatterns,
    path("sensitive/", sensitive),
    path("short/", short),
    path("async-sensitive/", async_sensitive),
    path("class-sensitive/", SensitiveView.as_view()),
    path("active/", touch_session),
    path("heartbeat/", heartbeat),
    path("async-heartbeat/", async_heartbeat),
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

REAUTH = reverse("sessionguard:reauth", urlconf=test_urls)


@pytest.fixture
def me(user: Any) -> SignedIn:
    return sign_in(user)


def auth_at(me: SignedIn) -> float:
    data = Session.objects.get(reference=me.reference).get_decoded()
    value: float = data[AUTH_AT_KEY]
    return value


def csrf_token(client: Client, url: str) -> str:
    match = re.search(
        r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get(url).content.decode()
    )
    assert match is not None
    return match.group(1)


# -- @passive --------------------------------------------------------------------


def test_passive_marks_sync_and_async_views_without_wrapping() -> None:
    assert heartbeat.sessionguard_passive is True  # type: ignore[attr-defined]
    assert async_heartbeat.sessionguard_passive is True  # type: ignore[attr-defined]
    assert heartbeat.__name__ == "heartbeat"
    import inspect

    assert inspect.iscoroutinefunction(async_heartbeat)


@pytest.mark.parametrize("url", ["/heartbeat/", "/async-heartbeat/"])
def test_passive_views_are_not_activity(me: SignedIn, clock: Any, url: str) -> None:
    before = Session.objects.get(reference=me.reference).last_activity
    clock.advance(120)  # past SESSIONGUARD_ACTIVITY_INTERVAL

    assert me.client.get(url).status_code == 200
    assert Session.objects.get(reference=me.reference).last_activity == before

    me.client.get("/active/")  # the same request to an ordinary view counts
    assert Session.objects.get(reference=me.reference).last_activity > before


# -- recent_login_required ----------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/sensitive/", "/short/", "/async-sensitive/", "/class-sensitive/"]
)
def test_fresh_sign_in_passes(me: SignedIn, url: str) -> None:
    response = me.client.get(url)
    assert response.status_code == 200
    assert b"sensitive" in response.content or response.content == b"short"


@pytest.mark.parametrize("url", ["/short/", "/async-sensitive/", "/class-sensitive/"])
def test_stale_sign_in_is_sent_to_reauth(me: SignedIn, clock: Any, url: str) -> None:
    clock.advance(61)

    response = me.client.get(f"{url}?tab=2")

    assert response.status_code == 302
    assert response["Location"] == f"{REAUTH}?next={url}%3Ftab%3D2"
    assert me.username() == "alice"  # still signed in: only asked to confirm


def test_default_max_age_is_the_setting(
    me: SignedIn, clock: Any, settings: Any
) -> None:
    settings.SESSIONGUARD_REAUTH_MAX_AGE = 600
    clock.advance(500)
    assert me.client.get("/sensitive/").status_code == 200
    clock.advance(101)
    assert me.client.get("/sensitive/").status_code == 302


@pytest.mark.parametrize("url", ["/short/", "/async-sensitive/", "/class-sensitive/"])
def test_anonymous_is_sent_to_login(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"


def test_json_clients_get_json(me: SignedIn, client: Client, clock: Any) -> None:
    assert client.get("/short/", headers={"Accept": "application/json"}).json() == {
        "error": "not_authenticated",
        "message": "Sign in to continue.",
    }
    clock.advance(61)
    response = me.client.get("/short/", headers={"Accept": "application/json"})
    assert response.status_code == 403
    assert response.json()["reauth_url"] == REAUTH


# -- the password page ---------------------------------------------------------------


def test_reauth_page_needs_sign_in(client: Client) -> None:
    response = client.get(REAUTH)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_reauth_page_is_accessible_and_not_cached(me: SignedIn) -> None:
    response = me.client.get(f"{REAUTH}?next=/short/")

    assert response.status_code == 200
    assert response["Cache-Control"].count("no-store") == 1
    html = response.content.decode()
    assert '<label class="sg-label" for="id_password">Password</label>' in html
    assert 'autocomplete="current-password"' in html
    assert 'autocomplete="username" hidden readonly' in html
    assert 'name="next" value="/short/"' in html


def test_wrong_password_is_a_form_error(me: SignedIn, clock: Any) -> None:
    clock.advance(61)
    before = auth_at(me)
    failures: list[Any] = []
    user_login_failed.connect(
        lambda **kwargs: failures.append(kwargs),
        weak=False,
        dispatch_uid="test-reauth-fail",
    )

    try:
        response = me.client.post(REAUTH, {"password": "wrong", "next": "/short/"})
    finally:
        user_login_failed.disconnect(dispatch_uid="test-reauth-fail")

    assert response.status_code == 200
    html = response.content.decode()
    assert "That password is not correct. Please try again." in html
    assert 'aria-invalid="true" aria-describedby="id_password_errors"' in html
    assert 'value="wrong"' not in html
    assert auth_at(me) == before
    assert me.client.get("/short/").status_code == 302
    # Lockout tools (django-axes...) see the failure, without the password.
    assert len(failures) == 1
    assert failures[0]["credentials"]["password"] != "wrong"


def test_correct_password_refreshes_the_same_session(
    me: SignedIn, clock: Any, user: Any
) -> None:
    clock.advance(61)
    assert me.client.get("/short/").status_code == 302
    before = auth_at(me)
    row_before = Session.objects.get(reference=me.reference)
    events = SessionEvent.objects.count()
    logins: list[Any] = []
    user_logged_in.connect(logins.append, dispatch_uid="test-reauth")

    try:
        response = me.client.post(REAUTH, {"password": "pw", "next": "/short/"})
    finally:
        user_logged_in.disconnect(dispatch_uid="test-reauth")

    assert response.status_code == 302
    assert response["Location"] == "/short/"
    assert me.client.get("/short/").status_code == 200
    # Same cookie, same row, nothing new recorded; only the auth time moved.
    assert me.client.cookies["sessionid"].value == me.cookie
    assert list(Session.objects.values_list("reference", flat=True)) == [me.reference]
    assert auth_at(me) >= before + 61
    row = Session.objects.get(reference=me.reference)
    assert row.authenticated_at is not None
    assert row_before.authenticated_at is not None
    assert row.authenticated_at > row_before.authenticated_at
    assert row.created_at == row_before.created_at
    assert SessionEvent.objects.count() == events
    assert logins == []


def test_reauth_restarts_the_absolute_timeout(
    me: SignedIn, clock: Any, settings: Any
) -> None:
    settings.SESSIONGUARD_ABSOLUTE_TIMEOUT = 3600
    clock.advance(3000)
    token = csrf_token(me.client, REAUTH)
    me.client.post(REAUTH, {"password": "pw", "csrfmiddlewaretoken": token})
    clock.advance(1000)  # 4000 s after sign-in, 1000 s after confirming

    assert me.username() == "alice"


@pytest.mark.parametrize(
    "unsafe",
    [
        "https://evil.example/",
        "//evil.example/path",
        "http:evil.example",
        "javascript:alert(1)",
        "",
    ],
)
def test_next_must_be_this_site(me: SignedIn, unsafe: str) -> None:
    response = me.client.post(REAUTH, {"password": "pw", "next": unsafe})
    assert response.status_code == 302
    assert response["Location"] == reverse("sessionguard:list", urlconf=test_urls)


def test_reauth_post_needs_csrf(user: Any, clock: Any) -> None:
    me = sign_in(user, enforce_csrf_checks=True)
    clock.advance(61)
    before = auth_at(me)

    assert me.client.post(REAUTH, {"password": "pw"}).status_code == 403
    assert auth_at(me) == before


# -- SESSIONGUARD_REAUTH_FOR_REVOKE ------------------------------------------------


def test_revoke_gated_by_reauth(
    me: SignedIn, user: Any, settings: Any, clock: Any
) -> None:
    settings.SESSIONGUARD_REAUTH_FOR_REVOKE = True
    settings.SESSIONGUARD_REAUTH_MAX_AGE = 300
    phone = sign_in(user, user_agent=IPHONE_SAFARI)
    revoke = reverse("sessionguard:revoke", args=[phone.reference], urlconf=test_urls)
    others = reverse("sessionguard:revoke-others", urlconf=test_urls)

    assert me.client.get(revoke).status_code == 200  # fresh: no question asked
    clock.advance(301)

    for url in (revoke, others):
        response = me.client.post(url)
        assert response.status_code == 302
        assert response["Location"] == f"{REAUTH}?next={url}"
    assert is_live(phone.reference)

    # Confirm, land on the confirmation page (GET), then sign the phone out.
    response = me.client.post(REAUTH, {"password": "pw", "next": revoke}, follow=True)
    assert response.redirect_chain == [(revoke, 302)]
    assert "Sign out Mobile Safari on iOS?" in response.content.decode()
    assert me.client.post(revoke).status_code == 302
    assert not is_live(phone.reference)
