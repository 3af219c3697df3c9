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


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    context: dict[str, Any] = {"demo_accounts": demo_accounts()}
    if user.is_authenticated:
        idle = idle_timeout_for(user)
        context.update(
            idle_minutes=None if idle is None else idle // 60,
            max_sessions=max_sessions_for(user),
        )
    return render(request, "home.html", context)
