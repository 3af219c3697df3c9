"""``path("account/sessions/", include("django_sessionguard.urls"))``: namespace
``sessionguard``. References in URLs are public session identifiers, never
cookie values."""

from __future__ import annotations

from django.urls import path

from django_sessionguard import idle, not_me, views

app_name = "sessionguard"

urlpatterns = [
    path("", views.session_list, name="list"),
    path("sign-out-others/", views.revoke_others, name="revoke-others"),
    path("sign-out/", views.sign_out, name="logout"),
    path("confirm-password/", views.reauthenticate, name="reauth"),
    path("new-device/<str:token>/", not_me.not_me, name="not-me"),
    path("<str:reference>/sign-out/", views.revoke, name="revoke"),
    path("api/", views.api_list, name="api-list"),
    path("api/sign-out-others/", views.api_revoke_others, name="api-revoke-others"),
    path("api/<str:reference>/sign-out/", views.api_revoke, name="api-revoke"),
    path("idle-status/", idle.idle_status, name="idle-status"),
    path("idle-extend/", idle.idle_extend, name="idle-extend"),
]
