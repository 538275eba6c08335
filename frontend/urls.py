"""Page URLs, included at the root by labelhub/urls.py: the project pages, the Data Manager,
the Verify Stream and the Ground Truth Manager pages."""

from django.urls import path, re_path

from frontend import (
    account_views,
    api,
    dm_views,
    invite_views,
    migrate_views,
    ml_views,
    quality_views,
    stream_views,
    views,
)

# Project pages answer with and without a trailing slash (/projects/1/label, .../label/).
urlpatterns = [
    path("api/templates/", api.TemplateListApi.as_view()),
    path("", views.home, name="home"),
    path("user/login/", views.login_view, name="login"),
    path("user/logout/", views.logout_view, name="logout"),
    re_path(r"^user/signup/?$", views.signup_view, name="signup"),
    path("user/invite/<str:uid>/<str:token>/", invite_views.invite_page, name="invite"),
    re_path(r"^user/account/?$", account_views.account_page, name="account"),
    re_path(r"^people/?$", account_views.people_page, name="people"),
    path("projects/", views.projects_page, name="projects"),
    path("projects", views.projects_page),  # Label Studio links it without the slash
    re_path(r"^projects/migrate/?$", migrate_views.migrate_page, name="migrate"),
    path("projects/migrate/<int:pk>/status", migrate_views.migrate_status, name="migrate-status"),
    re_path(r"^projects/new/?$", views.project_create_page, name="project-create"),
    re_path(r"^projects/preview/?$", views.config_preview_page, name="config-preview"),
    path("projects/preview/sample.wav", views.sample_audio, name="sample-audio"),
    re_path(r"^projects/(?P<pk>\d+)/?$", views.project_home, name="project-home"),
    re_path(r"^projects/(?P<pk>\d+)/label/?$", stream_views.label_page, name="label"),
    re_path(r"^projects/(?P<pk>\d+)/leave/?$", views.project_leave, name="project-leave"),
    re_path(r"^projects/(?P<pk>\d+)/import/?$", views.project_import_page, name="project-import"),
    re_path(
        r"^projects/(?P<pk>\d+)/settings/?$", views.project_settings_page, name="project-settings"
    ),
    re_path(
        r"^projects/(?P<pk>\d+)/settings/(?P<ls_section>[a-z-]+)/?$",
        views.project_settings_page,
        name="project-settings-section",
    ),
    re_path(r"^projects/(?P<pk>\d+)/quality/?$", quality_views.quality_page, name="quality"),
    re_path(r"^projects/(?P<pk>\d+)/ml/?$", ml_views.ml_page, name="ml"),
    re_path(r"^projects/(?P<pk>\d+)/tasks/?$", views.project_tasks_page, name="project-tasks"),
    re_path(
        r"^projects/(?P<pk>\d+)/tasks/(?P<task_id>\d+)/?$", stream_views.task_page, name="task"
    ),
    re_path(r"^projects/(?P<pk>\d+)/data/?$", dm_views.data_manager, name="data-manager"),
    re_path(r"^projects/(?P<pk>\d+)/data/export/?$", dm_views.export_download, name="data-export"),
    re_path(
        r"^projects/(?P<pk>\d+)/data/label/?$", dm_views.label_displayed_page, name="data-label"
    ),
    re_path(r"^projects/(?P<pk>\d+)/verify/?$", dm_views.verify_page, name="verify"),
    re_path(
        r"^projects/(?P<pk>\d+)/ground-truth/?$", dm_views.ground_truth_page, name="ground-truth"
    ),
]
