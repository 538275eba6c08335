"""URL patterns, included at the root by labelhub/urls.py (full paths, api/ included)."""

from django.urls import path

from datamanager import api

urlpatterns = [
    path("api/tasks/", api.TaskListApi.as_view()),
    path("api/dm/", api.DmRootApi.as_view()),
    path("api/dm/project/", api.ProjectStateApi.as_view()),
    path("api/dm/views/order/", api.ViewOrderApi.as_view()),
    path("api/dm/actions/<str:action_id>/form/", api.ActionFormApi.as_view()),
    path("api/dm/views/", api.ViewListApi.as_view()),
    path("api/dm/views/reset/", api.ViewResetApi.as_view()),
    path("api/dm/views/<int:pk>/", api.ViewDetailApi.as_view()),
    path("api/dm/next/", api.LabelNextApi.as_view()),
    path("api/dm/actions/", api.ActionsApi.as_view()),
    path("api/dm/columns/", api.ColumnsApi.as_view()),
    path("api/dm/count/", api.CountApi.as_view()),
    path("api/projects/<int:pk>/ground-truth/sample/", api.GroundTruthSampleApi.as_view()),
    path("api/projects/<int:pk>/ground-truth/preview/", api.GroundTruthPreviewApi.as_view()),
    path("api/projects/<int:pk>/ground-truth/reset/", api.GroundTruthResetApi.as_view()),
]
