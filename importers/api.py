"""Import endpoints: the import itself, background job status, samples.

``POST /api/projects/{id}/import`` takes a JSON body (a list of tasks, one task or a
cloud manifest), multipart files, or ``url=`` (form field or query parameter). Small
imports run in the request and answer ``{task_count, annotation_count, prediction_count,
duration}``; imports above the thresholds answer ``{"import": id}`` at once and run as a
Celery job, whose state ``GET /api/projects/{id}/imports/{import_id}/`` reports.

With ``?return_task_ids=true`` (a Label Studio script reads ``task_ids`` from the import's
answer) a background import is waited for, up to ``LABELHUB_IMPORT_WAIT_SECONDS``: the
answer is then the in-request one plus ``import``; past the bound it is a 202 with the job
and ``poll``, the status URL that carries ``task_ids`` once the job is done.
"""

import time
import zipfile
from collections import Counter

import orjson
import rarfile
from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from importers import archives, samples, ssrf, uploads
from importers.jobs import import_record, job_check_alive, job_create, progress_read
from importers.manifests import KINDS, is_manifest
from importers.models import FileUpload, ImportJob
from importers.services import files_import, parsed_config, predictions_import
from importers.sources import (
    ImportFile,
    file_kind,
    spool_stream,
    spool_upload,
    work_dir,
    work_dir_release,
    work_dir_remove,
)
from labelhub.errors import ApiError
from labelhub.jsonlimits import check_bytes
from labelhub.params import is_false, is_true
from labelhub.validation import MAX_ID, id_value
from projects import permissions as perms
from projects.selectors import object_for_user


def _flag(request, name: str) -> bool:
    value = request.query_params.get(name)
    if value is None and request.content_type.startswith(("multipart/", "application/x-www-form")):
        value = request.data.get(name)
    return is_true(value)


def _gather(request, folder) -> list[ImportFile]:
    """Spool whatever the request carries to files in ``folder``."""
    content_type = request.content_type or ""
    url = request.query_params.get("url")
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > settings.LABELHUB_MAX_IMPORT_SIZE:
        # Refused before Django parses (and spools) a multipart body of that size.
        raise ApiError(
            f"The import is larger than the limit of {settings.LABELHUB_MAX_IMPORT_SIZE} bytes.",
            status_code=413,
        )
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        url = url or request.data.get("url")
        uploads = [f for key in request.FILES for f in request.FILES.getlist(key)]
        if uploads:
            return [spool_upload(upload, folder, index) for index, upload in enumerate(uploads)]
        if not url:
            raise ApiError("No files were uploaded and no url was given.")
    if url:
        target = folder / "0000-url"
        name = ssrf.fetch(str(url).strip(), target)
        return [ImportFile(target, name)]
    return [
        spool_stream(
            request._request, folder / "0000-body", "request body", declared=declared, kind="json"
        )
    ]


def _is_body(files: list[ImportFile]) -> bool:
    """Whether ``_gather`` read the request body itself (not uploaded files or a URL)."""
    return len(files) == 1 and files[0].path.name == "0000-body"


def _estimated_tasks(item: ImportFile) -> int:
    """A cheap count (or upper bound) of the tasks in a file under the byte threshold."""
    kind = item.kind or file_kind(item.name)
    if kind == "json":
        raw = item.path.read_bytes()
        check_bytes(raw, item.name)  # refused here, before orjson builds anything
        try:
            value = orjson.loads(raw.removeprefix(b"\xef\xbb\xbf"))
        except orjson.JSONDecodeError:
            return 1  # the import itself reports where
        if isinstance(value, list):
            return len(value)
        if is_manifest(value):
            return sum(len(v) for k, v in value.items() if k in KINDS and isinstance(v, list))
        return 1
    if kind in ("jsonl", "csv", "tsv", "txt"):
        with open(item.path, "rb") as fh:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b"")) + 1
    if kind in ("zip", "rar"):
        # Limits and member names are checked now, so a bomb is refused in the request.
        count = archives.check(item.path, item.name)
        with (zipfile.ZipFile if kind == "zip" else rarfile.RarFile)(item.path) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
        if expanded > settings.LABELHUB_ASYNC_IMPORT_BYTES:
            return settings.LABELHUB_ASYNC_IMPORT_TASKS + 1
        return count
    return 1


