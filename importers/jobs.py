"""The import job's body, run by the one job framework (``labelhub.jobs``).

The job's files live in ``work_dir`` (under the data directory, which web and worker
share) or, with ``S3_*``, in the bucket, until it ends. The tasks and ``completed`` are
written in one transaction, so a worker killed at any moment leaves no tasks behind; the
framework then finds the job ``in_progress`` with its lock free and marks it ``failed``.
A redelivered message for a job that is not finished runs it again from the start (safe,
since nothing of it was written); for a finished job it does nothing. Jobs are created
and enqueued by ``importers.services.job_create``.
"""

import shutil
import time
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction

from importers.models import ImportJob
from importers.progress import ProgressFile
from importers.services import files_import
from importers.sources import ImportFile, imports_root, work_dir
from labelhub import jobs
from labelhub.errors import ApiError

WORKER_LOST = "The worker stopped during the import; nothing was imported. Import the file again."
QUEUE_DOWN = (
    "The job queue could not be reached, so the import was not started and nothing was "
    "imported. Try again when the queue (Redis) is back."
)
CRASHED = "The import failed on the server ({error}); nothing was imported."


def _job_files(job: ImportJob) -> tuple[list[ImportFile], Path]:
    """The job's files on this machine: downloaded from the bucket into a fresh local
    folder when they live there, else the job's own folder."""
    if not any(item.get("key") for item in job.files):
        return [
            ImportFile(Path(item["path"]), item["name"], item.get("kind")) for item in job.files
        ], Path(job.work_dir)
    folder = work_dir()
    files = []
    for index, item in enumerate(job.files):
        target = folder / f"{index}-{Path(item['key']).name}"
        with default_storage.open(item["key"], "rb") as source, open(target, "wb") as out:
            shutil.copyfileobj(source, out, 1024 * 1024)
        files.append(ImportFile(target, item["name"], item.get("kind")))
    return files, folder


def work_dir_remove(job: ImportJob) -> None:
    """Remove the job's folder (only ever one under the imports root)."""
    if job.work_dir and Path(job.work_dir).resolve().is_relative_to(imports_root().resolve()):
        shutil.rmtree(job.work_dir, ignore_errors=True)


def _files_drop(job: ImportJob) -> None:
    """At the end of a run: the job's folder, and its files in the bucket with the local
    copy made of them."""
    work_dir_remove(job)
    keys = [item["key"] for item in job.files if item.get("key")]
    for key in keys:
        default_storage.delete(key)
    folder = getattr(job, "local_folder", None)
    if keys and folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def import_job_body(job: ImportJob) -> None:
    started = time.monotonic()
    files, job.local_folder = _job_files(job)
    user = job.created_by or job.project.created_by
    try:
        with transaction.atomic():
            result = files_import(
                project=job.project,
                files=files,
                user=user,
                options=job.options,
                folder=job.local_folder,
                progress=ProgressFile(job),
            )
            jobs.job_complete(
                job,
                processed=result.task_count + result.skipped_count,
                total=result.task_count + result.skipped_count,
                task_count=result.task_count,
                annotation_count=result.annotation_count,
                prediction_count=result.prediction_count,
                skipped_count=result.skipped_count,
                task_id_ranges=result.ids.ranges,
                duration=time.monotonic() - started,
            )
    except ApiError as exc:
        raise jobs.JobFailed(
            str(exc.detail), exc.errors, duration=time.monotonic() - started
        ) from None


KIND = jobs.Kind(
    name="import",
    model=ImportJob,
    lock_namespace=0x4C48,  # "LH"
    body=import_job_body,
    worker_lost=WORKER_LOST,
    queue_down=QUEUE_DOWN,
    crashed=CRASHED,
    queue=lambda job_id: settings.LABELHUB_IMPORT_QUEUE or None,
    select_related=("project", "created_by"),
    lost=work_dir_remove,
    ended=_files_drop,
)
