"""URL patterns, included at the root by labelhub/urls.py (full paths, api/ included)."""

from django.urls import path

from tasks import api

urlpatterns = [
    path("api/tasks/<int:pk>/", api.TaskDetailApi.as_view()),
]
