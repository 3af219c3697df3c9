"""The test URLs plus a password reset page, for the new-device email's advice.

Use with ``@pytest.mark.urls("tests.new_device_urls")``.
"""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from tests.urls import urlpatterns as base_urlpatterns

urlpatterns = [
    *base_urlpatterns,
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(),
        name="password_reset",
    ),
]
