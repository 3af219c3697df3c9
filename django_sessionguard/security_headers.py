"""Response headers that keep session credentials where they belong.

* :func:`forbid_storing_session_cookie`: a response that sets (or deletes) the
  session cookie must never be stored by a shared cache, which would hand that
  cookie to the next visitor. Django's ``SessionMiddleware`` only adds
  ``Vary: Cookie``; ``SessionGuardMiddleware`` also makes such responses
  ``Cache-Control: private, no-store``.
* :func:`add_clear_site_data`: ``SESSIONGUARD_CLEAR_SITE_DATA`` on the
  responses that sign this device out (``sessionguard:logout``, revoking the
  current session from the devices page or its API). Use it on a response of
  your own that ends this browser's session some other way.
* :func:`note_signed_out` / :func:`clear_site_data_after_sign_out`: any view
  that calls Django's ``logout()`` / ``alogout()`` for a signed-in user
  (``django.contrib.auth.views.LogoutView`` included) gets the same header:
  the ``user_logged_out`` receiver marks the request, and
  ``SessionGuardMiddleware`` adds the header to its response.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_cache_control

from django_sessionguard.conf import conf


def forbid_storing_session_cookie(response: HttpResponseBase) -> None:
    """Mark ``response`` private and not storable if it carries the session cookie."""
    if settings.SESSION_COOKIE_NAME in response.cookies:
        patch_cache_control(response, private=True, no_store=True)


def clear_site_data_value() -> str | None:
    """The configured ``Clear-Site-Data`` header value, or ``None`` when off."""
    directives = conf.CLEAR_SITE_DATA
    if not directives:
        return None
    return ", ".join(f'"{directive}"' for directive in directives)


def add_clear_site_data(response: HttpResponseBase) -> HttpResponseBase:
    """Ask the browser to clear this site's data, if ``SESSIONGUARD_CLEAR_SITE_DATA``.

    For a response that ends the session of the browser receiving it. Returns
    the response, so a view can ``return add_clear_site_data(response)``.
    """
    value = clear_site_data_value()
    if value is not None:
        response["Clear-Site-Data"] = value
    return response


#: Set on a request during which its own signed-in session was signed out.
SIGNED_OUT_ATTRIBUTE = "_sessionguard_signed_out"


def note_signed_out(request: HttpRequest) -> None:
    """Remember that ``request``'s browser signed out (``user_logged_out``)."""
    setattr(request, SIGNED_OUT_ATTRIBUTE, True)


def clear_site_data_after_sign_out(
    request: HttpRequest, response: HttpResponseBase
) -> None:
    """:func:`add_clear_site_data` if this browser signed out during ``request``."""
    if getattr(request, SIGNED_OUT_ATTRIBUTE, False):
        add_clear_site_data(response)
