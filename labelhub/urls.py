"""Root URLs: each app's ``urls.py`` carries its full paths (``api/`` included)."""

from django.http import HttpResponseRedirect
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularJSONAPIView,
    SpectacularYAMLAPIView,
)

from labelhub import system


def _docs_api(request):
    """Label Studio's ``/docs/api/``: ``?format=openapi`` is the schema, else the docs."""
    if request.GET.get("format") == "openapi":
        return HttpResponseRedirect("/docs/api/schema/json/")
    return HttpResponseRedirect("/docs/api/schema/swagger-ui/")


urlpatterns = [
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The Swagger UI pages (api/docs/, docs/api/schema/swagger-ui/) are the frontend's.
    path("", include("frontend.docs_urls")),
    # Label Studio's paths for the same schema and docs, and its system endpoints.
    path("docs/api/", _docs_api),
    path("docs/api/schema/", SpectacularAPIView.as_view(), name="docs-schema"),
    path("docs/api/schema/json/", SpectacularJSONAPIView.as_view()),
    path("docs/api/schema/yaml/", SpectacularYAMLAPIView.as_view()),
    path("health/", system.health),
    path("version/", system.version_page),
    path("api/", system.ApiRootApi.as_view()),
    path("", include("projects.urls")),
    path("", include("tasks.urls")),
    path("", include("annotations.urls")),
    path("", include("datamanager.urls")),
    path("", include("importers.urls")),
    path("", include("exporters.urls")),
    path("", include("ml.urls")),
    path("", include("webhooks.urls")),
    path("", include("io_storages.urls")),
    path("", include("frontend.urls")),
]

# JSON for the API and scripts, an HTML page with a way back for a browser asking for
# HTML (frontend.views.error_*, which hand the rest to labelhub.errors.json_*).
handler403 = "frontend.views.error_403"
handler404 = "frontend.views.error_404"
handler500 = "frontend.views.error_500"
