"""The test URLs plus what the lifecycle tests need: Django's password views,
a login form that shows the session-limit error inline, and passive views.

Use with ``@pytest.mark.urls("tests.lifecycle_urls")``.
"""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, JsonResponse
from django.urls import path

from django_sessionguard.limits import SessionLimitAuthenticationForm
from tests.urls import urlpatterns as base_urlpatterns


def heartbeat(request: HttpRequest) -> JsonResponse:
    """A polling endpoint: reads the session, must not count as activity."""
    return JsonResponse({"user": request.user.get_username() or None})


heartbeat.sessionguard_passive = True  # type: ignore[attr-defined]


def poll(request: HttpRequest) -> JsonResponse:
    """Not marked itself: passive through ``SESSIONGUARD_PASSIVE_PATHS``."""
    return JsonResponse({"user": request.user.get_username() or None})


urlpatterns = [
    *base_urlpatterns,
    path(
        "login-limited/",
        auth_views.LoginView.as_view(
            authentication_form=SessionLimitAuthenticationForm
        ),
        name="login-limited",
    ),
    path(
        "password-change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "password-change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("heartbeat/", heartbeat, name="heartbeat"),
    path("poll/", poll, name="poll"),
]
