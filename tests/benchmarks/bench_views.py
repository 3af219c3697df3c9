"""The views the scenarios request: as small as a real view that does the job."""

from __future__ import annotations

from django.contrib.auth import get_user_model, login
from django.http import HttpRequest, HttpResponse, JsonResponse

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def login_view(request: HttpRequest) -> HttpResponse:
    """S3: sign in ``?u=<username>`` (no password hashing: that is not the engine)."""
    user = get_user_model()._default_manager.get(username=request.GET["u"])
    login(request, user, backend=MODEL_BACKEND)
    return HttpResponse(user.get_username(), content_type="text/plain")


def read_view(request: HttpRequest) -> HttpResponse:
    """S1: read the user and one session key; no write."""
    user = request.user
    counter = request.session.get("counter")
    name = user.get_username() if user.is_authenticated else ""
    return HttpResponse(f"{name} {counter}", content_type="text/plain")


def write_view(request: HttpRequest) -> HttpResponse:
    """S2: write one session key (a new value every request)."""
    user = request.user
    counter = request.session.get("counter", 0) + 1
    request.session["counter"] = counter
    name = user.get_username() if user.is_authenticated else ""
    return HttpResponse(f"{name} {counter}", content_type="text/plain")


def list_sessions_view(request: HttpRequest) -> HttpResponse:
    """S4: the user's live sessions as JSON (what a "Your devices" page queries)."""
    from django_sessionguard.services import live_sessions

    if not request.user.is_authenticated:
        return HttpResponse(status=401)
    current = getattr(request.session, "reference", None)
    rows = live_sessions(request.user).values(
        "reference",
        "device_type",
        "browser",
        "browser_version",
        "os",
        "os_version",
        "ip_address",
        "created_at",
        "last_activity",
    )
    sessions = [{**row, "current": row["reference"] == current} for row in rows]
    return JsonResponse({"sessions": sessions})


def revoke_others_view(request: HttpRequest) -> HttpResponse:
    """S5: end every other session of the user (POST)."""
    from django_sessionguard.services import revoke_other_sessions

    if request.method != "POST" or not request.user.is_authenticated:
        return HttpResponse(status=405)
    revoked = revoke_other_sessions(
        request.user, request.session.reference, actor=request.user
    )
    return JsonResponse({"revoked": revoked})
