"""The audit trail in the admin: read-only, filterable, exportable as CSV."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from django_sessionguard.admin.display import user_admin_url
from django_sessionguard.admin.filters import ActorFilter, UserFilter
from django_sessionguard.admin.query import NulSafeChangelistMixin
from django_sessionguard.admin.readonly import ReadOnlyAdminMixin
from django_sessionguard.admin.search import search_q
from django_sessionguard.events import SECURITY_KINDS
from django_sessionguard.privacy import device_or_dash, ip_or_dash, shown_detail

#: Leading characters that make a spreadsheet read a cell as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: Rows read from the database per round trip while exporting.
EXPORT_CHUNK = 2000


def csv_cell(value: Any) -> str:
    """``value`` as CSV text that no spreadsheet runs as a formula.

    A cell starting with ``= + - @`` (or a tab / carriage return) gets a
    leading apostrophe: attacker-controlled text such as a User-Agent
    ``=HYPERLINK(...)`` stays text when the export is opened.
    """
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose ``write`` returns what it was given."""

    def write(self, value: str) -> str:
        return value


EXPORT_HEADER = (
    "time",
    "event",
    "event_label",
    "user_id",
    "user",
    "actor_id",
    "actor",
    "session",
    "ip_address",
    "device",
    "detail",
)


def export_rows(events: Iterable[Any]) -> Iterator[list[str]]:
    yield list(EXPORT_HEADER)
    for event in events:
        yield [
            csv_cell(value)
            for value in (
                event.timestamp.isoformat(),
                event.kind,
                event.get_kind_display(),
                event.user_id,
                event.user.get_username() if event.user_id is not None else "",
                event.actor_id,
                event.actor.get_username() if event.actor_id is not None else "",
                event.session_ref,
                ip_or_dash(event.ip_address),
                device_or_dash(event.device),
                json.dumps(
                    shown_detail(event.kind, event.detail),
                    sort_keys=True,
                    ensure_ascii=False,
                )
                if event.detail
                else "",
            )
        ]


def csv_response(queryset: QuerySet[Any]) -> StreamingHttpResponse:
    """Stream ``queryset`` as a CSV download, a chunk of rows at a time."""
    writer = csv.writer(_Echo())
    events = queryset.select_related("user", "actor").iterator(chunk_size=EXPORT_CHUNK)
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in export_rows(events)),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = (
        f'attachment; filename="session-events-{stamp}.csv"'
    )
    return response


@admin.action(description=_("Export selected events as CSV"), permissions=["view"])
def export_csv(
    modeladmin: SessionEventAdmin, request: HttpRequest, queryset: QuerySet[Any]
) -> StreamingHttpResponse:
    return csv_response(queryset)


#: What an event's page shows, all read-only.
DETAIL_FIELDS = (
    "timestamp",
    "kind",
    "user_link",
    "actor_link",
    "session_ref",
    "ip_column",
    "device_column",
    "detail_column",
)


class QueryOnlyChangeList(ChangeList):
    """The changelist's filtered, searched, ordered queryset; no page is fetched."""

    def get_results(self, request: HttpRequest) -> None:
        self.result_count = 0
        self.result_list = []


class SessionEventAdmin(
    NulSafeChangelistMixin,
    ReadOnlyAdminMixin,
    admin.ModelAdmin,  # type: ignore[type-arg]
):
    list_display = [
        "timestamp",
        "kind_column",
        "user_column",
        "actor_column",
        "session_column",
        "ip_column",
        "device_column",
    ]
    list_filter = [
        "kind",
        ActorFilter,
        UserFilter,
        ("timestamp", admin.DateFieldListFilter),
    ]
    search_fields = ["session_ref"]
    search_help_text = _(
        "A username or e-mail address (of the user or the actor), an IP address "
        "or prefix, or a session reference."
    )
    date_hierarchy = "timestamp"
    list_select_related = ["user", "actor"]
    list_per_page = 100
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    sortable_by = ["timestamp"]
    actions = [export_csv]
    fields = DETAIL_FIELDS
    readonly_fields = DETAIL_FIELDS

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        query = search_q(
            search_term,
            reference_field="session_ref",
            ip_field="ip_address",
            user_fields=("user", "actor"),
            using=queryset.db,
        )
        if query is None:
            return queryset, False
        return queryset.filter(query), False

    # -- export ------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="{}_{}_export".format(*info),
            ),
            *super().get_urls(),
        ]

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        if getattr(request, "_sessionguard_export", False):
            return QueryOnlyChangeList
        return super().get_changelist(request, **kwargs)

    def export_view(self, request: HttpRequest) -> HttpResponseBase:
        """Every event the changelist shows for the same query string, as CSV."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        request._sessionguard_export = True  # type: ignore[attr-defined]
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest(
                gettext("These filters are not valid."), content_type="text/plain"
            )
        return csv_response(changelist.queryset)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        opts = self.opts
        context = {
            "sessionguard_export_url": reverse(
                f"admin:{opts.app_label}_{opts.model_name}_export",
                current_app=self.admin_site.name,
            ),
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    # -- columns -----------------------------------------------------------

    @admin.display(description=_("event"), ordering="kind")
    def kind_column(self, obj: Any) -> str:
        css = "sg-kind sg-kind--security" if obj.kind in SECURITY_KINDS else "sg-kind"
        return format_html('<span class="{}">{}</span>', css, obj.get_kind_display())

    def _filter_link(self, param: str, user: Any) -> str:
        return format_html(
            '<a href="?{}" title="{}">{}</a>',
            urlencode({param: user.pk}),
            gettext("Show only this user's events"),
            user.get_username(),
        )

    @admin.display(description=_("user"))
    def user_column(self, obj: Any) -> str | None:
        if obj.user_id is None:
            return None
        return self._filter_link("user", obj.user)

    @admin.display(description=_("actor"))
    def actor_column(self, obj: Any) -> str | None:
        if obj.actor_id is None:
            return None
        return self._filter_link("actor", obj.actor)

    @admin.display(description=_("session"))
    def session_column(self, obj: Any) -> str | None:
        if not obj.session_ref:
            return None
        return format_html(
            '<a href="?{}" class="sg-ref" title="{}">{}</a>',
            urlencode({"q": obj.session_ref}),
            gettext("Show only this session's events"),
            obj.session_ref[:12],
        )

    def _user_link(self, user: Any) -> str | None:
        if user is None:
            return None
        url = user_admin_url(self.admin_site, user.pk)
        if url is None:
            return user.get_username()  # type: ignore[no-any-return]
        return format_html('<a href="{}">{}</a>', url, user.get_username())

    @admin.display(description=_("user"))
    def user_link(self, obj: Any) -> str | None:
        return self._user_link(obj.user)

    @admin.display(description=_("actor"))
    def actor_link(self, obj: Any) -> str | None:
        return self._user_link(obj.actor)

    @admin.display(description=_("IP address"))
    def ip_column(self, obj: Any) -> str | None:
        return ip_or_dash(obj.ip_address)

    @admin.display(description=_("device"))
    def device_column(self, obj: Any) -> str | None:
        return device_or_dash(obj.device) or None

    @admin.display(description=_("detail"))
    def detail_column(self, obj: Any) -> str | None:
        if not obj.detail:
            return None
        detail = shown_detail(obj.kind, obj.detail)
        return format_html(
            "<pre>{}</pre>",
            json.dumps(detail, indent=2, sort_keys=True, ensure_ascii=False),
        )
