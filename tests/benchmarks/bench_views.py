"""The views the scenarios request: as small as a real view that does the job."""

from __future__ import annotations

from django.contrib.auth import get_user_model, login
from django.http import HttpRequest, HttpResponse, JsonResponse

from tests.benchmarks import bench_django

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
    """S4: the user's live sessions as JSON (what a "Your devices" page queries).

    Ours: one indexed query. Django's engines: every session in the store
    decoded, the user's kept (``bench_django``).
    """
    from django_sessionguard.backends.base import SessionGuardStore
    from django_sessionguard.services import live_sessions

    if not request.user.is_authenticated:
        return HttpResponse(status=401)
    session = request.session
    if not isinstance(session, SessionGuardStore):
        current_key = session.session_key
        found = bench_django.user_sessions(session, request.user.pk)
        sessions = [
            {
                "id": bench_django.session_id(item.key),
                "expire_date": item.expire_date,
                "current": item.key == current_key,
            }
            for item in found
        ]
        return JsonResponse({"sessions": sessions})
    current = session.reference
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
    """S5: end every other session of the user (POST).

    Ours: ``revoke_other_sessions``. Django's engines: find them as S4 does,
    then delete their rows and cached copies (``bench_django``).
    """
    from django_sessionguard.backends.base import SessionGuardStore
    from django_sessionguard.services import revoke_other_sessions

    if request.method != "POST" or not request.user.is_authenticated:
        return HttpResponse(status=405)
    session = request.session
    if not isinstance(session, SessionGuardStore):
        current_key = session.session_key
        others = [
            item
            for item in bench_django.user_sessions(session, request.user.pk)
            if item.key != current_key
        ]
        bench_django.end_sessions(session, others)
        return JsonResponse({"revoked": len(others)})
    revoked = revoke_other_sessions(request.user, session.reference, actor=request.user)
    return JsonResponse({"revoked": revoked})
