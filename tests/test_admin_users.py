"""The user's admin page: their live sessions and "Revoke all sessions"."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from django_sessionguard.admin import (
    SessionGuardUserAdminMixin,
    SessionInline,
    install_user_admin,
)
from django_sessionguard.models import Session
from tests.test_admin_helpers import (
    REVOKER,
    make_superuser,
    make_user,
    revoke_user_url,
    staff_client,
    user_change_url,
)
from tests.user_sessions import IPHONE_SAFARI, WINDOWS_CHROME, start_session

pytestmark = pytest.mark.django_db

USER_PERMS = ("view_user", "change_user")


@pytest.fixture
def alice() -> Any:
    user = make_user("alice")
    start_session(user, user_agent=WINDOWS_CHROME, ip="203.0.113.5")
    start_session(user, user_agent=IPHONE_SAFARI, ip="203.0.113.6")
    _cookie, expired = start_session(user, user_agent=WINDOWS_CHROME, ip="192.0.2.99")
    Session.objects.filter(reference=expired).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    return user


def session_links(html: str) -> list[str]:
    return re.findall(r'href="/admin/django_sessionguard/session/(\w+)/change/"', html)


def test_the_user_page_lists_live_sessions(alice: Any) -> None:
    client = staff_client(make_superuser())
    html = client.get(user_change_url(alice)).content.decode()
    assert "Live sessions" in html
    live = set(
        Session.objects.filter(user=alice, expire_date__gt=timezone.now()).values_list(
            "reference", flat=True
        )
    )
    assert set(session_links(html)) == live
    assert len(live) == 2
    for text in ("Chrome 124.0.0 on Windows 10", "203.0.113.6", "192.0.2.99"):
        assert (text in html) is (text != "192.0.2.99"), text
    assert f'href="{revoke_user_url(alice)}"' in html
    assert "Revoke all sessions" in html


def test_the_button_needs_the_revoke_permission(alice: Any) -> None:
    viewer = staff_client(
        make_user("viewer", staff=True, perms=(*USER_PERMS, "view_session"))
    )
    html = viewer.get(user_change_url(alice)).content.decode()
    assert len(session_links(html)) == 2
    assert "Revoke all sessions" not in html
    revoker = staff_client(
        make_user("revoker", staff=True, perms=(*USER_PERMS, *REVOKER))
    )
    assert "Revoke all sessions" in revoker.get(user_change_url(alice)).content.decode()


def test_no_sessions_without_the_session_view_permission(alice: Any) -> None:
    hr = staff_client(make_user("hr", staff=True, perms=USER_PERMS))
    html = hr.get(user_change_url(alice)).content.decode()
    assert "Live sessions" not in html
    assert session_links(html) == []


def test_a_user_with_no_live_session(db: Any) -> None:
    nobody = make_user("nobody")
    html = staff_client(make_superuser()).get(user_change_url(nobody)).content.decode()
    assert "No live sessions" in html
    assert "Revoke all sessions" not in html


def test_saving_the_user_still_works(alice: Any) -> None:
    """The inline adds a (formless) formset to the user form; saving is unaffected."""
    client = staff_client(make_superuser())
    page = client.get(user_change_url(alice))
    form = page.context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name not in ("password", "user_permissions", "groups")
    }
    data.update(
        {
            "first_name": "Alice",
            "date_joined_0": alice.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": alice.date_joined.strftime("%H:%M:%S"),
            "sessionguard_sessions-TOTAL_FORMS": "0",
            "sessionguard_sessions-INITIAL_FORMS": "0",
            "sessionguard_sessions-MIN_NUM_FORMS": "0",
            "sessionguard_sessions-MAX_NUM_FORMS": "0",
        }
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)
    response = client.post(user_change_url(alice), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    alice.refresh_from_db()
    assert alice.first_name == "Alice"
    assert Session.objects.filter(user=alice).count() == 3  # untouched


def test_not_on_the_add_page(db: Any) -> None:
    client = staff_client(make_superuser())
    html = client.get(reverse("admin:auth_user_add")).content.decode()
    assert "Live sessions" not in html


# -- how the inline reaches the user admin ------------------------------------------


def test_the_stock_user_admin_was_extended() -> None:
    model_admin = admin.site.get_model_admin(get_user_model())
    assert isinstance(model_admin, auth_admin.UserAdmin)
    assert isinstance(model_admin, SessionGuardUserAdminMixin)
    request = RequestFactory().get("/")
    assert model_admin.get_inlines(request, None).count(SessionInline) == 1


def test_install_extends_only_the_stock_user_admin() -> None:
    stock = admin.AdminSite(name="stock")
    stock.register(get_user_model(), auth_admin.UserAdmin)
    assert install_user_admin(stock) is True
    extended = type(stock.get_model_admin(get_user_model()))
    assert issubclass(extended, SessionGuardUserAdminMixin)
    assert issubclass(extended, auth_admin.UserAdmin)
    assert install_user_admin(stock) is False  # already done: left alone

    class ProjectUserAdmin(auth_admin.UserAdmin):
        list_per_page = 7

    custom = admin.AdminSite(name="custom")
    custom.register(get_user_model(), ProjectUserAdmin)
    assert install_user_admin(custom) is False
    assert type(custom.get_model_admin(get_user_model())) is ProjectUserAdmin

    assert install_user_admin(admin.AdminSite(name="empty")) is False


def test_the_mixin_keeps_the_project_inlines() -> None:
    class Other(admin.TabularInline):  # type: ignore[type-arg]
        model = get_user_model().groups.through

    class ProjectUserAdmin(SessionGuardUserAdminMixin, auth_admin.UserAdmin):
        inlines = [Other]

    model_admin = ProjectUserAdmin(get_user_model(), admin.AdminSite(name="mixin"))
    request = RequestFactory().get("/")
    assert model_admin.get_inlines(request, None) == [Other, SessionInline]
