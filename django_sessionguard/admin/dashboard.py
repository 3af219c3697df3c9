"""The sessions dashboard: who is signed in now, on what, and what went wrong.

Figures are aggregated by the database (``GROUP BY``, ``COUNT``,
``TruncDate``) and kept in the default cache for
``SessionAdmin.dashboard_cache_timeout`` seconds (60 by default), so a busy
admin costs the database one round of aggregations a minute. The recent
security events are read live: they are one indexed query, and a reviewer
wants them current.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Window
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from django_sessionguard.conf import conf
from django_sessionguard.devices import DeviceType
from django_sessionguard.events import SECURITY_KINDS, EventKind
from django_sessionguard.models import Session, SessionEvent
from django_sessionguard.privacy import NOT_RECORDED

if TYPE_CHECKING:
    from django_sessionguard.admin.sessions import SessionAdmin

#: Days in the sign-ins chart, today included.
DAYS = 30
#: Browsers shown by name; the rest are summed as "Other".
TOP_BROWSERS = 8
#: Users listed by number of live sessions.
TOP_USERS = 10
#: Security events listed.
RECENT_EVENTS = 15
TEMPLATE = "admin/django_sessionguard/dashboard.html"
CACHE_VERSION = 1


# -- the figures -------------------------------------------------------------------


def cache_key() -> str:
    return (
        f"sessionguard:admin:dashboard:v{CACHE_VERSION}:"
        f"{timezone.get_current_timezone_name()}"
    )


def compute_stats(now: dt.datetime | None = None) -> dict[str, Any]:
    """Every aggregated figure of the dashboard: four queries, none per row.

    Active sessions are the live ones (``SessionQuerySet.live``: past neither
    their expiry date nor a timeout; a timeout configured as a per-user
    callable is not applied to these all-users figures).
    """
    now = now or timezone.now()
    active = Session.objects.live(now).order_by()

    # One pass over the live sessions: totals, device types and browsers.
    devices: Counter[str] = Counter()
    browsers: Counter[str] = Counter()
    total = signed_in = 0
    for device_type, browser, count, with_user in active.values_list(
        "device_type", "browser"
    ).annotate(n=Count("*"), signed_in=Count("user")):
        devices[device_type] += count
        browsers[browser] += count
        total += count
        signed_in += with_user

    # One GROUP BY user: the users with most sessions, and (counting the
    # groups with a window) how many users are signed in at all.
    top = list(
        active.filter(user__isnull=False)
        .values_list("user")
        .annotate(n=Count("*"), users=Window(Count("*")))
        .order_by("-n", "user")[:TOP_USERS]
    )
    active_users = top[0][2] if top else 0
    from django.contrib.auth import get_user_model

    names = {
        user.pk: user.get_username()
        for user in get_user_model()._default_manager.filter(
            pk__in=[user_id for user_id, _n, _users in top]
        )
    }

    tz = timezone.get_current_timezone()
    today = timezone.localtime(now, tz).date()
    first_day = today - dt.timedelta(days=DAYS - 1)
    since = timezone.make_aware(dt.datetime.combine(first_day, dt.time.min), tz)
    per_day = dict(
        SessionEvent.objects.filter(kind=EventKind.LOGIN, timestamp__gte=since)
        .annotate(day=TruncDate("timestamp", tzinfo=tz))
        .values_list("day")
        .annotate(n=Count("*"))
        .order_by()
    )
    return {
        "computed_at": now,
        "active_sessions": total,
        "signed_in_sessions": signed_in,
        "anonymous_sessions": total - signed_in,
        "active_users": active_users,
        "devices": sorted(devices.items(), key=lambda item: (-item[1], item[0])),
        "browsers": sorted(browsers.items(), key=lambda item: (-item[1], item[0])),
        "top_users": [
            (user_id, names.get(user_id, ""), n) for user_id, n, _users in top
        ],
        "signins": [
            (day, per_day.get(day, 0))
            for day in (first_day + dt.timedelta(days=i) for i in range(DAYS))
        ],
    }


def get_stats(timeout: int) -> dict[str, Any]:
    """The figures from the default cache, computed when missing or stale."""
    key = cache_key()
    stats: dict[str, Any] | None = cache.get(key)
    if stats is None:
        stats = compute_stats()
        cache.set(key, stats, timeout)
    return stats


def recent_security_events(limit: int = RECENT_EVENTS) -> list[SessionEvent]:
    return list(
        SessionEvent.objects.filter(kind__in=SECURITY_KINDS)
        .select_related("user", "actor")
        .order_by("-timestamp", "-id")[:limit]
    )


# -- the pictures ------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    plot_left: float
    plot_right: float
    baseline: float
    y_label_x: float
    x_label_y: float
    bars: list[Bar]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    total: int
    description: str


def nice_ceiling(value: int) -> int:
    """The top of the chart's scale: a round number at or above ``value``.

    1, 2, 3, 4, 5, 6 or 8 times a power of ten, so the bars fill most of the
    height and the middle gridline usually falls on a whole number.
    """
    if value <= 1:
        return 1
    power = int(10 ** math.floor(math.log10(value)))
    for step in (1, 2, 3, 4, 5, 6, 8, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def short_day(day: dt.date) -> str:
    return formats.date_format(day, "MONTH_DAY_FORMAT")


def bar_chart(
    series: list[tuple[dt.date, int]], *, width: int = 760, height: int = 240
) -> BarChart:
    """Geometry of a bar chart of ``series`` (one bar per day), for inline SVG."""
    left, right, top, bottom = 44.0, 8.0, 12.0, 28.0
    plot_width = width - left - right
    plot_height = height - top - bottom
    baseline = top + plot_height
    peak = nice_ceiling(max((count for _day, count in series), default=0))
    slot = plot_width / max(len(series), 1)
    bar_width = max(slot * 0.72, 1.0)
    bars = []
    for index, (day, count) in enumerate(series):
        bar_height = plot_height * count / peak
        bars.append(
            Bar(
                x=round(left + index * slot + (slot - bar_width) / 2, 2),
                y=round(baseline - bar_height, 2),
                width=round(bar_width, 2),
                height=round(bar_height, 2),
                label=ngettext(
                    "%(day)s: %(count)d sign-in", "%(day)s: %(count)d sign-ins", count
                )
                % {"day": short_day(day), "count": count},
            )
        )
    y_ticks = [
        Tick(round(baseline - plot_height * fraction, 2), f"{round(peak * fraction)}")
        for fraction in (0, 0.5, 1)
        if peak * fraction == int(peak * fraction)
    ]
    x_ticks = [
        Tick(round(left + index * slot + slot / 2, 2), short_day(day))
        for index, (day, _count) in enumerate(series)
        if (len(series) - 1 - index) % 7 == 0
    ]
    total = sum(count for _day, count in series)
    description = ngettext(
        "%(total)d sign-in in the last %(days)d days.",
        "%(total)d sign-ins in the last %(days)d days.",
        total,
    ) % {"total": total, "days": len(series)}
    return BarChart(
        width=width,
        height=height,
        plot_left=left,
        plot_right=width - right,
        baseline=baseline,
        y_label_x=left - 6,
        x_label_y=height - 8,
        bars=bars,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        total=total,
        description=description,
    )


@dataclass(frozen=True)
class Share:
    label: str
    count: int
    percent: float
    url: str | None = None


def shares(items: list[tuple[str, int, str | None]], total: int) -> list[Share]:
    return [
        Share(label, count, round(100 * count / total, 1) if total else 0.0, url)
        for label, count, url in items
    ]


def device_shares(stats: dict[str, Any], changelist_url: str) -> list[Share]:
    labels = dict(DeviceType.choices)
    items: list[tuple[str, int, str | None]] = []
    for device_type, count in stats["devices"]:
        query = urlencode({"status": "active", "device_type__exact": device_type})
        label = str(labels.get(device_type, device_type))
        items.append((label, count, f"{changelist_url}?{query}"))
    return shares(items, stats["active_sessions"])


def browser_shares(stats: dict[str, Any], changelist_url: str) -> list[Share]:
    named = [(name, count) for name, count in stats["browsers"] if name]
    shown = named[:TOP_BROWSERS]
    items: list[tuple[str, int, str | None]] = [
        (
            name,
            count,
            f"{changelist_url}?{urlencode({'status': 'active', 'browser': name})}",
        )
        for name, count in shown
    ]
    rest = stats["active_sessions"] - sum(count for _name, count in shown)
    if rest:
        items.append((gettext("Other or unknown"), rest, None))
    return shares(items, stats["active_sessions"])


# -- the page ----------------------------------------------------------------------


def dashboard_view(model_admin: SessionAdmin, request: HttpRequest) -> HttpResponse:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    from django_sessionguard.admin.sessions import events_changelist_url

    site = model_admin.admin_site
    stats = get_stats(model_admin.dashboard_cache_timeout)
    changelist_url = model_admin.url("changelist")
    events_url = events_changelist_url(site, request)
    top_users = [
        (
            username,
            count,
            f"{changelist_url}?{urlencode({'status': 'active', 'user': user_id})}",
        )
        for user_id, username, count in stats["top_users"]
    ]
    return TemplateResponse(
        request,
        TEMPLATE,
        {
            **site.each_context(request),
            "title": _("Sessions dashboard"),
            "opts": model_admin.opts,
            "app_label": model_admin.opts.app_label,
            "stats": stats,
            "chart": bar_chart(stats["signins"]),
            "devices": device_shares(stats, changelist_url),
            "browsers": browser_shares(stats, changelist_url),
            "top_users": top_users,
            "security_events": recent_security_events() if events_url else None,
            "events_url": events_url,
            "security_events_url": events_url
            and f"{events_url}?{urlencode({'kind__in': ','.join(SECURITY_KINDS)})}",
            "changelist_url": changelist_url,
            "active_url": f"{changelist_url}?{urlencode({'status': 'active'})}",
            "cache_timeout": model_admin.dashboard_cache_timeout,
            "tracks_ip": conf.TRACK_IP,
            "tracks_user_agent": conf.TRACK_USER_AGENT,
            "not_recorded": NOT_RECORDED,
        },
    )
