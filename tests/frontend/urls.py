"""The project's URLs plus the browser tests' media (a PNG and a WAV made by the tests)."""

from django.urls import re_path
from django.views.static import serve

from labelhub.urls import handler403, handler404, handler500  # noqa: F401
from labelhub.urls import urlpatterns as project_urlpatterns

MEDIA = {"root": None}


def media(request, path):
    return serve(request, path, document_root=MEDIA["root"])


urlpatterns = [re_path(r"^test-media/(?P<path>.+)$", media), *project_urlpatterns]
