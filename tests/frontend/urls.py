"""The project's URLs plus the browser tests' media (made by the tests)."""

import mimetypes
from pathlib import Path

from django.http import Http404
from django.urls import re_path
from django.views.decorators.clickjacking import xframe_options_sameorigin

from labelhub.ranges import ranged_file_response
from labelhub.urls import handler403, handler404, handler500  # noqa: F401
from labelhub.urls import urlpatterns as project_urlpatterns

MEDIA = {"root": None}


@xframe_options_sameorigin  # as the upload view: the PDF tag embeds its document
def media(request, path):
    """The test media, with Range requests answered as the upload view does (browsers
    seek in video only then)."""
    root = Path(MEDIA["root"]).resolve()
    target = (root / path).resolve()
    if root not in target.parents or not target.is_file():
        raise Http404
    content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return ranged_file_response(
        request, target.open("rb"), size=target.stat().st_size, content_type=content_type
    )


urlpatterns = [re_path(r"^test-media/(?P<path>.+)$", media), *project_urlpatterns]
