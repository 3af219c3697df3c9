"""``{% load sessionguard_idle %}{% sessionguard_idle_warning %}``: the idle warning.

Put it once in the site's base template, inside ``<body>``. For a signed-in
session with an idle or absolute timeout it renders a hidden, accessible
dialog plus ``idle-warning.js`` and ``idle-warning.css``; for a visitor who is
signed out it renders a small marker that tells the site's other open tabs so.
Everything the script needs travels in ``data-`` attributes (no inline script,
so a ``script-src 'self'`` Content-Security-Policy is enough).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured
from django.middleware.csrf import get_token
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import get_language, ngettext

from django_sessionguard.idle import activity_pending, status_for

register = template.Library()


def remaining_text(seconds: int) -> str:
    """ "60 seconds", "5 minutes": how the dialog words the time left.

    The script words it the same way (``Intl.NumberFormat`` units) as it counts down.
    """
    if seconds > 90:
        minutes = -(-seconds // 60)
        return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {
            "count": minutes
        }
    return ngettext("%(count)d second", "%(count)d seconds", seconds) % {
        "count": seconds
    }


def _epoch(value: float | None) -> str:
    # Pre-formatted: a float in a template would be localised ("1,5").
    return "" if value is None else f"{value:.3f}"


@register.inclusion_tag("django_sessionguard/idle_warning.html", takes_context=True)
def sessionguard_idle_warning(
    context: template.Context, logout_url: str | None = None
) -> dict[str, Any]:
    """Render the warning for this request's session.

    ``logout_url``: where "Sign out now" posts (a URL or URL name); default
    ``sessionguard:logout``.
    """
    request = context.get("request")
    if request is None:
        raise ImproperlyConfigured(
            "{% sessionguard_idle_warning %} needs the request in the template "
            "context: add 'django.template.context_processors.request' to the "
            "template engine's context_processors."
        )
    status = status_for(request, pending_activity=activity_pending(request))
    status_url = reverse("sessionguard:idle-status")
    if not status["authenticated"]:
        return {"mode": "signed_out", "status_url": status_url}
    if status["idle_deadline"] is None and status["absolute_deadline"] is None:
        return {"mode": None}
    next_url = request.get_full_path()
    warning_before = status["warning_before"]
    return {
        "mode": "signed_in",
        "status_url": status_url,
        "extend_url": reverse("sessionguard:idle-extend"),
        "logout_url": resolve_url(logout_url or "sessionguard:logout"),
        "login_url": redirect_to_login(next_url)["Location"],
        "next": next_url,
        "idle_deadline": _epoch(status["idle_deadline"]),
        "absolute_deadline": _epoch(status["absolute_deadline"]),
        "server_time": _epoch(status["server_time"]),
        "warning_before": warning_before,
        "language": get_language() or "en",
        "time_html": format_html(
            '<span data-sessionguard-idle-time="">{}</span>',
            remaining_text(warning_before),
        ),
        "csrf_token": get_token(request),
    }
