"""URL patterns, included at the root by labelhub/urls.py (full paths, api/ included)."""

from django.urls import path

from exporters import api

urlpatterns = [
    path("api/projects/<int:pk>/export/", api.ProjectExportApi.as_view()),
    path("api/projects/<int:pk>/export/formats/", api.ProjectExportFormatsApi.as_view()),
    path("api/projects/<int:pk>/export/files/", api.ProjectExportFilesApi.as_view()),
    path("api/auth/export/", api.ExportAuthCheckApi.as_view()),
    path("api/projects/<int:pk>/exports/", api.ProjectExportsApi.as_view()),
    path("api/projects/<int:pk>/exports/<int:export_pk>/", api.ProjectExportDetailApi.as_view()),
    path(
        "api/projects/<int:pk>/exports/<int:export_pk>/download/",
        api.ProjectExportDownloadApi.as_view(),
    ),
    path(
        "api/projects/<int:pk>/exports/<int:export_pk>/convert/",
        api.ProjectExportConvertApi.as_view(),
    ),
]