def runs_in_background(files: list[ImportFile]) -> bool:
    if sum(item.size for item in files) > settings.LABELHUB_ASYNC_IMPORT_BYTES:
        return True
    total = 0
    for item in files:
        total += _estimated_tasks(item)
        if total > settings.LABELHUB_ASYNC_IMPORT_TASKS:
            return True
    return False


class ProjectImportApi(APIView):
    def post(self, request, pk):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        options = {"skip_duplicate_urls": _flag(request, "skip_duplicate_urls")}
        fields = request.query_params.getlist("preannotated_from_fields")
        fields = [f.strip() for raw in fields for f in raw.split(",") if f.strip()]
        if fields:
            options["preannotated_from_fields"] = fields
        folder = work_dir()
        background = False
        started = timezone.now()
        try:
            files = _gather(request, folder)
            if is_false(request.query_params.get("commit_to_project")):
                return _uploads_kept(request, project, files, folder)
            if runs_in_background(files):
                with transaction.atomic():
                    job = job_create(
                        project=project,
                        user=request.user,
                        files=files,
                        folder=folder,
                        options=options,
                    )
                background = True
                work_dir_release(folder)  # the job owns the folder now
                if _flag(request, "return_task_ids"):
                    return _job_waited(job.pk, project_id=project.pk)
                return Response({"import": job.pk}, status=status.HTTP_201_CREATED)
            kept: list[FileUpload] = []
            if _is_body(files):  # a JSON body keeps no upload, as in Label Studio
                result = files_import(
                    project=project, files=files, user=request.user, options=options, folder=folder
                )
            else:
                result, kept = uploads.files_import_kept(
                    project=project, files=files, user=request.user, options=options, folder=folder
                )
            job = import_record(
                project=project, user=request.user, files=files, result=result, started=started
            )
        finally:
            if not background:
                work_dir_remove(folder)
        return Response(
            {
                **result.as_dict(with_task_ids=_flag(request, "return_task_ids")),
                "import": job.pk,
                "file_upload_ids": [upload.pk for upload in kept],
                "could_be_tasks_list": any(
                    file_kind(item.name) in uploads.TABLES for item in files
                ),
                "found_formats": dict(Counter(_extension(item.name, item.kind) for item in files)),
            },
            status=status.HTTP_201_CREATED,
        )


class ImportPredictionsApi(APIView):
    """``POST /api/projects/{id}/import/predictions``: a JSON list of predictions for
    existing tasks; ``{"created": n}`` (201), or a 400 listing every bad item and
    nothing written."""

    def post(self, request, pk):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        created = predictions_import(project=project, items=request.data)
        return Response({"created": created}, status=status.HTTP_201_CREATED)


def _uploads_kept(request, project, files, folder) -> Response:
    """``commit_to_project=false``: keep the files as uploads, make no task, and answer
    what they hold (Label Studio's first step; ``reimport`` is the second). Files above
    the background thresholds are not parsed in the request: their count is estimated."""
    started = time.monotonic()
    if runs_in_background(files):
        preview = {
            "task_count": sum(_estimated_tasks(item) for item in files),
            "found_formats": {},
            "data_columns": [],
            "could_be_tasks_list": False,
        }
    else:
        preview = uploads.uploads_preview(project=project, files=files, folder=folder)
    saved = uploads.uploads_save(project=project, user=request.user, files=files)
    return Response(
        {
            "task_count": preview["task_count"],
            "annotation_count": None,
            "prediction_count": None,
            "duration": round(time.monotonic() - started, 3),
            "file_upload_ids": [upload.pk for upload in saved],
            "could_be_tasks_list": preview["could_be_tasks_list"],
            "found_formats": preview["found_formats"],
            "data_columns": preview["data_columns"],
        },
        status=status.HTTP_201_CREATED,
    )


