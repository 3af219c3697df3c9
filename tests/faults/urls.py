"""The lifecycle tests' URLs (Django's password views...) plus the fault views."""

from __future__ import annotations

from django.urls import path

from tests.faults import views
from tests.lifecycle_urls import urlpatterns as suite_urlpatterns

urlpatterns = [
    path("faults/read/", views.read),
    path("faults/write/", views.write),
    path("faults/async-login/", views.async_login),
    path("faults/async-logout/", views.async_logout),
    *suite_urlpatterns,
]
