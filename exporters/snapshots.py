"""Export snapshots (Label Studio's ``/api/projects/{id}/exports/``): create, build, convert.

The build is a job of the one job framework (``labelhub.jobs``: one run at a time under
a lock that lives as long as its worker process, a dead worker's job marked failed), as
imports and training are. It reads every task in one REPEATABLE READ
transaction on PostgreSQL, so annotations written while a long export runs never make
it inconsistent (the file holds the database as it was when the export started). The
file is written to a temporary file, stored in the media storage under a fresh key, and
only then is the row set ``completed`` with its key, md5 and counters, in one UPDATE. A
worker killed at any moment leaves the row ``in_progress`` with its lock free: the next
look at it (the API, or a worker starting) marks it ``failed``; it is never ``completed``
with a half file. A conversion (``ConvertedFormat``, Label Studio's shape with its
``traceback``) is a job of the framework too (``CONVERT``), with the same guarantees.
"""

import hashlib
import logging
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import ijson
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, transaction

from datamanager import query as query_format
from datamanager import services as saved_views
from datamanager.models import View
from exporters import selectors
from exporters.formats import FORMATS
from exporters.formats.context import WriterContext
from exporters.formats.writers import WRITERS
from exporters.models import ConvertedFormat, ExportSnapshot
from exporters.selectors import TaskFilter
from exporters.services import (
    _error,
    chunk_guard,
    format_check,
    project_schema,
    query_parse,
    with_key_frames,
)
from labelhub import jobs
from labelhub.validation import MAX_ID
from projects.models import Project

logger = logging.getLogger(__name__)
Status = ExportSnapshot.Status
LOCK_CLASS = 0x4C45  # "LE": the advisory-lock namespace for export jobs
CONVERT_LOCK_CLASS = LOCK_CLASS + 1
WORKER_LOST = "The worker stopped during the export; no file was kept. Create the export again."
CONVERT_LOST = "The worker stopped during the conversion; no file was kept. Convert again."
PROGRESS_EVERY = 1.0  # seconds between progress writes

# Projects with at most this many tasks build their exports (and conversions) in the
# request, as Label Studio's community edition does, so the POST answers a finished
# export (``finished_at``, ``md5``) that can be downloaded at once; larger ones go to the
# job queue and the client polls. The same idempotent, locked job body runs either way.
INLINE_MAX_TASKS = 1000

MODES = (None, "only", "exclude")
TASK_OPTIONS = {"view", "skipped", "finished", "annotated", "only_with_annotations", "reviewed"}
ANNOTATION_OPTIONS = {"usual", "ground_truth", "skipped", "reviewed"}
SERIALIZATION_OPTIONS = {
    "drafts",
    "predictions",
    "annotations__completed_by",
    "include_annotation_history",
    "interpolate_key_frames",
    "full_descriptions",
}


# ----------------------------------------------------------------------------- options


def _object(data, name: str, allowed: set[str]) -> dict:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise _error(name, "must be an object")
    for key in data:
        if key not in allowed:
            raise _error(f"{name}.{key}", f"unknown option; one of {', '.join(sorted(allowed))}")
    return data


def _mode(data: dict, name: str, key: str) -> str | None:
    value = data.get(key)
    if value not in MODES:
        raise _error(f"{name}.{key}", "must be only, exclude or null")
    return value


def _bool(data: dict, name: str, key: str, default: bool) -> bool:
    value = data.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _error(f"{name}.{key}", "must be true or false")
    return value


def _only_id(data: dict, name: str, key: str) -> bool:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise _error(f"{name}.{key}", 'must be an object like {"only_id": true}')
    only_id = value.get("only_id", False)
    if not isinstance(only_id, bool):
        raise _error(f"{name}.{key}.only_id", "must be true or false")
    return only_id


