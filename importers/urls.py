"""URL patterns, included at the root by labelhub/urls.py (full paths, api/ included)."""

from django.urls import path

from importers import api
from importers.media import MediaFileView

urlpatterns = [
    path("api/projects/<int:pk>/import/", api.ProjectImportApi.as_view()),
    path("api/projects/<int:pk>/import/predictions/", api.ImportPredictionsApi.as_view()),
    path("api/projects/<int:pk>/tasks/bulk/", api.ProjectImportApi.as_view()),
    path("api/projects/<int:pk>/reimport/", api.ReimportApi.as_view()),
    path("api/projects/<int:pk>/reimports/<int:reimport_id>/", api.ReimportDetailApi.as_view()),
    path("api/projects/<int:pk>/file-uploads/", api.FileUploadListApi.as_view()),
    path("api/import/file-upload/<int:pk>/", api.FileUploadApi.as_view()),
    path("api/projects/<int:pk>/imports/", api.ImportJobListApi.as_view()),
    path("api/projects/<int:pk>/imports/<int:import_id>/", api.ImportJobApi.as_view()),
    path("api/projects/<int:pk>/sample-task/", api.SampleTaskApi.as_view()),
    path("api/projects/<int:pk>/sample-file/", api.SampleFileApi.as_view()),
    path("data/upload/<int:project_id>/<str:name>", MediaFileView.as_view()),
]
