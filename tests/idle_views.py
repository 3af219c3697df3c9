"""A signed-in page for the idle-warning tests, under a strict CSP."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

#: No inline script or style, nothing from another origin: the warning must still run.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@login_required
def idle_page(request: HttpRequest, with_warning: bool = True) -> HttpResponse:
    """A page with a form field, with or without ``{% sessionguard_idle_warning %}``."""
    response = render(request, "idle_page.html", {"with_warning": with_warning})
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response
