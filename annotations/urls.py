"""URL patterns, included at the root by labelhub/urls.py (full paths, api/ included)."""

from django.urls import path

from annotations import api, labels_api, project_api

urlpatterns = [
    path("api/projects/counts/", project_api.ProjectCountsApi.as_view()),
    path("api/projects/<int:pk>/summary/", project_api.ProjectSummaryApi.as_view()),
    path("api/projects/<int:pk>/summary/reset/", project_api.ProjectSummaryResetApi.as_view()),
    path("api/projects/<int:pk>/tasks/", project_api.ProjectTasksApi.as_view()),
    path("api/projects/<int:pk>/annotators/", project_api.ProjectAnnotatorsApi.as_view()),
    path("api/projects/<int:pk>/model-versions/", project_api.ProjectModelVersionsApi.as_view()),
    path("api/tasks/<int:pk>/annotations/", api.TaskAnnotationsApi.as_view()),
    path("api/annotations/<int:pk>/", api.AnnotationDetailApi.as_view()),
    path("api/tasks/<int:pk>/drafts/", api.TaskDraftsApi.as_view()),
    path("api/tasks/<int:pk>/annotations/<int:annotation_pk>/drafts/", api.TaskDraftsApi.as_view()),
    path("api/drafts/<int:pk>/", api.DraftDetailApi.as_view()),
    path("api/annotations/<int:pk>/convert-to-draft/", api.AnnotationConvertToDraftApi.as_view()),
    path("api/tasks/<int:pk>/agreement/", api.TaskAgreementApi.as_view()),
    path("api/projects/<int:pk>/label-stream-history/", api.LabelStreamHistoryApi.as_view()),
    path("api/annotations/<int:pk>/reviews/", api.AnnotationReviewsApi.as_view()),
    path("api/annotations/<int:pk>/review-history/", api.AnnotationReviewHistoryApi.as_view()),
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
    path("api/labels/", labels_api.LabelListApi.as_view()),
    path("api/labels/bulk", labels_api.LabelBulkUpdateApi.as_view()),
    path("api/labels/<int:pk>/", labels_api.LabelDetailApi.as_view()),
    path("api/label_links/", labels_api.LabelLinkListApi.as_view()),
    path("api/label_links/<int:pk>/", labels_api.LabelLinkDetailApi.as_view()),
]
