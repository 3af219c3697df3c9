from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from django_sessionguard.limits import SessionLimitAuthenticationForm
from example_project import views

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            # Under SESSIONGUARD_LIMIT_POLICY = "deny_new" a refused sign-in is
            # an error on the form (under "evict_oldest" it never refuses).
            authentication_form=SessionLimitAuthenticationForm,
            extra_context={"demo_accounts": views.demo_accounts()},
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("account/sessions/", include("django_sessionguard.urls")),
]
