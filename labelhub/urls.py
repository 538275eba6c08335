"""Root URLs: each app's ``urls.py`` carries its full paths (``api/`` included)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from frontend.csp import DOCS, csp

urlpatterns = [
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its script from a URL (no inline script), under a CSP.
    path("api/docs/", csp(DOCS)(SpectacularSwaggerSplitView.as_view(url_name="schema"))),
    path("", include("projects.urls")),
    path("", include("annotations.urls")),
    path("", include("datamanager.urls")),
    path("", include("importers.urls")),
    path("", include("exporters.urls")),
    path("", include("ml.urls")),
    path("", include("frontend.urls")),
]

handler404 = "labelhub.errors.json_404"
handler500 = "labelhub.errors.json_500"
