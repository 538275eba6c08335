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
    path("", include("io_storages.urls")),
    path("", include("frontend.urls")),
]

# JSON for the API and scripts, an HTML page with a way back for a browser asking for
# HTML (frontend.views.error_*, which hand the rest to labelhub.errors.json_*).
handler403 = "frontend.views.error_403"
handler404 = "frontend.views.error_404"
handler500 = "frontend.views.error_500"
