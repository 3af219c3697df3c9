"""A write for the load run: the example project's pages only read the session."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_POST


@require_POST
def note(request: HttpRequest) -> JsonResponse:
    """Count this session's writes: ``{"user": ..., "notes": n}`` (POST + CSRF)."""
    notes = int(request.session.get("load_notes", 0)) + 1
    request.session["load_notes"] = notes
    user = request.user.get_username() if request.user.is_authenticated else None
    return JsonResponse({"user": user, "notes": notes})
