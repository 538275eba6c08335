"""Reads for imports: an import job as the API answers it."""

from collections import Counter

from importers.models import ImportJob
from importers.progress import progress_read
from labelhub.jobs import job_fields


def extension(name: str, kind: str | None = None) -> str:
    """A file's format as Label Studio's ``found_formats`` names it (``.csv``); a request
    body is ``.json``."""
    base = name.rsplit("/", 1)[-1].lower()
    if "." in base:
        return "." + base.rsplit(".", 1)[-1]
    return f".{kind}" if kind else ""


def import_job_dict(job: ImportJob, *, with_task_ids: bool) -> dict:
    """Label Studio's ProjectImport fields, the fields every job answers
    (``labelhub.jobs.job_fields``), and the import's own. While the job runs, its live
    progress (read from where the worker writes it) fills ``processed``, ``total`` and
    ``progress``."""
    body = {
        **job_fields(job),
        "project": job.project_id,
        "processed": job.processed,
        "total": job.total,
        "progress": 1.0 if job.status == ImportJob.Status.COMPLETED else 0.0,
        "task_count": job.task_count,
        "annotation_count": job.annotation_count,
        "prediction_count": job.prediction_count,
        "skipped_count": job.skipped_count,
        "detail": job.error,
        "files": [item["name"] for item in job.files],
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
            Counter(extension(item["name"], item.get("kind")) for item in job.files)
        ),
        "data_columns": [],
        "tasks": None,
    }
    if job.status == ImportJob.Status.RUNNING:
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
