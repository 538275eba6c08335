"""Quality API paths, included at the root by labelhub/urls.py (full paths, api/ included)."""

from django.urls import path

from annotations import quality_api

urlpatterns = [
    path("api/projects/<int:pk>/quality/", quality_api.QualityApi.as_view()),
    path(
        "api/projects/<int:pk>/quality/agreement-matrix/",
        quality_api.AgreementMatrixApi.as_view(),
    ),
    path(
        "api/projects/<int:pk>/quality/agreement-histogram/",
        quality_api.AgreementHistogramApi.as_view(),
    ),
    path("api/projects/<int:pk>/quality/settings/", quality_api.QualitySettingsApi.as_view()),
]
