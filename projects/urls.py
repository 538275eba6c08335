"""URL patterns, included at the root by labelhub/urls.py (full paths, api/ included).

``/api/projects/{id}/`` and ``/api/projects/{id}/validate/`` are served by ``annotations.urls`` (see annotations.api)."""

from django.urls import path

from projects import api

urlpatterns = [
    path("api/version/", api.VersionApi.as_view()),
    path("api/current-user/whoami/", api.WhoAmIApi.as_view()),
    path("api/current-user/token/", api.TokenApi.as_view()),
    path("api/current-user/reset-token/", api.TokenResetApi.as_view()),
    path("api/users/", api.UserListApi.as_view()),
    path("api/users/<int:pk>/", api.UserDetailApi.as_view()),
    path("api/projects/", api.ProjectListApi.as_view()),
    path("api/projects/validate/", api.ProjectValidateApi.as_view()),
    path("api/projects/<int:pk>/members/", api.ProjectMembersApi.as_view()),
]
