"""Where an import runs, and the import job's creation and enqueueing.

``project_import`` is the policy behind ``POST /api/projects/{id}/import``: small
imports run in the request; those above ``LABELHUB_ASYNC_IMPORT_BYTES`` or
``LABELHUB_ASYNC_IMPORT_TASKS`` become a job (``job_create``) run by the one job
framework (``labelhub.jobs``; its body is ``importers.jobs``). With
``return_task_ids`` a background import is waited for, up to
``LABELHUB_IMPORT_WAIT_SECONDS`` (``job_wait``), so a Label Studio script that reads
``task_ids`` from the answer gets them.
"""

import logging
import shutil
import time
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import orjson
import rarfile
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from importers import archives, uploads
from importers.jobs import QUEUE_DOWN
from importers.manifests import KINDS, is_manifest
from importers.models import ImportJob
from importers.selectors import extension, import_job_dict
from importers.services import ImportResult, files_import
from importers.sources import ImportFile, file_kind, work_dir_release
from labelhub import jobs
from labelhub.errors import ApiError
from labelhub.jsonlimits import check_bytes
from projects.models import Project

logger = logging.getLogger(__name__)

WAIT_POLL = 0.2  # seconds between two looks at a job waited for


@dataclass
class ImportAnswer:
    """What the import endpoint answers: ``body`` with ``status`` (an HTTP code)."""

    body: dict
    status: int
    background: bool = False  # a job took over the files' folder


# ------------------------------------------------------------------------ the policy


def estimated_tasks(item: ImportFile) -> int:
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
            # Checked and parsed already: an import in the request reads these records
            # (ijson and the nesting scan again took about a third of a 10k-task import).
            item.parsed = value
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


def is_body(files: list[ImportFile]) -> bool:
    """Whether the import view read the request body itself (not uploaded files or a URL)."""
    return len(files) == 1 and files[0].path.name == "0000-body"


def runs_in_background(files: list[ImportFile]) -> bool:
    if sum(item.size for item in files) > settings.LABELHUB_ASYNC_IMPORT_BYTES:
        return True
    total = 0
    for item in files:
        total += estimated_tasks(item)
        if total > settings.LABELHUB_ASYNC_IMPORT_TASKS:
            return True
    return False


def project_import(
    *,
    project: Project,
    user,
    files: list[ImportFile],
    folder: Path,
    options: dict,
    return_task_ids: bool,
) -> ImportAnswer:
    """Import ``files`` into the project, in the request or as a job. A job takes over
    ``folder`` (``answer.background``: the caller must not remove it then); otherwise
    the caller removes it."""
    started = timezone.now()
    if runs_in_background(files):
        for item in files:
            item.parsed = None  # the job reads its files itself
        with transaction.atomic():
            job = job_create(
                project=project, user=user, files=files, folder=folder, options=options
            )
        work_dir_release(folder)  # the job owns the folder now
        if return_task_ids:
            answer = job_wait(job_id=job.pk, project_id=project.pk)
            answer.background = True
            return answer
        return ImportAnswer({"import": job.pk}, 201, background=True)
    kept: list = []
    if is_body(files):  # a JSON body keeps no upload, as in Label Studio
        result = files_import(
            project=project, files=files, user=user, options=options, folder=folder
        )
    else:
        result, kept = uploads.files_import_kept(
            project=project, files=files, user=user, options=options, folder=folder
        )
    job = import_record(project=project, user=user, files=files, result=result, started=started)
    return ImportAnswer(
        {
            **result.as_dict(with_task_ids=return_task_ids),
            "import": job.pk,
            "file_upload_ids": [upload.pk for upload in kept],
            "could_be_tasks_list": any(file_kind(item.name) in uploads.TABLES for item in files),
            "found_formats": dict(Counter(extension(item.name, item.kind) for item in files)),
        },
        201,
    )


def uploads_keep(*, project: Project, user, files: list[ImportFile], folder: Path) -> dict:
    """``commit_to_project=false``: keep the files as uploads, make no task, and answer
    what they hold (Label Studio's first step; ``reimport`` is the second). Files above
    the background thresholds are not parsed in the request: their count is estimated."""
    started = time.monotonic()
    if runs_in_background(files):
        preview = {
            "task_count": sum(estimated_tasks(item) for item in files),
            "found_formats": {},
            "data_columns": [],
            "could_be_tasks_list": False,
        }
    else:
        preview = uploads.uploads_preview(project=project, files=files, folder=folder)
    saved = uploads.uploads_save(project=project, user=user, files=files)
    return {
        "task_count": preview["task_count"],
        "annotation_count": None,
        "prediction_count": None,
        "duration": round(time.monotonic() - started, 3),
        "file_upload_ids": [upload.pk for upload in saved],
        "could_be_tasks_list": preview["could_be_tasks_list"],
        "found_formats": preview["found_formats"],
        "data_columns": preview["data_columns"],
    }


