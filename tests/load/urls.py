"""The example project's URLs, plus one page of the run's own that writes."""

from __future__ import annotations

from django.urls import path
from example_project.urls import urlpatterns as example_urlpatterns

from tests.load import views

urlpatterns = [
    path("load/note/", views.note, name="load-note"),
    *example_urlpatterns,
]
