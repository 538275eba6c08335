"""Export endpoints: formats, direct exports (``/api/projects/{id}/export``) and snapshots
(``/api/projects/{id}/exports/...``). Target storages live in ``io_storages``.
"""

from pathlib import PurePosixPath

from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from exporters import services, snapshots
from exporters.formats import FORMATS
from exporters.models import ConvertedFormat, ExportSnapshot
from labelhub.errors import ApiError
from labelhub.jobs import job_check_alive, job_fields, with_job_fields
from projects import permissions as perms


def export_response(*, project, options: services.ExportOptions, stream) -> StreamingHttpResponse:
    """A streamed download named ``project-<id>-at-<stamp>.<ext>`` (``.zip`` archives)."""
    info = FORMATS[options.export_type]
    content_type = "application/zip" if info.archive else info.content_type
    response = StreamingHttpResponse(stream, content_type=content_type)
    stamp = timezone.now().strftime("%Y-%m-%d-%H-%M-%S")
    extension = "zip" if info.archive else info.extension
    response["Content-Disposition"] = (
        f'attachment; filename="project-{project.pk}-at-{stamp}-{options.export_type.lower()}.{extension}"'
    )
    return response


class ProjectExportFormatsApi(APIView):
    """``GET /api/projects/{id}/export/formats``: Label Studio's list of formats."""

    def get(self, request, pk):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        return Response(services.export_formats(project=project))


class ProjectExportApi(APIView):
    """``GET /api/projects/{id}/export?exportType=X``: the export, streamed."""

    def get(self, request, pk):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        options = services.export_options_parse(project=project, params=request.query_params)
        stream = services.export_stream(project=project, options=options)
        return export_response(project=project, options=options, stream=stream)


def _user(user) -> dict | None:
    if user is None:
        return None
    return {
        "id": user.pk,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
    }


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if value else None


def converted_dict(converted: ConvertedFormat) -> dict:
    """Label Studio's ``ConvertedFormat`` shape (its ``traceback`` is the job's
    ``error``), then the fields every job answers that it lacks."""
    body = {
        "id": converted.pk,
        "export_type": converted.export_type,
        "status": converted.status,
        "traceback": converted.error or None,
    }
    return with_job_fields(body, converted)


def snapshot_dict(snapshot: ExportSnapshot) -> dict:
    """Label Studio's ``Export`` shape, the fields every job answers
    (``labelhub.jobs.job_fields``), and ``progress`` for the export dialog."""
    return {
        **job_fields(snapshot),
        "title": snapshot.title,
        "created_by": _user(snapshot.created_by),
        "created_at": _iso(snapshot.created_at),
        "finished_at": _iso(snapshot.finished_at),
        "status": snapshot.status,
        "md5": snapshot.md5 or None,
        "counters": snapshot.counters,
        # The export dialog's bar; the fraction every job has is ``fraction``.
        "progress": {"processed": snapshot.processed, "total": snapshot.total},
        "fraction": snapshot.progress,
        "detail": snapshot.error or None,
        "converted_formats": [converted_dict(c) for c in snapshot.converted_formats.all()],
        "task_filter_options": snapshot.task_filter_options,
        "annotation_filter_options": snapshot.annotation_filter_options,
        "serialization_options": snapshot.serialization_options,
    }


def _alive(snapshot: ExportSnapshot) -> ExportSnapshot:
    """The snapshot, with its build and its conversions whose worker died shown failed
    (``labelhub.jobs.job_check_alive``: a query only for one that is running)."""
    for converted in snapshot.converted_formats.all():
        job_check_alive(converted)
    return job_check_alive(snapshot)


def _snapshot(request, pk, export_pk) -> ExportSnapshot:
    project = perms.project_for(request.user, pk, perms.MANAGE)
    snapshot = (
        ExportSnapshot.objects.select_related("created_by", "project")
        .prefetch_related("converted_formats")
        .filter(project=project, pk=export_pk)
        .first()
    )
    if snapshot is None:
        raise NotFound()
    return _alive(snapshot)


class ProjectExportFilesApi(APIView):
    """``GET /api/projects/{id}/export/files``: the project's finished exports, newest
    first, in Label Studio's shape ``{"export_files": [{"name", "url"}]}``. Label Studio
    lists the JSON files of its export folder; ours are the completed snapshots, and each
    ``url`` is the snapshot's download path."""

    def get(self, request, pk):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        rows = (
            ExportSnapshot.objects.filter(project=project, status=ExportSnapshot.Status.COMPLETED)
            .order_by("-id")
            .values_list("pk", "file")
        )
        return Response(
            {
                "export_files": [
                    {
                        "name": PurePosixPath(key).stem or f"export-{snapshot_id}",
                        "url": f"/api/projects/{project.pk}/exports/{snapshot_id}/download",
                    }
                    for snapshot_id, key in rows
                ]
            }
        )


