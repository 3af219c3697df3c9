"""URLs of the benchmark views."""

from __future__ import annotations

from django.urls import path

from tests.benchmarks import bench_views

urlpatterns = [
    path("login/", bench_views.login_view),
    path("read/", bench_views.read_view),
    path("write/", bench_views.write_view),
    path("sessions/", bench_views.list_sessions_view),
    path("revoke-others/", bench_views.revoke_others_view),
]
