from django.http import StreamingHttpResponse
from django.utils import timezone
from rest_framework.views import APIView

from exporters import services
from labelhub.errors import ApiError
from labelhub.params import is_true
from projects import permissions as perms


def _ids(raw_values: list[str]) -> list[int] | None:
    values = [v for raw in raw_values for v in raw.split(",") if v.strip()]
    if not values:
        return None
    try:
        return [int(v) for v in values]
    except ValueError as exc:
        raise ApiError(
            "ids must be task ids", [{"field": "ids", "message": "not an integer"}]
        ) from exc


class ProjectExportApi(APIView):
    def get(self, request, pk):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        params = request.query_params
        export_type = params.get("exportType") or params.get("export_type") or "JSON"
        download_all = is_true(params.get("download_all_tasks"))
        stream = services.export_stream(
            project=project,
            export_type=export_type,
            task_ids=_ids(params.getlist("ids") + params.getlist("ids[]")),
            download_all_tasks=download_all,
            only=params.get("only", ""),
        )
        response = StreamingHttpResponse(stream, content_type="application/json")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = (
            f'attachment; filename="project-{project.pk}-at-{stamp}.json"'
        )
        return response
