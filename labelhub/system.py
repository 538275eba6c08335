"""System endpoints at Label Studio's paths: ``/health/``, ``/version/`` and the ``/api/``
root. They name the release and nothing about the server's settings or the caller."""

import html
import json

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from rest_framework.response import Response
from rest_framework.views import APIView


def versions() -> dict:
    """Label Studio's ``collect_versions()`` shape, with LabelHub's release."""
    release = settings.RELEASE
    return {
        "release": release,
        "label-studio-os-package": {
            "version": release,
            "short_version": ".".join(release.split(".")[:2]),
            "latest_version_from_pypi": None,
            "latest_version_upload_time": None,
            "current_version_is_outdated": False,
        },
        "label-studio-os-backend": {
            "message": "",
            "commit": "",
            "date": "",
            "branch": "",
            "version": release,
        },
        "edition": "Community",
        "name": "labelhub",
    }


def health(request):
    """No log-in, no database: the process answers (as Label Studio's)."""
    return JsonResponse({"status": "UP"})


def version_page(request):
    """``/version/``: the versions as a ``<pre>`` page, as Label Studio shows them."""
    text = html.escape(json.dumps(versions(), indent=2, ensure_ascii=False))
    return HttpResponse(f"<pre>{text}</pre>")


class ApiRootApi(APIView):
    """``GET /api/``: Label Studio's router root (its one registered list, users)."""

    def get(self, request):
        return Response({"users": request.build_absolute_uri("/api/users/")})
