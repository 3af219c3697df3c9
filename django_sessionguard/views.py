"""The "Your devices" page, its JSON twin, and the password confirmation page.

Views are thin: listing and ending sessions go through :mod:`services`. A
session is always looked up together with its owner, so a reference that is
someone else's takes exactly the path of one that does not exist (404). A
sign-out the session cache cannot make effective is answered with a 503
(the middleware's page, or JSON here), nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
)
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from django_sessionguard import services
from django_sessionguard.conf import conf
from django_sessionguard.decorators import (
    REDIRECT_FIELD_NAME,
    mark_recent_login,
    reauth_response,
    recent_login_check,
)
from django_sessionguard.faults import SessionCacheUnavailable, unavailable_json
from django_sessionguard.forms import ReauthenticationForm
from django_sessionguard.locations import location_enabled
from django_sessionguard.security_headers import add_clear_site_data
from django_sessionguard.session_rows import (
    SessionRow,
    current_reference,
    find_row,
    session_rows,
)


def session_row_or_404(request: HttpRequest, reference: str) -> SessionRow:
    row = find_row(request, reference)
    if row is None:
        raise Http404
    return row


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any]
) -> HttpResponse:
    context["sessionguard_base_template"] = conf.BASE_TEMPLATE
    return render(request, f"django_sessionguard/{template}", context)


def reauth_if_configured(view: Callable[..., HttpResponse]) -> Callable[..., Any]:
    """Apply ``recent_login_required`` when ``SESSIONGUARD_REAUTH_FOR_REVOKE``."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if conf.REAUTH_FOR_REVOKE:
            signed_in = recent_login_check(request, None)
            if signed_in is not None:
                return reauth_response(
                    request,
                    authenticated=signed_in,
                    json=getattr(view, "sessionguard_json", None),
                )
        return view(request, *args, **kwargs)

    return wrapped


def sign_out_here(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.success(request, _("You signed out on this device."))
    response = redirect(settings.LOGOUT_REDIRECT_URL or settings.LOGIN_URL)
    add_clear_site_data(response)
    return response


# -- pages --------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def session_list(request: HttpRequest) -> HttpResponse:
    rows = session_rows(request)
    return render_page(
        request,
        "session_list.html",
        {
            "sessions": rows,
            "other_sessions": [row for row in rows if not row.current],
            "show_location": location_enabled(),
        },
    )


@never_cache
@csrf_protect
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@reauth_if_configured
def revoke(request: HttpRequest, reference: str) -> HttpResponse:
    """GET: confirmation page; POST: sign that session out."""
    row = session_row_or_404(request, reference)
    if request.method != "POST":
        return render_page(
            request,
            "confirm_revoke.html",
            {"session": row, "show_location": location_enabled()},
        )
    if row.current:
        return sign_out_here(request)
    if services.revoke_session(request.user, reference, actor=request.user):
        messages.success(request, _("Signed out %(device)s.") % {"device": row.label})
    else:
        messages.error(request, _("That device had already signed out."))
    return redirect("sessionguard:list")


@never_cache
@csrf_protect
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@reauth_if_configured
def revoke_others(request: HttpRequest) -> HttpResponse:
    """GET: confirmation page listing the other devices; POST: sign them out."""
    current = current_reference(request)
    if request.method != "POST":
        others = [row for row in session_rows(request) if not row.current]
        return render_page(
            request, "confirm_revoke_others.html", {"other_sessions": others}
        )
    count = services.revoke_other_sessions(request.user, current, actor=request.user)
    if count:
        messages.success(
            request,
            ngettext(
                "Signed out %(count)d other device.",
                "Signed out %(count)d other devices.",
                count,
            )
            % {"count": count},
        )
    else:
        messages.info(request, _("No other device was signed in."))
    return redirect("sessionguard:list")


@never_cache
@csrf_protect
@require_POST
@login_required
def sign_out(request: HttpRequest) -> HttpResponse:
    """Sign out on this device (Django's ``logout``)."""
    return sign_out_here(request)


@never_cache
@sensitive_post_parameters("password")
@csrf_protect
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def reauthenticate(request: HttpRequest) -> HttpResponse:
    """Confirm the password; refreshes the session's authentication time."""
    next_url = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(
        REDIRECT_FIELD_NAME, ""
    )
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = resolve_url("sessionguard:list")
    form = ReauthenticationForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        mark_recent_login(request)
        return redirect(next_url)
    return render_page(request, "reauthenticate.html", {"form": form, "next": next_url})


# -- JSON API -----------------------------------------------------------------


def api_error(error: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": error, "message": message}, status=status)


def api_view(*methods: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """JSON everywhere: 401 (not a redirect) when signed out, 405 as JSON, and
    503 when the session cache cannot make a sign-out effective."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., Any]:
        view.sessionguard_json = True  # type: ignore[attr-defined]
        gated = reauth_if_configured(view) if "POST" in methods else view

        @never_cache
        @csrf_protect
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = api_error(
                    "method_not_allowed", _("Method not allowed."), 405
                )
                response["Allow"] = ", ".join(methods)
                return response
            if not request.user.is_authenticated:
                return reauth_response(request, authenticated=False, json=True)
            try:
                return gated(request, *args, **kwargs)
            except SessionCacheUnavailable:
                return unavailable_json()

        return wrapped

    return decorator


@api_view("GET", "HEAD")
def api_list(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"sessions": [row.as_json() for row in session_rows(request)]})


@api_view("POST")
def api_revoke(request: HttpRequest, reference: str) -> JsonResponse:
    if reference == current_reference(request):
        logout(request)
        response = JsonResponse({"revoked": 1, "current": True})
        add_clear_site_data(response)
        return response
    if not services.revoke_session(request.user, reference, actor=request.user):
        return api_error("not_found", _("No such session."), 404)
    return JsonResponse({"revoked": 1, "current": False})


@api_view("POST")
def api_revoke_others(request: HttpRequest) -> JsonResponse:
    current = current_reference(request)
    count = services.revoke_other_sessions(request.user, current, actor=request.user)
    return JsonResponse({"revoked": count})
