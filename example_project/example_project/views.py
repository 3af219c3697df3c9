"""The example site's own page: a home page that says what the demo enforces."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from django_sessionguard.lifecycle import idle_timeout_for
from django_sessionguard.limits import max_sessions_for
from example_project.demo.accounts import ACCOUNTS, DemoAccount


def demo_accounts() -> tuple[DemoAccount, ...]:
    """The demo accounts, shown with their passwords only while DEBUG is on."""
    return ACCOUNTS if settings.DEBUG else ()


#: Session key of the anonymous visit count.
VISITS = "home_visits"


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    context: dict[str, Any] = {"demo_accounts": demo_accounts()}
    if not user.is_authenticated:
        # Like a site that keeps a basket or a preference for visitors who are
        # not signed in, the home page stores something in their session, so
        # every visitor has one from the first page (crawlers included): the
        # admin lists them as anonymous sessions, with their device. Signing
        # in keeps the session, under a new key.
        visits = int(request.session.get(VISITS, 0)) + 1
        request.session[VISITS] = visits
        context["visits"] = visits
    else:
        idle = idle_timeout_for(user)
        context.update(
            idle_minutes=None if idle is None else idle // 60,
            max_sessions=max_sessions_for(user),
        )
    return render(request, "home.html", context)
