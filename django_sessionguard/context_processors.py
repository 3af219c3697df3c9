"""Template context for login pages."""

from __future__ import annotations

from django.http import HttpRequest

from django_sessionguard.responses import read_ended_cookie

#: Set on the request once the reason has been put in a template's context;
#: the middleware then drops the cookie, so the sentence is shown once.
SHOWN_ATTRIBUTE = "_sessionguard_ended_shown"


def signed_out_reason(request: HttpRequest) -> dict[str, str | None]:
    """``sessionguard_signed_out_message``: why the visitor was just signed out.

    Add ``"django_sessionguard.context_processors.signed_out_reason"`` to the
    template engine's ``context_processors`` and show the variable on the
    login page, e.g. "You were signed out after 30 minutes of inactivity."
    """
    message = getattr(request, "_sessionguard_ended_message", None)
    if message is None:
        message = read_ended_cookie(request)
    if message is not None:
        setattr(request, SHOWN_ATTRIBUTE, True)
    return {"sessionguard_signed_out_message": message}
