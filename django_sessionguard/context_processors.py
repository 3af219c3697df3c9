"""Template context for login pages."""

from __future__ import annotations

from django.http import HttpRequest

from django_sessionguard.responses import read_ended_cookie


def signed_out_reason(request: HttpRequest) -> dict[str, str | None]:
    """``sessionguard_signed_out_message``: why the visitor was just signed out."""
    return {"sessionguard_signed_out_message": read_ended_cookie(request)}
