"""Helpers shared by the ``test_admin_*`` modules (no tests of its own).

Staff members with exactly the permissions a test names, signed in through
the configured session engine like any browser, and the admin URLs.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from tests.user_sessions import WINDOWS_CHROME, sign_in

SESSIONS = reverse("admin:django_sessionguard_session_changelist")
EVENTS = reverse("admin:django_sessionguard_sessionevent_changelist")
EXPORT = reverse("admin:django_sessionguard_sessionevent_export")
DASHBOARD = reverse("admin:django_sessionguard_session_dashboard")
APP_INDEX = reverse("admin:app_list", args=["django_sessionguard"])

#: Staff permissions by role.
VIEWER = ("view_session", "view_sessionevent")
REVOKER = ("view_session", "view_sessionevent", "revoke_session")

#: The User-Agent and address staff browsers use in these tests.
STAFF_IP = "192.0.2.10"


def change_url(reference: str) -> str:
    return reverse("admin:django_sessionguard_session_change", args=[reference])


def revoke_url(reference: str) -> str:
    return reverse("admin:django_sessionguard_session_revoke", args=[reference])


def revoke_user_url(user: Any) -> str:
    return reverse("admin:django_sessionguard_session_revoke_user", args=[user.pk])


def user_change_url(user: Any) -> str:
    return reverse("admin:auth_user_change", args=[user.pk])


def make_user(
    username: str, *, staff: bool = False, perms: tuple[str, ...] = ()
) -> Any:
    """A user (``is_staff`` when asked) holding exactly ``perms`` (codenames)."""
    user = get_user_model().objects.create_user(
        username, email=f"{username}@example.com", password="pw", is_staff=staff
    )
    if perms:
        user.user_permissions.set(Permission.objects.filter(codename__in=perms))
    return user


def make_superuser(username: str = "root") -> Any:
    return get_user_model().objects.create_superuser(
        username, email=f"{username}@example.com", password="pw"
    )


def staff_client(user: Any) -> Client:
    """A browser signed in as ``user`` through the configured session engine."""
    return sign_in(user, user_agent=WINDOWS_CHROME, ip=STAFF_IP).client


def action_post(action: str, references: list[str], **extra: str) -> dict[str, Any]:
    """The changelist POST of ``action`` on ``references`` (as the page sends it)."""
    return {"action": action, "_selected_action": references, "index": "0", **extra}


def confirm_post(
    action: str, references: list[str], reason: str = "", **extra: str
) -> dict[str, Any]:
    """The confirmation page's POST of ``action`` (as the page sends it)."""
    return {
        "action": action,
        "_selected_action": references,
        "select_across": "0",
        "post": "yes",
        "reason": reason,
        **extra,
    }
