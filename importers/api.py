from django.conf import settings
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from importers import parsers, services
from labelhub.errors import ApiError
from projects import permissions as perms
from projects.label_config import ParsedConfig


def _flag(request, name: str) -> bool:
    return str(request.query_params.get(name, "")).lower() in {"1", "true", "yes"}


def read_body(request) -> bytes:
    """Read a JSON body straight from the stream, up to LABELHUB_MAX_IMPORT_SIZE.

    The import body can be far larger than DATA_UPLOAD_MAX_MEMORY_SIZE, which guards
    every other endpoint, so this view reads the stream itself with its own limit.
    """
    limit = settings.LABELHUB_MAX_IMPORT_SIZE
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > limit:
        raise ApiError(f"The import is larger than the limit of {limit} bytes.", status_code=413)
    body = request._request.read(limit + 1)
    if len(body) > limit:
        raise ApiError(f"The import is larger than the limit of {limit} bytes.", status_code=413)
    return body


class ProjectImportApi(APIView):
    def post(self, request, pk):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        parsed = ParsedConfig.from_dict(project.parsed_config)
        if request.content_type.startswith("multipart/form-data"):
            uploads = [f for key in request.FILES for f in request.FILES.getlist(key)]
            if not uploads:
                raise ApiError("No files were uploaded.")
            records: list = []
            for upload in uploads:
                if upload.size > settings.LABELHUB_MAX_IMPORT_SIZE:
                    raise ApiError(f"{upload.name} is larger than the import limit.", status_code=413)
                records.extend(parsers.parse_upload(upload.name, upload.read(), parsed))
        else:
            body = read_body(request)
            if not body.strip():
                raise ApiError("The request body is empty; send a JSON list of tasks or a task.")
            records = parsers.json_loads(body)
            if not isinstance(records, list):
                records = [records]
        result = services.tasks_import(project=project, records=records, user=request.user)
        return Response(
            result.as_dict(with_task_ids=_flag(request, "return_task_ids")),
            status=status.HTTP_201_CREATED,
        )