def snapshot_options_parse(payload: dict) -> dict:
    """Check Label Studio's snapshot options; returns the fields of the row (400 naming
    the option, e.g. ``task_filter_options.skipped``, for anything else)."""
    task = _object(payload.get("task_filter_options"), "task_filter_options", TASK_OPTIONS)
    annotation = _object(
        payload.get("annotation_filter_options"), "annotation_filter_options", ANNOTATION_OPTIONS
    )
    serialization = _object(
        payload.get("serialization_options"), "serialization_options", SERIALIZATION_OPTIONS
    )
    for key in ("skipped", "finished", "annotated", "reviewed"):
        _mode(task, "task_filter_options", key)
    _bool(task, "task_filter_options", "only_with_annotations", False)
    if task.get("view") is not None and (
        isinstance(task["view"], bool) or not isinstance(task["view"], int | str)
    ):
        raise _error("task_filter_options.view", "must be a view id")
    for key in ("usual", "ground_truth", "skipped"):
        _bool(annotation, "annotation_filter_options", key, True)
    _mode(annotation, "annotation_filter_options", "reviewed")
    for key in ("drafts", "predictions", "annotations__completed_by"):
        _only_id(serialization, "serialization_options", key)
    for key in ("include_annotation_history", "interpolate_key_frames", "full_descriptions"):
        _bool(serialization, "serialization_options", key, key == "full_descriptions")
    title = payload.get("title") or ""
    if not isinstance(title, str) or len(title) > 2048:
        raise _error("title", "must be a string of at most 2048 characters")
    return {
        "title": title,
        "task_filter_options": task,
        "annotation_filter_options": annotation,
        "serialization_options": serialization,
    }


def snapshot_task_filter(snapshot: ExportSnapshot) -> TaskFilter:
    task = snapshot.task_filter_options or {}
    annotation = snapshot.annotation_filter_options or {}
    serialization = snapshot.serialization_options or {}
    # Label Studio's defaults: usual true, the others false; all false keeps every one.
    kinds = frozenset(
        kind
        for kind, default in (("usual", True), ("ground_truth", False), ("skipped", False))
        if annotation.get(kind, default)
    )
    return TaskFilter(
        download_all_tasks=not task.get("only_with_annotations", False),
        only_accepted=annotation.get("reviewed") == "only",
        annotation_kinds=kinds or None,
        include_predictions=not (serialization.get("predictions") or {}).get("only_id", False),
        finished=task.get("finished"),
        annotated=task.get("annotated"),
        skipped=task.get("skipped"),
        reviewed=task.get("reviewed"),
    )


def _annotator(snapshot: ExportSnapshot) -> str:
    completed_by = (snapshot.serialization_options or {}).get("annotations__completed_by") or {}
    return "id" if completed_by.get("only_id") else "email"


# ------------------------------------------------------------------------------ create


def view_query(*, project: Project, view_id) -> dict | None:
    """The query of ``task_filter_options.view``: the saved view's filters and selected
    items, when the view is one of this project's; else None, and the export holds every
    task, as Label Studio does with a view it cannot find (it logs and goes on)."""
    try:
        pk = int(view_id)
    except (TypeError, ValueError):
        return None
    view = View.objects.filter(project=project, pk=pk).first() if 1 <= pk <= MAX_ID else None
    if view is None:
        logger.info("export of project %s: no view %r in it; ignored", project.pk, view_id)
        return None
    raw = saved_views.view_query(view)
    selected = view.data.get("selectedItems")
    if isinstance(selected, dict) and (selected.get("all") or selected.get("included")):
        raw["selectedItems"] = selected
    return raw


def snapshot_create(*, project: Project, user, payload: dict) -> ExportSnapshot:
    """The row; the caller builds it or enqueues the build (``snapshot_build_enqueue``). A
    ``task_filter_options.view`` becomes the stored query (the view's filters as they
    are now), with the payload's own ``query`` over it."""
    fields = snapshot_options_parse(payload)
    raw_query = query_format.load(payload.get("query")) if payload.get("query") else None
    view_id = fields["task_filter_options"].get("view")
    if view_id is not None:
        stored = view_query(project=project, view_id=view_id)
        if stored is not None:
            raw_query = {**stored, **(raw_query or {})}
    query = query_parse(raw_query)  # a 400 naming the bad part, before anything is written
    snapshot = ExportSnapshot.objects.create(
        project=project,
        created_by=user,
        query=raw_query if query is not None else None,
        **fields,
    )
    return snapshot


def builds_inline(*, project: Project) -> bool:
    return project.task_number <= INLINE_MAX_TASKS