class ReimportApi(APIView):
    """``POST /api/projects/{id}/reimport`` ``{file_upload_ids, files_as_tasks_list}``:
    tasks from uploads kept by ``commit_to_project=false``, replacing those an earlier
    re-import of them made; Label Studio's answer, plus ``reimport`` (the record that
    ``/reimports/{id}/`` shows). Runs in the request, so uploads above the background
    import size are refused: import those directly."""

    def post(self, request, pk):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        body = request.data if isinstance(request.data, dict) else {}
        ids = body.get("file_upload_ids")
        if not ids:
            return Response(
                {
                    "task_count": 0,
                    "annotation_count": 0,
                    "prediction_count": 0,
                    "duration": 0,
                    "file_upload_ids": [],
                    "found_formats": {},
                    "data_columns": [],
                },
                status=status.HTTP_200_OK,
            )
        if not isinstance(ids, list) or not all(type(i) is int and 0 < i <= MAX_ID for i in ids):
            raise ApiError(
                "file_upload_ids must be a list of upload ids",
                [{"field": "file_upload_ids", "message": "not a list of integers"}],
            )
        as_list = body.get("files_as_tasks_list", True)
        as_list = as_list if isinstance(as_list, bool) else not is_false(as_list)
        size = sum(
            FileUpload.objects.filter(project=project, pk__in=ids).values_list("size", flat=True)
        )
        if size > settings.LABELHUB_ASYNC_IMPORT_BYTES:
            raise ApiError(
                "These uploads are too large to re-import in the request; import the files "
                "directly (POST /api/projects/{id}/import), which runs large imports as a job.",
                [{"field": "file_upload_ids", "message": "too large to re-import"}],
            )
        folder = work_dir()
        try:
            result, options, job = uploads.uploads_reimport(
                project=project,
                user=request.user,
                ids=ids,
                files_as_tasks_list=as_list,
                folder=folder,
            )
        finally:
            work_dir_remove(folder)
        return Response(
            {
                "task_count": result.task_count,
                "annotation_count": result.annotation_count,
                "prediction_count": result.prediction_count,
                "duration": round(result.duration, 3),
                "file_upload_ids": options["file_upload_ids"],
                "found_formats": options["found_formats"],
                "data_columns": options["data_columns"],
                "reimport": job.pk,
            },
            status=status.HTTP_201_CREATED,
        )


class ReimportDetailApi(APIView):
    """Label Studio's ProjectReimport shape for a recorded re-import."""

    def get(self, request, pk, reimport_id):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        job = ImportJob.objects.filter(
            project=project, pk=reimport_id, options__kind="reimport"
        ).first()
        if job is None:
            raise ApiError("Not found.", status_code=404)
        return Response(
            {
                "id": job.pk,
                "project": project.pk,
                "status": job.status,
                "error": job.detail or None,
                "task_count": job.task_count,
                "annotation_count": job.annotation_count,
                "prediction_count": job.prediction_count,
                "duration": job.duration,
                "file_upload_ids": job.options.get("file_upload_ids", []),
                "files_as_tasks_list": job.options.get("files_as_tasks_list", True),
                "found_formats": job.options.get("found_formats", {}),
                "data_columns": job.options.get("data_columns", []),
            }
        )


def _id_list(raw, field: str) -> list[int]:
    """Ids as Label Studio's clients send them: a JSON list (``[1,2]``) or ``1,2``."""
    if isinstance(raw, str):
        text = raw.strip()
        try:
            raw = orjson.loads(text) if text.startswith("[") else text.split(",")
        except orjson.JSONDecodeError:
            raw = None
    if not isinstance(raw, list):
        raise ApiError(
            f"{field} must be a list of ids", [{"field": field, "message": "not a list"}]
        )
    return [id_value(item, field) for item in raw if str(item).strip()]


