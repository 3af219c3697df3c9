"""``SESSIONGUARD_CLEAR_SITE_DATA``: the browser that signs itself out is told
to clear the site's data; nobody else is, and by default nobody is."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.checks import run_checks
from django.test import AsyncClient, Client
from django.urls import reverse

from django_sessionguard.security_headers import add_clear_site_data
from tests.user_sessions import IPHONE_SAFARI, SignedIn, is_live, sign_in

pytestmark = pytest.mark.django_db

LOGOUT = reverse("sessionguard:logout")
DJANGO_LOGOUT = reverse("logout")  # django.contrib.auth.views.LogoutView
ASYNC_LOGOUT = reverse("async-logout")  # await alogout(request)
ALL = '"cache", "cookies", "storage"'


def revoke_url(reference: str) -> str:
    return reverse("sessionguard:revoke", args=[reference])


def api_revoke_url(reference: str) -> str:
    return reverse("sessionguard:api-revoke", args=[reference])


@pytest.fixture
def desktop(user: Any) -> SignedIn:
    return sign_in(user)


@pytest.fixture
def phone(user: Any) -> SignedIn:
    return sign_in(user, user_agent=IPHONE_SAFARI, ip="203.0.113.9")


def async_post(me: SignedIn, path: str) -> Any:
    """POST from ``me``'s browser through the ASGI handler (an async stack)."""

    async def post() -> Any:
        client = AsyncClient()
        client.cookies = me.client.cookies
        user_agent = me.client.defaults.get("HTTP_USER_AGENT", "")
        return await client.post(path, headers={"User-Agent": user_agent})

    return async_to_sync(post)()


def sign_out_this_device(me: SignedIn, how: str) -> Any:
    if how == "logout":
        return me.client.post(LOGOUT)
    if how == "revoke-current":
        return me.client.post(revoke_url(me.reference))
    if how == "django-logout-view":
        return me.client.post(DJANGO_LOGOUT)
    if how == "django-alogout":
        return async_post(me, ASYNC_LOGOUT)
    return me.client.post(api_revoke_url(me.reference))


HOW = [
    "logout",
    "revoke-current",
    "api-revoke-current",
    # Django's own sign-out: LogoutView (sync) and alogout() in an async view.
    "django-logout-view",
    "django-alogout",
]


@pytest.mark.parametrize("how", HOW)
def test_signing_this_device_out_clears_site_data(
    engine: str, settings: Any, desktop: SignedIn, how: str
) -> None:
    settings.SESSIONGUARD_CLEAR_SITE_DATA = True
    response = sign_out_this_device(desktop, how)
    assert response.status_code in (200, 302)
    assert response["Clear-Site-Data"] == ALL
    assert not is_live(desktop.reference)
    assert desktop.username() is None


@pytest.mark.parametrize("how", HOW)
def test_absent_by_default(engine: str, desktop: SignedIn, how: str) -> None:
    response = sign_out_this_device(desktop, how)
    assert not is_live(desktop.reference)
    assert "Clear-Site-Data" not in response


@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
def test_absent_when_revoking_another_device(
    engine: str, settings: Any, desktop: SignedIn, phone: SignedIn, api: bool
) -> None:
    settings.SESSIONGUARD_CLEAR_SITE_DATA = True
    url = api_revoke_url if api else revoke_url
    response = desktop.client.post(url(phone.reference))
    assert response.status_code in (200, 302)
    assert not is_live(phone.reference)
    assert "Clear-Site-Data" not in response
    assert desktop.username() == "alice"


def test_absent_when_signing_the_others_out(
    engine: str, settings: Any, desktop: SignedIn, phone: SignedIn
) -> None:
    settings.SESSIONGUARD_CLEAR_SITE_DATA = True
    for url in (
        reverse("sessionguard:revoke-others"),
        reverse("sessionguard:api-revoke-others"),
    ):
        assert "Clear-Site-Data" not in desktop.client.post(url)
    assert not is_live(phone.reference)


@pytest.mark.parametrize("path", [DJANGO_LOGOUT, ASYNC_LOGOUT])
def test_django_logout_clears_only_its_own_browser(
    engine: str, settings: Any, desktop: SignedIn, phone: SignedIn, path: str
) -> None:
    settings.SESSIONGUARD_CLEAR_SITE_DATA = ["cookies"]
    if path == ASYNC_LOGOUT:
        response = async_post(desktop, path)
    else:
        response = desktop.client.post(path)
    assert response["Clear-Site-Data"] == '"cookies"'
    assert not is_live(desktop.reference)
    # The phone's next request is an ordinary one: nothing to clear there.
    response = phone.client.get("/read/")
    assert response.json()["user"] == "alice"
    assert "Clear-Site-Data" not in response


@pytest.mark.parametrize("path", [DJANGO_LOGOUT, ASYNC_LOGOUT])
def test_django_logout_without_a_signed_in_user_clears_nothing(
    engine: str, settings: Any, path: str
) -> None:
    settings.SESSIONGUARD_CLEAR_SITE_DATA = True
    client = Client()
    client.get("/write/")  # an anonymous session with data
    assert client.cookies[settings.SESSION_COOKIE_NAME].value
    if path == ASYNC_LOGOUT:
        me = SignedIn(client, "", "")
        response = async_post(me, path)
    else:
        response = client.post(path)
    assert response.status_code in (200, 302)
    assert "Clear-Site-Data" not in response


def test_an_explicit_list_of_directives(
    engine: str, settings: Any, desktop: SignedIn
) -> None:
    settings.SESSIONGUARD_CLEAR_SITE_DATA = ["cookies", "storage", "cookies"]
    response = desktop.client.post(LOGOUT)
    assert response["Clear-Site-Data"] == '"cookies", "storage"'


def test_a_get_changes_nothing_and_clears_nothing(
    engine: str, settings: Any, desktop: SignedIn
) -> None:
    settings.SESSIONGUARD_CLEAR_SITE_DATA = True
    response = desktop.client.get(revoke_url(desktop.reference))
    assert response.status_code == 200
    assert "Clear-Site-Data" not in response
    assert is_live(desktop.reference)


def test_the_helper_for_a_projects_own_logout_view(settings: Any) -> None:
    from django.http import HttpResponse

    assert "Clear-Site-Data" not in add_clear_site_data(HttpResponse())
    settings.SESSIONGUARD_CLEAR_SITE_DATA = ("cache",)
    assert add_clear_site_data(HttpResponse())["Clear-Site-Data"] == '"cache"'


@pytest.mark.parametrize(
    "value", ["cookies", [], ["cookies", "passwords"], [None], 1, None]
)
def test_e030_bad_value(settings: Any, value: Any) -> None:
    settings.SESSIONGUARD_CLEAR_SITE_DATA = value
    found = [m for m in run_checks() if m.id == "django_sessionguard.E030"]
    assert len(found) == 1
    assert "SESSIONGUARD_CLEAR_SITE_DATA" in found[0].msg
    assert found[0].hint


@pytest.mark.parametrize(
    "value", [False, True, ["cache"], ("cookies", "storage"), ["*"]]
)
def test_e030_good_value(settings: Any, value: Any) -> None:
    settings.SESSIONGUARD_CLEAR_SITE_DATA = value
    assert "django_sessionguard.E030" not in [m.id for m in run_checks()]