def snapshot_build_enqueue(snapshot: ExportSnapshot) -> None:
    """Enqueue the build (``labelhub.jobs``) once the snapshot row is committed."""
    jobs.job_enqueue_on_commit(snapshot)


# ------------------------------------------------------------------------------- build


class _Progress:
    """Writes ``processed`` (and ``progress``) about once a second from a thread of its
    own: that thread has its own database connection, so the progress is committed and
    visible while the export's long read transaction is still open."""

    def __init__(self, snapshot: ExportSnapshot) -> None:
        self.snapshot = snapshot
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.last = 0.0
        self.total = 0

    def _write(self, processed: int) -> None:
        jobs.job_progress(
            self.snapshot, min(processed / max(self.total, 1), 0.99), processed=processed
        )

    def __call__(self, processed: int) -> None:
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY:
            self.last = now
            self.pool.submit(self._write, processed)

    def close(self) -> None:
        self.pool.submit(connection.close)
        self.pool.shutdown(wait=True)


def _counted(tasks: Iterator[dict], counters: dict, progress) -> Iterator[dict]:
    for task in tasks:
        counters["task_number"] += 1
        counters["annotation_number"] += len(task.get("annotations") or ())
        counters["prediction_number"] += len(task.get("predictions") or ())
        progress(counters["task_number"])
        yield task


def _store(chunks: Iterator[bytes], key_prefix: str, suffix: str) -> tuple[str, str]:
    """Write chunks to a temporary file, then to the storage under a fresh key:
    ``(key, md5)``. Nothing is stored unless every chunk was written."""
    digest = hashlib.md5(usedforsecurity=False)
    with tempfile.TemporaryFile() as handle:
        for chunk in chunks:
            digest.update(chunk)
            handle.write(chunk)
        handle.seek(0)
        key = default_storage.save(f"{key_prefix}-{uuid.uuid4().hex[:12]}{suffix}", File(handle))
    return key, digest.hexdigest()


