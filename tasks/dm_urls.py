"""URL patterns, included at the root by labelhub/urls.py (full paths, api/ included)."""

from django.urls import path

from tasks import dm_api

urlpatterns = [
    path("api/dm/views/", dm_api.ViewListApi.as_view()),
    path("api/dm/views/reset/", dm_api.ViewResetApi.as_view()),
    path("api/dm/views/<int:pk>/", dm_api.ViewDetailApi.as_view()),
    path("api/dm/actions/", dm_api.ActionsApi.as_view()),
    path("api/dm/columns/", dm_api.ColumnsApi.as_view()),
    path("api/dm/count/", dm_api.CountApi.as_view()),
    path("api/projects/<int:pk>/verify/next/", dm_api.VerifyNextApi.as_view()),
    path("api/projects/<int:pk>/verify/progress/", dm_api.VerifyProgressApi.as_view()),
    path("api/projects/<int:pk>/ground-truth/sample/", dm_api.GroundTruthSampleApi.as_view()),
    path("api/projects/<int:pk>/ground-truth/preview/", dm_api.GroundTruthPreviewApi.as_view()),
    path("api/projects/<int:pk>/ground-truth/reset/", dm_api.GroundTruthResetApi.as_view()),
]
