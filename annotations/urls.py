"""URL patterns, included at the root by labelhub/urls.py (full paths, api/ included)."""

from django.urls import path

from annotations import api

urlpatterns = [
    path("api/projects/<int:pk>/", api.ProjectDetailApi.as_view()),
    path("api/projects/<int:pk>/validate/", api.ProjectConfigValidateApi.as_view()),
    path("api/tasks/<int:pk>/", api.TaskDetailApi.as_view()),
    path("api/tasks/<int:pk>/annotations/", api.TaskAnnotationsApi.as_view()),
    path("api/annotations/<int:pk>/", api.AnnotationDetailApi.as_view()),
    path("api/tasks/<int:pk>/drafts/", api.TaskDraftsApi.as_view()),
    path("api/tasks/<int:pk>/annotations/<int:annotation_pk>/drafts/", api.TaskDraftsApi.as_view()),
    path("api/drafts/<int:pk>/", api.DraftDetailApi.as_view()),
    path("api/annotations/<int:pk>/convert-to-draft/", api.AnnotationConvertToDraftApi.as_view()),
    path("api/tasks/<int:pk>/agreement/", api.TaskAgreementApi.as_view()),
    path("api/projects/<int:pk>/label-stream-history/", api.LabelStreamHistoryApi.as_view()),
    path("api/annotations/<int:pk>/reviews/", api.AnnotationReviewsApi.as_view()),
    path("api/predictions/", api.PredictionListApi.as_view()),
    path("api/predictions/<int:pk>/", api.PredictionDetailApi.as_view()),
    path("api/projects/<int:pk>/next/", api.NextTaskApi.as_view(), name="api-next-task"),
    path("api/projects/<int:pk>/my-annotations/", api.MyAnnotationsApi.as_view()),
    path("api/projects/<int:pk>/verify/next/", api.VerifyNextApi.as_view()),
    path("api/projects/<int:pk>/verify/progress/", api.VerifyProgressApi.as_view()),
    path("api/projects/<int:pk>/quality/", api.QualityApi.as_view()),
    path("api/projects/<int:pk>/quality/agreement-matrix/", api.AgreementMatrixApi.as_view()),
    path("api/projects/<int:pk>/quality/agreement-histogram/", api.AgreementHistogramApi.as_view()),
    path("api/projects/<int:pk>/quality/settings/", api.QualitySettingsApi.as_view()),
]
