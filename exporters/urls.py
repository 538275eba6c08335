"""URL patterns, included at the root by labelhub/urls.py (full paths, api/ included)."""

from django.urls import path

from exporters import api

urlpatterns = [
    path("api/projects/<int:pk>/export/", api.ProjectExportApi.as_view()),
]
