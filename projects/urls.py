"""URL patterns, included at the root by labelhub/urls.py (full paths, api/ included).

It names ``projects.detail_api``, which uses ``annotations``, so it sits with it in the
layer above ``annotations`` (pyproject.toml)."""

from django.urls import path

from projects import accounts_api, api, detail_api

urlpatterns = [
    path("api/version/", api.VersionApi.as_view()),
    path("api/current-user/whoami/", api.WhoAmIApi.as_view()),
    path("api/current-user/token/", api.TokenApi.as_view()),
    path("api/current-user/reset-token/", api.TokenResetApi.as_view()),
    path("api/users/", api.UserListApi.as_view()),
    path("api/users/<int:pk>/", api.UserDetailApi.as_view()),
    path("api/projects/", api.ProjectListApi.as_view()),
    path("api/projects/validate/", api.ProjectValidateApi.as_view()),
    path("api/projects/<int:pk>/", detail_api.ProjectDetailApi.as_view()),
    path("api/projects/<int:pk>/validate/", detail_api.ProjectConfigValidateApi.as_view()),
    path("api/projects/<int:pk>/members/", api.ProjectMembersApi.as_view()),
    # Accounts (projects.accounts_api): avatars, hotkeys, tours, the organization, tokens.
    path("api/users/<int:pk>/avatar/", accounts_api.UserAvatarApi.as_view()),
    path("data/avatars/<str:name>", accounts_api.AvatarFileView.as_view()),
    path("api/current-user/hotkeys/", accounts_api.HotkeysApi.as_view()),
    path("api/current-user/product-tour/", accounts_api.ProductTourApi.as_view()),
    path("api/organizations/", accounts_api.OrganizationListApi.as_view()),
    path("api/organizations/<int:pk>/", accounts_api.OrganizationApi.as_view()),
    path("api/organizations/<int:pk>/memberships/", accounts_api.OrganizationMembersApi.as_view()),
    path(
        "api/organizations/<int:pk>/memberships/<int:user_pk>/",
        accounts_api.OrganizationMemberApi.as_view(),
    ),
    path("api/invite/", accounts_api.InviteApi.as_view()),
    path("api/invite/reset-token/", accounts_api.InviteResetApi.as_view()),
    path("api/jwt/settings/", accounts_api.JwtSettingsApi.as_view()),
    path("api/token/", accounts_api.ApiTokensApi.as_view()),
    path("api/token/refresh/", accounts_api.TokenRefreshApi.as_view()),
    path("api/token/blacklist/", accounts_api.TokenBlacklistApi.as_view()),
    path("api/token/rotate/", accounts_api.TokenRotateApi.as_view()),
]
