"""URL patterns, included at the root by labelhub/urls.py (full paths, api/ included)."""

from django.urls import path

from tasks import stream_api

urlpatterns = [
    path("api/projects/<int:pk>/next/", stream_api.NextTaskApi.as_view(), name="api-next-task"),
]
