from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from tests import idle_views, views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("read/", views.read, name="read"),
    path("write/", views.write, name="write"),
    path("async-read/", views.async_read, name="async-read"),
    path("async-write/", views.async_write, name="async-write"),
    path("async-logout/", views.async_logout, name="async-logout"),
    path("anon/", views.anon, name="anon"),
    path("admin/", admin.site.urls),
    path("account/sessions/", include("django_sessionguard.urls")),
    path("idle-page/", idle_views.idle_page, name="idle-page"),
    path(
        "idle-page/no-warning/",
        idle_views.idle_page,
        {"with_warning": False},
        name="idle-page-plain",
    ),
]
