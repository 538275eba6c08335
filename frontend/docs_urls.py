"""The API docs pages (Swagger UI over the schema that labelhub/urls.py serves), under a
CSP: the split view serves its script from a URL, no inline script. Included by string
from the root URLs, so nothing below imports the frontend."""

from django.urls import path
from drf_spectacular.views import SpectacularSwaggerSplitView

from frontend.csp import DOCS, csp

urlpatterns = [
    path("api/docs/", csp(DOCS)(SpectacularSwaggerSplitView.as_view(url_name="schema"))),
    path(
        "docs/api/schema/swagger-ui/",
        csp(DOCS)(SpectacularSwaggerSplitView.as_view(url_name="docs-schema")),
    ),
]
