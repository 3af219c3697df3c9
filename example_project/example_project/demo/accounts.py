"""The demo accounts: who they are, their passwords, what staff may do.

The passwords are printed by ``make demo`` and shown on the demo's pages while
``DEBUG`` is on: these accounts exist to be signed in to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str | Promise
    is_staff: bool = False

    @property
    def email(self) -> str:
        return f"{self.username}@example.com"


ALICE = DemoAccount(
    "alice", "alice-demo", _("signed in on four devices: desktop, two phones, a script")
)
BOB = DemoAccount("bob", "bob-demo", _("signed in on a Mac and an iPhone"))
CAROL = DemoAccount(
    "carol",
    "carol-demo",
    _(
        "no devices yet; a 3-minute idle timeout, so the idle warning opens "
        "after a minute without a request"
    ),
)
STAFF = DemoAccount(
    "staff",
    "staff-demo",
    _("staff, not a superuser: may view and revoke sessions in the admin"),
    is_staff=True,
)
ACCOUNTS = (ALICE, BOB, CAROL, STAFF)

#: The staff account's permissions: exactly what the sessions admin needs
#: (revoking takes the explicit ``revoke_session`` permission).
STAFF_PERMISSIONS = (
    ("django_sessionguard", "view_session"),
    ("django_sessionguard", "revoke_session"),
    ("django_sessionguard", "view_sessionevent"),
    ("auth", "view_user"),
)


def ensure_account(account: DemoAccount) -> Any:
    """The account's user, created or reset to the documented password and rights.

    Resetting an existing account's password ends its sessions and records a
    password change, as it would for anyone: the caller clears both afterwards.
    """
    manager = get_user_model()._default_manager
    user = manager.filter(username=account.username).first()
    if user is None:
        user = manager.create_user(
            account.username,
            account.email,
            account.password,
            is_staff=account.is_staff,
        )
    else:
        changed = False
        if not user.check_password(account.password):
            user.set_password(account.password)
            changed = True
        flags = (account.is_staff, False, True)
        if (user.is_staff, user.is_superuser, user.is_active) != flags:
            user.is_staff, user.is_superuser, user.is_active = flags
            changed = True
        if changed:
            user.save()
    if account.is_staff:
        user.user_permissions.set(
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in STAFF_PERMISSIONS
        )
    return user
