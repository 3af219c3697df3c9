"""The user's admin page: their live sessions, and "Revoke all sessions".

:class:`SessionInline` lists a user's live sessions read-only. It is built on
an inline formset with no forms at all: a regular inline form would carry each
row's primary key (the key hash) in a hidden input, and nothing here is
editable anyway. The "Revoke all sessions" button links to a confirmation
page (a POST with CSRF protection) in the sessions admin.

How it reaches the user admin (documented in ``docs/admin.md``):

* Django's stock ``UserAdmin`` registered on ``admin.site`` is swapped, at
  start-up, for a subclass that adds the inline (:func:`install_user_admin`).
  Nothing else about it changes.
* Any other user admin is left alone; add :class:`SessionGuardUserAdminMixin`
  to its bases to get the same inline.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from django_sessionguard.admin.readonly import ReadOnlyAdminMixin
from django_sessionguard.conf import conf
from django_sessionguard.locations import locate, location_enabled
from django_sessionguard.models import Session
from django_sessionguard.privacy import NOT_RECORDED
from django_sessionguard.services import live_sessions

#: Sessions listed on the user's page; the rest are counted and linked to.
LISTED = 20


class SessionListFormSet(BaseInlineFormSet):  # type: ignore[type-arg]
    """An inline formset without forms, carrying the user's live sessions."""

    @cached_property
    def _fetched(self) -> list[Session]:
        if self.instance is None or self.instance.pk is None:
            return []
        # One row more than shown says whether there are more, without a COUNT.
        return list(live_sessions(self.instance).defer("session_data")[: LISTED + 1])

    @property
    def live_sessions(self) -> list[Session]:
        return self._fetched[:LISTED]

    @property
    def more(self) -> bool:
        """Whether the user has more live sessions than are listed."""
        return len(self._fetched) > LISTED

    #: What the table shows for a value the site does not record.
    not_recorded = NOT_RECORDED

    @property
    def tracks_ip(self) -> bool:
        return conf.TRACK_IP

    @property
    def tracks_user_agent(self) -> bool:
        return conf.TRACK_USER_AGENT

    @cached_property
    def show_location(self) -> bool:
        return location_enabled()

    @cached_property
    def rows(self) -> list[tuple[Session, str | None]]:
        """Each listed session with its location (when a locator is configured)."""
        if not self.show_location or not conf.TRACK_IP:
            return [(session, None) for session in self.live_sessions]
        return [(session, locate(session.ip_address)) for session in self.live_sessions]


class SessionInline(ReadOnlyAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = Session
    fk_name = "user"
    formset = SessionListFormSet
    template = "admin/django_sessionguard/edit_inline/sessions.html"
    verbose_name = _("session")
    verbose_name_plural = _("live sessions")
    extra = 0
    max_num = 0
    can_delete = False
    exclude = ["key_hash", "session_data"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[()]:
        return ()  # forms of no fields: nothing about a session is a form input

    def get_queryset(self, request: HttpRequest) -> Any:
        # The formset holds no forms: rows come from SessionListFormSet.
        return super().get_queryset(request).none()

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is not None and super().has_view_permission(request, obj)


class SessionGuardUserAdminMixin:
    """Adds the user's live sessions and a "Revoke all sessions" button.

    Put it first in your user admin's bases::

        @admin.register(User)
        class UserAdmin(SessionGuardUserAdminMixin, auth_admin.UserAdmin): ...
    """

    def get_inlines(self, request: HttpRequest, obj: Any) -> list[Any]:
        inlines = list(super().get_inlines(request, obj))  # type: ignore[misc]
        if SessionInline not in inlines:
            inlines.append(SessionInline)
        return inlines


def install_user_admin(site: admin.AdminSite | None = None) -> bool:
    """Add the sessions inline to Django's stock ``UserAdmin`` on ``site``.

    Only when the user model is registered with exactly
    ``django.contrib.auth.admin.UserAdmin``: a project's own user admin is
    never replaced (it can use :class:`SessionGuardUserAdminMixin`). Returns
    whether the admin was extended.
    """
    from django.contrib.auth import admin as auth_admin  # registers UserAdmin

    site = site or admin.site
    user_model = get_user_model()
    if not site.is_registered(user_model):
        return False
    current = site.get_model_admin(user_model)
    if type(current) is not auth_admin.UserAdmin:
        return False
    extended = type(
        "UserAdmin",
        (SessionGuardUserAdminMixin, auth_admin.UserAdmin),
        {"__module__": __name__, "__doc__": auth_admin.UserAdmin.__doc__},
    )
    site.unregister(user_model)
    site.register(user_model, extended)
    return True