class FileUploadListApi(APIView):
    """``GET /api/projects/{id}/file-uploads?all=true`` (or ``?ids=[1,2]``): the kept
    uploads; ``DELETE`` with ``{"file_upload_ids": [...]}`` (or none: all of them)
    answers ``{"deleted": n}``."""

    def get(self, request, pk):
        project = perms.project_for(request.user, pk)
        ordering = request.query_params.get("ordering") or "id"
        if ordering.lstrip("-") not in ("id", "created_at", "size", "name"):
            raise ApiError(
                "ordering: unknown field",
                [{"field": "ordering", "message": "one of id, created_at, size, name"}],
            )
        rows = FileUpload.objects.filter(project=project).order_by(ordering, "id")
        if not _flag(request, "all"):
            given = request.query_params.getlist("ids") or ["[]"]
            wanted = (
                _id_list(given[0], "ids")
                if len(given) == 1
                else [i for raw in given for i in _id_list(raw, "ids")]
            )
            rows = rows.filter(pk__in=wanted)
        return Response([uploads.upload_dict(upload) for upload in rows[:10_000]])

    def delete(self, request, pk):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        body = request.data if isinstance(request.data, dict) else {}
        raw = body.get("file_upload_ids")
        ids = None if raw is None else _id_list(raw, "file_upload_ids")
        return Response({"deleted": uploads.uploads_delete(project=project, ids=ids)})


class FileUploadApi(APIView):
    """``/api/import/file-upload/{id}``: one kept upload; ``PATCH`` (or ``PUT``) with a
    multipart ``file`` replaces its content; ``DELETE`` forgets it."""

    def get(self, request, pk):
        upload = object_for_user(FileUpload, user=request.user, pk=pk)
        return Response(uploads.upload_dict(upload))

    def patch(self, request, pk):
        upload = object_for_user(FileUpload, user=request.user, pk=pk, capability=perms.MANAGE)
        given = [f for key in request.FILES for f in request.FILES.getlist(key)]
        if len(given) > 1:
            raise ApiError("Give one file.", [{"field": "file", "message": "one file only"}])
        if given:
            folder = work_dir()
            try:
                source = spool_upload(given[0], folder, 0)
                with transaction.atomic():
                    upload = uploads.upload_replace(upload=upload, source=source)
            finally:
                work_dir_remove(folder)
        return Response(uploads.upload_dict(upload))

    def put(self, request, pk):
        return self.patch(request, pk)

    def delete(self, request, pk):
        upload = object_for_user(FileUpload, user=request.user, pk=pk, capability=perms.MANAGE)
        with transaction.atomic():
            uploads.upload_delete(upload=upload)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _job_waited(job_id: int, *, project_id: int) -> Response:
    """Wait (bounded) for a background import whose task ids the caller asked for. Inside
    an outer transaction the job is only enqueued at its commit, so there is nothing to
    wait for: the answer is at once the job to poll."""
    seconds = (
        0 if transaction.get_connection().in_atomic_block else settings.LABELHUB_IMPORT_WAIT_SECONDS
    )
    deadline = time.monotonic() + seconds
    while True:
        job = ImportJob.objects.get(pk=job_id)
        if job.is_finished or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    if job.status == ImportJob.Status.FAILED:
        raise ApiError(job.detail or "The import failed.", job.errors)
    if job.status == ImportJob.Status.COMPLETED:
        body = job_as_dict(job, with_task_ids=True)
        keys = ("task_count", "annotation_count", "prediction_count", "duration", "task_ids")
        answer = {"import": job.pk, **{key: body[key] for key in keys}}
        if job.skipped_count:
            answer["skipped_count"] = job.skipped_count
        return Response(answer, status=status.HTTP_201_CREATED)
    poll = f"/api/projects/{project_id}/imports/{job.pk}/?return_task_ids=true"
    return Response(
        {"import": job.pk, "status": job.status, "poll": poll}, status=status.HTTP_202_ACCEPTED
    )


