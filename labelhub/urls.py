"""Root URLs: each app's ``urls.py`` carries its full paths (``api/`` included)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema")),
    path("", include("projects.urls")),
    path("", include("annotations.urls")),
    path("", include("datamanager.urls")),
    path("", include("importers.urls")),
    path("", include("exporters.urls")),
    path("", include("frontend.dm_urls")),
    path("", include("frontend.urls")),
]

handler404 = "labelhub.errors.json_404"
handler500 = "labelhub.errors.json_500"
