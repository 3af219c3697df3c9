"""django-sessionguard in the Django admin (``admin.site``).

* Sessions: a read-only list and detail page addressed by reference, two
  revoke actions and a per-session revoke page (:mod:`.sessions`,
  :mod:`.revocation`), and the dashboard (:mod:`.dashboard`).
* Session events: the audit trail, with CSV export (:mod:`.events`).
* The user's page: their live sessions and "Revoke all sessions"
  (:mod:`.users`; Django's stock ``UserAdmin`` gets it automatically, any
  other user admin through :class:`SessionGuardUserAdminMixin`).

For another ``AdminSite``, register :class:`SessionAdmin` and
:class:`SessionEventAdmin` on it and call ``install_user_admin(site)``.
"""

from __future__ import annotations

from django.contrib import admin

from django_sessionguard.admin.events import SessionEventAdmin
from django_sessionguard.admin.sessions import SessionAdmin
from django_sessionguard.admin.users import (
    SessionGuardUserAdminMixin,
    SessionInline,
    install_user_admin,
)
from django_sessionguard.models import Session, SessionEvent

__all__ = [
    "SessionAdmin",
    "SessionEventAdmin",
    "SessionGuardUserAdminMixin",
    "SessionInline",
    "install_user_admin",
]

admin.site.register(Session, SessionAdmin)
admin.site.register(SessionEvent, SessionEventAdmin)
install_user_admin(admin.site)
