"""The sessions admin: browse, filter and search sessions; revoke with permission.

Sessions are addressed by their ``reference`` everywhere: in change-page
URLs, in the rows' links and in the action checkboxes. The primary key is the
hash of the cookie value, so it never reaches a page, a URL or a form (popups
and ``_to_field``, which would print it, are switched off). Nothing is ever
edited here: sessions end through the revocation services, recorded in the
audit trail with the staff member as actor.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from django_sessionguard.admin import dashboard, revocation
from django_sessionguard.admin.display import (
    device_html,
    ending_label,
    status_html,
    time_html,
    user_admin_url,
)
from django_sessionguard.admin.filters import (
    AuthenticatedFilter,
    BrowserFilter,
    OSFilter,
    StatusFilter,
    UserFilter,
)
from django_sessionguard.admin.query import NulSafeChangelistMixin
from django_sessionguard.admin.readonly import ReadOnlyAdminMixin
from django_sessionguard.admin.search import search_q
from django_sessionguard.conf import conf
from django_sessionguard.keys import is_reference
from django_sessionguard.locations import locate, location_enabled
from django_sessionguard.models import Session, SessionEvent
from django_sessionguard.privacy import device_or_dash, ip_or_dash

#: Columns never loaded for a page: the encoded session data.
HIDDEN_COLUMNS = ("session_data",)

SEARCH_HELP = _(
    "A username or e-mail address, an IP address, an IP prefix "
    "(203.0.113., 203.0.113.0/24, 2001:db8:) or a session reference."
)


class ReferenceChangeList(ChangeList):
    """A change list whose rows link to ``<reference>/change/``.

    Popup mode and ``_to_field`` would print the primary key (the key hash)
    into the page for the opener window; this list never runs in either.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.is_popup = False
        self.to_field = None

    def url_for_result(self, result: Any) -> str:
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
            args=(quote(result.reference),),
            current_app=self.model_admin.admin_site.name,
        )