def _extension(name: str, kind: str | None = None) -> str:
    """A file's format as Label Studio's ``found_formats`` names it (``.csv``); a request
    body is ``.json``."""
    base = name.rsplit("/", 1)[-1].lower()
    if "." in base:
        return "." + base.rsplit(".", 1)[-1]
    return f".{kind}" if kind else ""


def job_as_dict(job: ImportJob, *, with_task_ids: bool) -> dict:
    body = {
        "id": job.pk,
        "project": job.project_id,
        "status": job.status,
        "processed": job.processed,
        "total": job.total,
        "progress": 1.0 if job.status == ImportJob.Status.COMPLETED else 0.0,
        "task_count": job.task_count,
        "annotation_count": job.annotation_count,
        "prediction_count": job.prediction_count,
        "skipped_count": job.skipped_count,
        "detail": job.detail,
        "error": job.detail,
        "errors": job.errors,
        "files": [item["name"] for item in job.files],
        "attempts": job.attempts,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "duration": job.duration,
        # Label Studio's ProjectImport fields that have a meaning here.
        "commit_to_project": True,
        "return_task_ids": with_task_ids,
        "preannotated_from_fields": None,
        "url": None,
        "updated_at": job.finished_at or job.started_at or job.created_at,
        "file_upload_ids": [],
        "could_be_tasks_list": False,
        "found_formats": dict(
            Counter(_extension(item["name"], item.get("kind")) for item in job.files)
        ),
        "data_columns": [],
        "tasks": None,
    }
    if job.status == ImportJob.Status.IN_PROGRESS:
        live = progress_read(job)
        if live:
            body["processed"] = live.get("processed", 0)
            done, total = live.get("bytes_done", 0), live.get("bytes_total") or 0
            body["bytes_done"], body["bytes_total"] = done, total
            body["progress"] = round(min(done / total, 0.99), 4) if total else 0.0
            if done and total:
                body["total"] = max(body["processed"], round(body["processed"] * total / done))
    if with_task_ids:
        body["task_ids"] = [
            pk for first, last in job.task_id_ranges for pk in range(first, last + 1)
        ]
    return body


class ImportJobListApi(APIView):
    def get(self, request, pk):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        jobs = ImportJob.objects.filter(project=project).order_by("-id")[:100]
        return Response([job_as_dict(job, with_task_ids=False) for job in jobs])


class ImportJobApi(APIView):
    def get(self, request, pk, import_id):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        job = ImportJob.objects.filter(project=project, pk=import_id).first()
        if job is None:
            raise ApiError("Not found.", status_code=404)
        job = job_check_alive(job)
        return Response(job_as_dict(job, with_task_ids=_flag(request, "return_task_ids")))


class SampleTaskApi(APIView):
    """``GET``: a sample task for the project's config. ``POST {"label_config"}``: for an
    unsaved config (the config editor's preview)."""

    def get(self, request, pk):
        project = perms.project_for(request.user, pk, perms.VIEW)
        return Response({"sample_task": samples.sample_task(parsed_config(project))})

    def post(self, request, pk):
        project = perms.project_for(request.user, pk, perms.VIEW)
        xml = request.data.get("label_config") if isinstance(request.data, dict) else None
        parsed = samples.parse_or_400(xml) if xml else parsed_config(project)
        return Response({"sample_task": samples.sample_task(parsed)})


class SampleFileApi(APIView):
    """``GET ?format=json|jsonl|csv|tsv|txt``: a small file of sample tasks to download."""

    def perform_content_negotiation(self, request, force=False):
        # ``format`` names the sample's format here, not DRF's response renderer.
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    def get(self, request, pk):
        project = perms.project_for(request.user, pk, perms.VIEW)
        fmt = (request.query_params.get("format") or "json").lower()
        content, content_type = samples.sample_file(parsed_config(project), fmt)
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="sample-{project.pk}.{fmt}"'
        return response
