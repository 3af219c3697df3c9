"""The page behind a new-device email's "This wasn't me: sign out everywhere" link.

``sessionguard:not-me``. It works without being signed in: the person who
clicks may be locked out of their account.

* GET shows what was reported and a button; it changes nothing (mail
  scanners and link previews fetch links);
* POST (with Django's CSRF protection) signs the user out everywhere and
  spends the link (:func:`~django_sessionguard.new_device_links.use_link`).

A link that was tampered with, is malformed, has expired, was used, or whose
user or record is gone gets a page saying so (400), never a 500; the pages say
nothing about any account.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import SESSION_KEY as USER_ID_KEY
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from django_sessionguard import new_device_links as links
from django_sessionguard import privacy
from django_sessionguard.devices import clean_user_agent, parse_user_agent
from django_sessionguard.network import get_client_ip
from django_sessionguard.notifications import approximate_place, password_reset_path
from django_sessionguard.security_headers import add_clear_site_data
from django_sessionguard.views import render_page

TEMPLATE = "not_me.html"


def _page(
    request: HttpRequest, state: str, status: int = 200, **context: Any
) -> HttpResponse:
    response = render_page(request, TEMPLATE, {"state": state, **context})
    response.status_code = status
    # The token is in this page's URL: never send it on as a Referer.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _reported(event: Any) -> dict[str, Any]:
    """What the page shows of the reported sign-in (as much as the site records)."""
    return {
        "reported_at": event.timestamp,
        "reported_device": privacy.device_or_dash(event.device),
        "reported_place": approximate_place(event.ip_address),
    }


def _sign_out_here_if_theirs(request: HttpRequest, user: Any) -> bool:
    """Forget this browser's session if it was one of the user's (now ended)."""
    session = getattr(request, "session", None)
    if session is None or str(session.get(USER_ID_KEY, "")) != str(user.pk):
        return False
    session.flush()
    request.user = AnonymousUser()
    return True


@never_cache
@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def not_me(request: HttpRequest, token: str) -> HttpResponse:
    """GET: confirm "This wasn't me"; POST: sign out everywhere, once."""
    try:
        link = links.read_token(token)
    except links.LinkError as error:
        return _page(request, "expired" if error.expired else "invalid", status=400)
    user = links.link_user(link)
    if user is None:
        return _page(request, "invalid", status=400)
    if request.method != "POST":
        status = links.link_status(user, link.reference)
    else:
        user_agent = clean_user_agent(request.META.get("HTTP_USER_AGENT"))
        status = links.use_link(
            user,
            link.reference,
            ip_address=get_client_ip(request),
            device=str(parse_user_agent(user_agent)),
        )
    if status.state == links.LinkState.UNKNOWN or status.event is None:
        return _page(request, "invalid", status=400)
    reported = _reported(status.event)
    if status.used_now:
        return _done(request, user, status.ended, reported)
    if status.state == links.LinkState.USED:
        return _page(request, "used", status=400)
    return _page(request, "confirm", **reported)


def _done(
    request: HttpRequest, user: Any, ended: int, reported: dict[str, Any]
) -> HttpResponse:
    signed_out_here = _sign_out_here_if_theirs(request, user)
    response = _page(
        request,
        "done",
        ended=ended,
        password_reset_url=password_reset_path(),
        **reported,
    )
    if signed_out_here:
        add_clear_site_data(response)
    return response
