from django.urls import path

from ml import api

urlpatterns = [
    path("api/ml/", api.BackendListApi.as_view()),
    path("api/ml/models/", api.ModelsApi.as_view()),
    path("api/ml/<int:pk>/", api.BackendDetailApi.as_view()),
    path("api/ml/<int:pk>/health/", api.BackendHealthApi.as_view()),
    path("api/ml/<int:pk>/train/", api.BackendTrainApi.as_view()),
    path("api/ml/<int:pk>/predict/test/", api.BackendPredictTestApi.as_view()),
    path("api/ml/<int:pk>/interactive-annotating/", api.BackendInteractiveApi.as_view()),
    path("api/ml/<int:pk>/versions/", api.BackendVersionsApi.as_view()),
    path("api/ml/<int:pk>/jobs/", api.BackendJobsApi.as_view()),
    path("api/ml/<int:pk>/jobs/<int:job_id>/", api.BackendJobDetailApi.as_view()),
    path("api/ml/<int:pk>/prediction-jobs/", api.BackendPredictionJobsApi.as_view()),
    path("api/projects/<int:pk>/predict/", api.ProjectPredictApi.as_view()),
    path("api/projects/<int:pk>/learning-curve/", api.LearningCurveApi.as_view()),
    path("api/projects/<int:pk>/active-learning-check/", api.ActiveLearningCheckApi.as_view()),
]