class SessionAdmin(
    NulSafeChangelistMixin,
    ReadOnlyAdminMixin,
    admin.ModelAdmin,  # type: ignore[type-arg]
):
    list_display = [
        "user_column",
        "device_column",
        "ip_column",
        "signed_in_column",
        "last_active_column",
        "status_column",
    ]
    list_filter = [
        StatusFilter,
        AuthenticatedFilter,
        "device_type",
        BrowserFilter,
        OSFilter,
        ("authenticated_at", admin.DateFieldListFilter),
        ("last_activity", admin.DateFieldListFilter),
        UserFilter,
    ]
    # The search box is shown when search_fields is set; get_search_results()
    # decides what a term means (see search.py).
    search_fields = ["reference"]
    search_help_text = SEARCH_HELP
    date_hierarchy = "last_activity"
    ordering = ["-last_activity"]
    sortable_by = ["signed_in_column", "last_active_column"]
    list_select_related = ["user"]
    list_per_page = 50
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    actions = [revocation.revoke_selected, revocation.revoke_users]
    exclude = ["key_hash", "session_data"]
    readonly_fields = [
        "reference",
        "user_link",
        "status_column",
        "device_type_column",
        "browser_column",
        "os_column",
        "user_agent_column",
        "ip_column",
        "location_column",
        "created_at",
        "authenticated_at",
        "last_activity",
        "expire_date",
    ]

    #: Seconds the dashboard's aggregations are kept in the default cache.
    dashboard_cache_timeout = 60

    # -- permissions -------------------------------------------------------

    def has_revoke_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """``django_sessionguard.revoke_session`` (actions, buttons, revoke URLs)."""
        opts = self.opts
        return bool(
            self.has_view_permission(request, obj)
            and request.user.has_perm(f"{opts.app_label}.revoke_session")
        )

    # -- queries -----------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        """Without the session data; each row knows whether it is live
        (``sessionguard_ending``, see ``SessionQuerySet.with_ending``)."""
        queryset = super().get_queryset(request).defer(*HIDDEN_COLUMNS)
        return queryset.with_ending()  # type: ignore[attr-defined,no-any-return]

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Any:
        """The session named by its reference (the only identifier URLs carry)."""
        if not is_reference(object_id):
            return None
        try:
            return (
                self.get_queryset(request)
                .select_related("user")
                .get(reference=object_id)
            )
        except (Session.DoesNotExist, ValidationError, ValueError):
            return None

    def get_ordering(self, request: HttpRequest) -> list[Any]:
        """Newest activity first; the expired list shows the latest endings first.

        (Expired rows are the oldest by activity: reaching them through the
        last-activity index would walk past every live session first.)
        """
        if request.GET.get("status") == "expired":
            return ["-expire_date"]
        return list(self.ordering or ())

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        query = search_q(
            search_term,
            reference_field="reference",
            ip_field="ip_address",
            user_fields=("user",),
            using=queryset.db,
        )
        if query is None:
            return queryset, False
        return queryset.filter(query), False

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return ReferenceChangeList

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        """No device filters when User-Agents are not tracked (they list old values)."""
        filters = list(super().get_list_filter(request))
        if conf.TRACK_USER_AGENT:
            return filters
        return [f for f in filters if f not in ("device_type", BrowserFilter, OSFilter)]

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        columns: list[Any] = list(super().get_list_display(request))
        if location_enabled():
            columns.insert(columns.index("ip_column") + 1, "location_column")
        return columns

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        network = (
            ["ip_column", "location_column"] if location_enabled() else ["ip_column"]
        )
        return [
            (None, {"fields": ["reference", "user_link", "status_column"]}),
            (
                _("Device"),
                {
                    "fields": [
                        "device_type_column",
                        "browser_column",
                        "os_column",
                        "user_agent_column",
                    ]
                },
            ),
            (_("Network"), {"fields": network}),
            (
                _("Times"),
                {
                    "fields": [
                        "created_at",
                        "authenticated_at",
                        "last_activity",
                        "expire_date",
                    ]
                },
            ),
        ]

    # -- actions -----------------------------------------------------------

    def action_checkbox(self, obj: Any) -> SafeString:
        """The row's checkbox, valued with the reference (never the key hash)."""
        label = gettext("Select this session for an action: %(session)s") % {
            "session": session_label(obj)
        }
        checkbox = forms.CheckboxInput(
            {"class": "action-select", "aria-label": label}, lambda value: False
        )
        return checkbox.render(helpers.ACTION_CHECKBOX_NAME, obj.reference)

    def response_action(
        self, request: HttpRequest, queryset: QuerySet[Any], *args: Any, **kwargs: Any
    ) -> HttpResponse | None:
        """Run an action on the sessions whose references were checked.

        Django's action machinery selects rows by primary key; the page sent
        references, which are translated here, on the server, so the key hash
        never travels to the browser.
        """
        references = [
            value
            for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
            if is_reference(value)
        ]
        original = request.POST
        post = original.copy()
        post.setlist(
            helpers.ACTION_CHECKBOX_NAME,
            list(
                Session.objects.filter(reference__in=references).values_list(
                    "pk", flat=True
                )
            )
            if references
            else [],
        )
        request.POST = post  # type: ignore[assignment]
        try:
            return super().response_action(request, queryset, *args, **kwargs)
        finally:
            request.POST = original

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if (
            request.method == "POST"
            and revocation.posts_revocation(request)
            and not self.has_revoke_permission(request)
        ):
            raise PermissionDenied
        context = {
            "sessionguard_dashboard_url": self.dashboard_url()
            if self.has_view_permission(request)
            else None,
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context = {
            "sessionguard_revoke_url": self.url("revoke", object_id)
            if self.has_revoke_permission(request)
            else None,
            "sessionguard_events_url": events_url(self.admin_site, request, object_id),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, context)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        if obj is not None and not is_live(obj):
            # Nothing left to revoke: its next request would end it anyway.
            context["sessionguard_revoke_url"] = None
        return super().render_change_form(request, context, add, change, form_url, obj)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        """A session's history is its audit trail: the events admin, filtered."""
        url = events_url(self.admin_site, request, object_id)
        if url is None:
            raise PermissionDenied
        return HttpResponseRedirect(url)

    # -- extra pages -------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path(
                "dashboard/",
                wrap(self.dashboard_view),
                name="{}_{}_dashboard".format(*info),
            ),
            path(
                "user/<path:user_id>/revoke/",
                wrap(self.revoke_user_view),
                name="{}_{}_revoke_user".format(*info),
            ),
            path(
                "<str:reference>/revoke/",
                wrap(self.revoke_session_view),
                name="{}_{}_revoke".format(*info),
            ),
            *super().get_urls(),
        ]

    def url(self, name: str, *args: Any) -> str:
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}",
            args=args,
            current_app=self.admin_site.name,
        )

    def dashboard_url(self) -> str:
        return self.url("dashboard")

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        return dashboard.dashboard_view(self, request)

    def revoke_session_view(self, request: HttpRequest, reference: str) -> HttpResponse:
        return revocation.revoke_session_view(self, request, reference)

    def revoke_user_view(self, request: HttpRequest, user_id: str) -> HttpResponse:
        return revocation.revoke_user_view(self, request, user_id)

    # -- columns -----------------------------------------------------------

    @admin.display(description=_("user"))
    def user_column(self, obj: Any) -> str:
        if obj.user_id is None:
            return format_html('<span class="sg-muted">{}</span>', _("Anonymous"))
        return obj.user.get_username()  # type: ignore[no-any-return]

    @admin.display(description=_("user"))
    def user_link(self, obj: Any) -> str:
        if obj.user_id is None:
            return format_html('<span class="sg-muted">{}</span>', _("Anonymous"))
        url = user_admin_url(self.admin_site, obj.user_id)
        if url is None:
            return obj.user.get_username()  # type: ignore[no-any-return]
        return format_html('<a href="{}">{}</a>', url, obj.user.get_username())

    @admin.display(description=_("device"))
    def device_column(self, obj: Any) -> str:
        return device_html(obj)

    @admin.display(description=_("device type"))
    def device_type_column(self, obj: Any) -> str:
        return device_or_dash(str(obj.get_device_type_display()), "-")

    @admin.display(description=_("browser"))
    def browser_column(self, obj: Any) -> str:
        text = " ".join(filter(None, [obj.browser, obj.browser_version]))
        return device_or_dash(text, "-")

    @admin.display(description=_("operating system"))
    def os_column(self, obj: Any) -> str:
        return device_or_dash(" ".join(filter(None, [obj.os, obj.os_version])), "-")

    @admin.display(description=_("user agent"))
    def user_agent_column(self, obj: Any) -> str:
        return device_or_dash(obj.user_agent, "-")

    @admin.display(description=_("IP address"))
    def ip_column(self, obj: Any) -> str | None:
        return ip_or_dash(obj.ip_address)

    @admin.display(description=_("location"))
    def location_column(self, obj: Any) -> str:
        # "—" when IPs are not tracked (the locator is then never called).
        return ip_or_dash(locate(obj.ip_address), "-")

    @admin.display(description=_("signed in"), ordering="authenticated_at")
    def signed_in_column(self, obj: Any) -> str | None:
        return time_html(obj.authenticated_at)

    @admin.display(description=_("last active"), ordering="last_activity")
    def last_active_column(self, obj: Any) -> str | None:
        return time_html(obj.last_activity)

    @admin.display(description=_("status"))
    def status_column(self, obj: Any) -> str:
        return status_html(
            is_live(obj), ending_label(getattr(obj, "sessionguard_ending", ""))
        )