class ExportAuthCheckApi(APIView):
    """``GET /api/auth/export/`` with ``X-Original-URI: /export/<project id>-...``: a
    front proxy's ``auth_request`` check that the user may download that project's
    exports (Label Studio's answers: 200 ``auth ok``, 422 for a name without a project
    id, 404 for a project the user does not see, 403 without the manage right)."""

    def get(self, request):
        original = request.headers.get("X-Original-URI", "")
        name = original.replace("/export/", "", 1)
        try:
            project_id = int(name.split("-")[0])
        except ValueError:
            return Response(
                {"detail": "Incorrect filename in export"},
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        perms.project_for(request.user, project_id, perms.MANAGE)
        return Response({"detail": "auth ok"})


class ProjectExportsApi(APIView):
    """``GET/POST /api/projects/{id}/exports/``: the project's snapshots; create one."""

    def get(self, request, pk):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        rows = (
            ExportSnapshot.objects.filter(project=project)
            .select_related("created_by")
            .prefetch_related("converted_formats")
            .order_by("-id")
        )
        # A running export whose worker died shows as failed here too (the dialog polls).
        return Response([snapshot_dict(_alive(s)) for s in rows])

    def post(self, request, pk):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        if not isinstance(request.data, dict):
            raise ApiError(
                "the body must be a JSON object", [{"field": None, "message": "not an object"}]
            )
        inline = snapshots.builds_inline(project=project)
        with transaction.atomic():
            snapshot = snapshots.snapshot_create(
                project=project, user=request.user, payload=request.data
            )
            if not inline:
                snapshots.snapshot_build_enqueue(snapshot)
        if inline:
            snapshots.snapshot_build(snapshot_id=snapshot.pk)
        snapshot.refresh_from_db()
        return Response(snapshot_dict(snapshot), status=status.HTTP_201_CREATED)


class ProjectExportDetailApi(APIView):
    def get(self, request, pk, export_pk):
        return Response(snapshot_dict(_snapshot(request, pk, export_pk)))

    def delete(self, request, pk, export_pk):
        snapshot = _snapshot(request, pk, export_pk)
        with transaction.atomic():
            snapshots.snapshot_delete(snapshot=snapshot)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProjectExportDownloadApi(APIView):
    """``GET .../exports/{pk}/download?exportType=X``: the snapshot (JSON) or a
    completed conversion of it."""

    def get(self, request, pk, export_pk):
        snapshot = _snapshot(request, pk, export_pk)
        export_type = request.query_params.get("exportType") or "JSON"
        if export_type not in FORMATS:
            raise ApiError(
                f"exportType: unknown format {export_type!r}",
                [{"field": "exportType", "message": f"one of {', '.join(FORMATS)}"}],
            )
        if snapshot.status != ExportSnapshot.Status.COMPLETED:
            raise ApiError(
                f"the export is {snapshot.status}",
                [{"field": "export", "message": "not completed"}],
                status_code=status.HTTP_409_CONFLICT,
            )
        key = snapshot.file
        if export_type != "JSON":
            converted = next(
                (c for c in snapshot.converted_formats.all() if c.export_type == export_type), None
            )
            if converted is None or converted.status != ExportSnapshot.Status.COMPLETED:
                raise NotFound(f"{export_type} is not converted yet: POST .../convert first")
            key = converted.file
        info = FORMATS[export_type]
        extension = "zip" if info.archive else info.extension
        name = (
            f"project-{snapshot.project_id}-export-{snapshot.pk}-{export_type.lower()}.{extension}"
        )
        return FileResponse(
            default_storage.open(key, "rb"),
            as_attachment=True,
            filename=name,
            content_type="application/zip" if info.archive else info.content_type,
        )


class ProjectExportConvertApi(APIView):
    """``POST .../exports/{pk}/convert`` ``{export_type, download_resources}``."""

    def post(self, request, pk, export_pk):
        snapshot = _snapshot(request, pk, export_pk)
        data = request.data if isinstance(request.data, dict) else {}
        export_type = data.get("export_type") or data.get("exportType")
        if not export_type:
            raise ApiError(
                "export_type is required", [{"field": "export_type", "message": "required"}]
            )
        if not isinstance(export_type, str):
            raise ApiError(
                "export_type must be a format name",
                [{"field": "export_type", "message": "not a string"}],
            )
        inline = snapshots.builds_inline(project=snapshot.project)
        with transaction.atomic():
            converted = snapshots.convert_request(
                snapshot=snapshot,
                export_type=export_type,
                download_resources=data.get("download_resources", False),
            )
            if converted.needs_run and not inline:
                snapshots.convert_enqueue(converted)
        if converted.needs_run and inline:
            snapshots.snapshot_convert(converted_id=converted.pk)
        return Response({"export_type": export_type, "converted_format": converted.pk})