def job_wait(*, job_id: int, project_id: int) -> ImportAnswer:
    """Wait (bounded) for a background import whose task ids the caller asked for. Inside
    an outer transaction the job is only enqueued at its commit, so there is nothing to
    wait for: the answer is at once the job to poll (202)."""
    seconds = (
        0 if transaction.get_connection().in_atomic_block else settings.LABELHUB_IMPORT_WAIT_SECONDS
    )
    deadline = time.monotonic() + seconds
    while True:
        job = ImportJob.objects.get(pk=job_id)
        if job.is_finished or time.monotonic() >= deadline:
            break
        time.sleep(WAIT_POLL)
    if job.status == ImportJob.Status.FAILED:
        raise ApiError(job.error or "The import failed.", job.errors)
    if job.status == ImportJob.Status.COMPLETED:
        body = import_job_dict(job, with_task_ids=True)
        keys = ("task_count", "annotation_count", "prediction_count", "duration", "task_ids")
        answer = {"import": job.pk, **{key: body[key] for key in keys}}
        if job.skipped_count:
            answer["skipped_count"] = job.skipped_count
        return ImportAnswer(answer, 201)
    poll = f"/api/projects/{project_id}/imports/{job.pk}/?return_task_ids=true"
    return ImportAnswer({"import": job.pk, "status": job.status, "poll": poll}, 202)


# ----------------------------------------------------------------------------- the job


def job_create(*, project, user, files: list[ImportFile], folder: Path, options: dict) -> ImportJob:
    """Record a job and enqueue it once the surrounding transaction commits.

    With ``S3_*`` set, the files go to the bucket (``imports/<job>/...``) so that a
    worker on another machine can read them; the web's local folder is removed once the
    job is committed. Otherwise they stay in the data directory's folder."""
    job = ImportJob.objects.create(
        project=project,
        created_by=user,
        files=[item.as_dict() for item in files],
        work_dir="" if settings.S3_MEDIA else str(folder),
        options=options,
        total_bytes=sum(item.size for item in files),
    )
    if settings.S3_MEDIA:
        stored = []
        for index, item in enumerate(files):
            with open(item.path, "rb") as handle:
                key = default_storage.save(
                    f"imports/{job.pk}/{index}-{item.path.name}", File(handle)
                )
            stored.append({**item.as_dict(), "path": "", "key": key})
        ImportJob.objects.filter(pk=job.pk).update(files=stored)
        job.files = stored
        transaction.on_commit(lambda: shutil.rmtree(folder, ignore_errors=True))
    transaction.on_commit(lambda: job_enqueue(job))
    return job


def job_enqueue(job: ImportJob) -> None:
    """Send the job to the workers; an unreachable queue fails it at once (the framework
    removes its folder) and the request answers 503: it never runs inline instead."""
    if not jobs.job_enqueue(job):
        raise ApiError(QUEUE_DOWN, status_code=503)


def import_record(
    *, project, user, files: list[ImportFile], result: ImportResult, started
) -> ImportJob:
    """Record an import that ran in the request as a finished job, so that
    ``/api/projects/{id}/imports/{id}/`` answers for it as for a background one (Label
    Studio records every import). No file is kept: only the names."""
    now = timezone.now()
    return ImportJob.objects.create(
        project=project,
        created_by=user,
        status=ImportJob.Status.COMPLETED,
        progress=1.0,
        files=[{"path": "", "name": item.name, "kind": item.kind} for item in files],
        total_bytes=sum(item.size for item in files),
        processed=result.task_count + result.skipped_count,
        total=result.task_count + result.skipped_count,
        task_count=result.task_count,
        annotation_count=result.annotation_count,
        prediction_count=result.prediction_count,
        skipped_count=result.skipped_count,
        task_id_ranges=result.ids.ranges,
        duration=result.duration,
        created_at=started,
        started_at=started,
        finished_at=now,
    )