def is_live(obj: Any) -> bool:
    """Whether a row of :meth:`SessionAdmin.get_queryset` is live.

    From its ``sessionguard_ending`` annotation; a row loaded without it is
    judged by its expiry date alone.
    """
    ending = getattr(obj, "sessionguard_ending", None)
    return bool(obj.is_active) if ending is None else not ending


def session_label(obj: Any) -> str:
    """ "alice, Chrome 120 on Windows 10" (for labels and confirmation lists)."""
    who = obj.user.get_username() if obj.user_id is not None else gettext("anonymous")
    return f"{who}, {device_or_dash(str(obj.device))}"


def events_changelist_url(site: admin.AdminSite, request: HttpRequest) -> str | None:
    """The events admin's list, if registered and this staff member may see it."""
    if not site.is_registered(SessionEvent):
        return None
    if not site.get_model_admin(SessionEvent).has_view_permission(request):
        return None
    opts = SessionEvent._meta
    return reverse(
        f"admin:{opts.app_label}_{opts.model_name}_changelist", current_app=site.name
    )


def events_url(
    site: admin.AdminSite, request: HttpRequest, reference: str
) -> str | None:
    """The events admin filtered on one session, if this staff member may see it."""
    base = events_changelist_url(site, request)
    if base is None:
        return None
    return f"{base}?{urlencode({'q': reference})}"