def _repeatable_read() -> bool:
    """Start the read transaction at REPEATABLE READ (PostgreSQL, outside any other
    transaction); True when the export reads one consistent snapshot."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return False
    transaction.set_autocommit(False)
    with connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    return True


def snapshot_build(*, snapshot_id: int) -> None:
    """Build a snapshot's JSON file if no live worker holds it and it is not finished
    (the job framework's run, as a worker does it; small projects call it in the
    request)."""
    jobs.job_run(kind=KIND_NAME, job_id=snapshot_id)


def snapshot_build_body(snapshot: ExportSnapshot) -> None:
    snapshot_id = snapshot.pk
    ExportSnapshot.objects.filter(pk=snapshot_id).update(processed=0)
    progress = _Progress(snapshot)
    consistent = _repeatable_read()
    try:
        project = snapshot.project
        task_filter = snapshot_task_filter(snapshot)
        query = query_parse(snapshot.query)
        tasks = selectors.export_tasks_queryset(
            project=project, task_filter=task_filter, query=query
        )
        total = progress.total = tasks.count()
        progress.pool.submit(
            lambda: ExportSnapshot.objects.filter(pk=snapshot_id).update(total=total)
        )
        counters = {"task_number": 0, "annotation_number": 0, "prediction_number": 0}
        ctx = WriterContext(
            project_id=project.pk,
            schema=project_schema(project),
            annotator=_annotator(snapshot),
            full_descriptions=(snapshot.serialization_options or {}).get("full_descriptions", True),
        )
        guard = chunk_guard(query)
        rows = _counted(
            selectors.export_task_dicts(tasks, task_filter=task_filter, guard=guard),
            counters,
            progress,
        )
        if (snapshot.serialization_options or {}).get("interpolate_key_frames"):
            rows = with_key_frames(rows)
        key, md5 = _store(WRITERS["JSON"](ctx, rows), f"export/{project.pk}/{snapshot_id}", ".json")
    except Exception as exc:
        if consistent:
            transaction.rollback()
            transaction.set_autocommit(True)
        progress.close()
        logger.exception("export %s failed", snapshot_id)
        raise jobs.JobFailed(CRASHED.format(error=type(exc).__name__)) from None
    if consistent:
        transaction.commit()
        transaction.set_autocommit(True)
    progress.close()
    jobs.job_complete(
        snapshot,
        file=key,
        md5=md5,
        counters=counters,
        processed=counters["task_number"],
        total=counters["task_number"],
    )


KIND_NAME = "export"
CRASHED = "The export failed on the server ({error})."
KIND = jobs.Kind(
    name=KIND_NAME,
    model=ExportSnapshot,
    lock_namespace=LOCK_CLASS,
    body=snapshot_build_body,
    worker_lost=WORKER_LOST,
    queue_down="The job queue could not be reached ({error}).",
    crashed=CRASHED,
    select_related=("project",),
)


# ----------------------------------------------------------------------------- convert


def convert_request(
    *, snapshot: ExportSnapshot, export_type: str, download_resources
) -> ConvertedFormat:
    format_check(project=snapshot.project, export_type=export_type, field_name="export_type")
    if export_type == "JSON":
        raise _error("export_type", "the snapshot already is JSON")
    if snapshot.status != Status.COMPLETED:
        raise _error("export", f"the export is {snapshot.status}, not completed")
    if not isinstance(download_resources, bool):
        raise _error("download_resources", "must be true or false")
    converted, created = ConvertedFormat.objects.get_or_create(
        snapshot=snapshot,
        export_type=export_type,
        defaults={"download_resources": download_resources},
    )
    if not created and converted.status == Status.FAILED:
        # A failed conversion is queued again as a fresh run of the same row.
        jobs.job_queue_again(converted, download_resources=download_resources)
        created = True
    converted.needs_run = created
    return converted


def _snapshot_tasks(key: str) -> Iterator[dict]:
    with default_storage.open(key, "rb") as handle:
        yield from ijson.items(handle, "item", use_float=True)


def _snapshot_data_keys(key: str) -> list[str]:
    keys: set[str] = set()
    for task in _snapshot_tasks(key):
        if isinstance(task.get("data"), dict):
            keys.update(task["data"])
    return sorted(keys)


def convert_enqueue(converted: ConvertedFormat) -> None:
    """Enqueue the conversion (``labelhub.jobs``) once its row is committed."""
    jobs.job_enqueue_on_commit(converted)


def snapshot_convert(*, converted_id: int) -> None:
    """Convert if no live worker holds the conversion and it is not finished (the job
    framework's run, as a worker does it; small projects call it in the request)."""
    jobs.job_run(kind=CONVERT_NAME, job_id=converted_id)


def snapshot_convert_body(converted: ConvertedFormat) -> None:
    """Write a converted format from the snapshot's JSON file (streamed with ijson) to
    the media storage under a fresh key; the row is ``completed`` with that key in one
    UPDATE, so a conversion is never ``completed`` without its whole file."""
    snapshot = converted.snapshot
    info = FORMATS[converted.export_type]
    ctx = WriterContext(
        project_id=snapshot.project_id,
        schema=project_schema(snapshot.project),
        annotator=_annotator(snapshot),
        download_resources=converted.download_resources,
        data_keys=lambda: _snapshot_data_keys(snapshot.file),
    )
    chunks = WRITERS[converted.export_type](ctx, _snapshot_tasks(snapshot.file))
    suffix = ".zip" if info.archive else f".{info.extension}"
    key, _ = _store(chunks, f"export/{snapshot.project_id}/{snapshot.pk}-{info.name}", suffix)
    jobs.job_complete(converted, file=key)


CONVERT_NAME = ConvertedFormat.job_kind
CONVERT = jobs.Kind(
    name=CONVERT_NAME,
    model=ConvertedFormat,
    lock_namespace=CONVERT_LOCK_CLASS,
    body=snapshot_convert_body,
    worker_lost=CONVERT_LOST,
    queue_down="The job queue could not be reached ({error}).",
    crashed="The conversion failed on the server ({error}: {message}).",
    select_related=("snapshot__project",),
)


def snapshot_delete(*, snapshot: ExportSnapshot) -> None:
    keys = [snapshot.file, *snapshot.converted_formats.values_list("file", flat=True)]
    snapshot.delete()
    for key in keys:
        if key:
            transaction.on_commit(lambda key=key: default_storage.delete(key))
