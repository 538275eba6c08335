"""URL patterns, included at the root by labelhub/urls.py (full paths, api/ included).

Pages answer with and without a trailing slash, as the other project pages do."""

from django.urls import re_path

from frontend import dm_views

urlpatterns = [
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
