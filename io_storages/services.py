"""Writes for storages of every kind, source and target: save, validate, queue a sync,
and the per-annotation writes of targets.

Saving (create or a change of a connection field) and validating build the kind's
client, which vets the endpoint (``io_storages.endpoints``), and check that the
storage answers; any failure is a 400 that says why, and nothing is saved.

A sync never runs in the request. ``storage_sync_queue`` checks the storage is
reachable (400 if not), marks it ``queued`` under a row lock (a second request while one
is queued or running changes nothing) and enqueues its job once that commits: the
storage row is a job of ``labelhub.jobs`` (its bodies: ``io_storages.jobs``), which
moves it ``queued`` -> ``in_progress`` -> ``completed`` or ``failed`` (with
``traceback``), as Label Studio's ``StorageInfo`` does.
"""

import logging
import time
from datetime import datetime

import orjson
from django.db import transaction
from django.utils import timezone

from annotations.models import Annotation
from annotations.representations import ANNOTATION_COLUMNS, annotation_row
from io_storages.backend import Backend, StorageError
from io_storages.filters import compile_filter, key_filter
from io_storages.kinds import KINDS, backend_for
from io_storages.models import ExportStorage, ExportStorageLink, ImportStorage, Status
from labelhub import jobs
from labelhub.errors import ApiError
from tasks.representations import TASK_COLUMNS, task_row

logger = logging.getLogger(__name__)


def is_source(storage) -> bool:
    return isinstance(storage, ImportStorage)


def _api_error(exc: StorageError) -> ApiError:
    """A 400 naming the fields to fix in ``errors``; Label Studio's serializers raise a
    storage's connection errors without a field, so ``validation_errors`` has them under
    ``non_field_errors``."""
    names = exc.field if isinstance(exc.field, list) else [exc.field] if exc.field else []
    return ApiError(
        exc.message,
        [{"field": name, "message": exc.message} for name in names] or None,
        validation_errors={"non_field_errors": [exc.message]},
    )


# --------------------------------------------------------------------------- save


def storage_fill(storage, data: dict) -> bool:
    """Copy validated input onto the row: columns, ``options`` (the kind's plain fields)
    and ``credentials`` (its secrets; a blank or absent secret keeps the stored one, as
    Label Studio's forms send them). True when a field that reaches the storage changed."""
    spec = KINDS[storage.kind].FIELDS
    options = dict(storage.options or {})
    credentials = dict(storage.credentials or {})
    changed = False
    for field in spec:
        if field.name not in data:
            continue
        value = data[field.name]
        if field.secret:
            if value in (None, ""):
                continue
            changed |= credentials.get(field.name) != value
            credentials[field.name] = value
        else:
            changed |= options.get(field.name) != value
            options[field.name] = value
    storage.options, storage.credentials = options, credentials
    own = {field.name for field in spec}
    for name, value in data.items():
        if name in own or name in ("project", "id", "type"):
            continue
        if hasattr(storage, name):
            changed |= name in ("regex_filter", "recursive_scan", "prefix") and (
                getattr(storage, name) != value
            )
            setattr(storage, name, value)
    return changed


def storage_reachable(storage) -> Backend:
    """The kind's client after a check that the storage answers, else a 400 saying why."""
    try:
        compile_filter(storage.regex_filter)
        backend = backend_for(storage)
        backend.check(source=is_source(storage))
    except StorageError as exc:
        raise _api_error(exc) from None
    return backend


def storage_create(*, model, project, kind: str, data: dict):
    storage = model(project=project, kind=kind)
    storage_fill(storage, data)
    storage_reachable(storage)
    storage.save()
    return storage


def storage_update(*, storage, data: dict):
    if storage_fill(storage, data):
        storage_reachable(storage)
    storage.save()
    return storage


def storage_validate(*, storage, data: dict) -> Backend:
    """Check input (merged over ``storage``'s stored fields) without saving anything."""
    storage_fill(storage, data)
    return storage_reachable(storage)


# --------------------------------------------------------------------------- sync state


QUEUED_FOR_TOO_LONG = 3600  # seconds: a queued sync no worker took is queued again


def _queue_lost(storage) -> bool:
    """A sync queued this long ago and never started lost its message (a broker that
    restarted without it); another request may queue it again."""
    queued = (storage.meta or {}).get("time_queued")
    try:
        since = datetime.fromisoformat(str(queued))
    except (TypeError, ValueError):
        return True
    return (timezone.now() - since).total_seconds() > QUEUED_FOR_TOO_LONG


def storage_sync_queue(*, storage, job_id: str):
    """Check the storage answers (400 if not), mark it ``queued`` for ``job_id`` and send
    its job to the workers once that commits (a 503 when the queue cannot be reached: a
    sync never runs in the request instead). Returns the row, or None when a sync is
    already queued or running (its lock held by a live worker)."""
    if not storage.synchronizable:
        raise ApiError(f"Storage {storage.pk} is not synchronizable")
    storage_reachable(storage)
    jobs.job_check_alive(storage)
    model = type(storage)
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=storage.pk)
        if (
            jobs.JobLock(locked.job_kind, locked.pk).held_elsewhere()
            or locked.status == Status.RUNNING
            or (locked.status == Status.QUEUED and not _queue_lost(locked))
        ):
            return None
        meta = {
            "attempts": int((locked.meta or {}).get("attempts", 0)) + 1,
            "time_queued": str(timezone.now()),
        }
        jobs.job_queue_again(
            locked, last_sync=None, last_sync_count=None, last_sync_job=job_id, meta=meta
        )
        storage.refresh_from_db()
        transaction.on_commit(lambda: _sync_enqueue(storage))
    return storage


def _sync_enqueue(storage) -> None:
    """Send the queued sync to the workers (the Celery task's id is ``last_sync_job``);
    an unreachable queue fails it and answers 503."""
    if not jobs.job_enqueue(storage, task_id=storage.last_sync_job):
        raise ApiError(storage.error, status_code=503)


# --------------------------------------------------------------------------- target writes


def annotation_document(annotation: Annotation) -> dict:
    """An annotation as a target stores it (Label Studio's storage layout): the annotation,
    its task (without the other annotations) and its annotator."""
    body = annotation_row({column: getattr(annotation, column) for column in ANNOTATION_COLUMNS})
    task = annotation.task
    body["task"] = task_row({column: getattr(task, column) for column in TASK_COLUMNS})
    user = annotation.completed_by
    body["completed_by"] = (
        {
            "id": user.pk,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
        }
        if user is not None
        else None
    )
    return body


def object_name(annotation_id: int) -> str:
    return str(annotation_id)


def _write(storage: ExportStorage, backend: Backend, annotation: Annotation) -> None:
    key = backend.target_key(object_name(annotation.pk))
    backend.write(key, orjson.dumps(annotation_document(annotation)))
    links_touch(storage, [annotation.pk])


def links_touch(storage: ExportStorage, annotation_ids: list[int]) -> None:
    """Record that ``storage`` holds these annotations, now: one INSERT (existing links
    kept) and one UPDATE of their time, whatever the batch size."""
    now = timezone.now()
    ExportStorageLink.objects.bulk_create(
        [
            ExportStorageLink(storage=storage, annotation_id=pk, created_at=now, updated_at=now)
            for pk in annotation_ids
        ],
        ignore_conflicts=True,
    )
    ExportStorageLink.objects.filter(storage=storage, annotation_id__in=annotation_ids).update(
        updated_at=now
    )


def annotation_export(*, project_id: int, annotation_id: int, deleted: bool) -> None:
    """After an annotation is created, changed or deleted: write (or, where the target may
    delete objects, remove) its object in each of the project's targets. A target that
    fails is logged and left for its next sync; the others still get the change."""
    storages = list(ExportStorage.objects.filter(project_id=project_id).select_related("project"))
    if not storages:
        return
    annotation = None
    if not deleted:
        annotation = (
            Annotation.objects.select_related("task", "completed_by")
            .filter(pk=annotation_id, project_id=project_id)
            .first()
        )
        if annotation is None:
            return  # deleted since; its delete event does the rest
    for storage in storages:
        try:
            backend = backend_for(storage)
            if annotation is not None:
                _write(storage, backend, annotation)
            elif storage.can_delete_objects:
                links = ExportStorageLink.objects.filter(
                    storage=storage, annotation_id=annotation_id
                )
                if links.exists():
                    backend.delete(backend.target_key(object_name(annotation_id)))
                    links.delete()
        except StorageError as exc:
            logger.warning(
                "target storage %s: annotation %s not written: %s",
                storage.pk,
                annotation_id,
                exc.message,
            )


# --------------------------------------------------------------------------- resolve


def storage_for_uri(*, project_id: int, uri: str) -> tuple[ImportStorage, str] | None:
    """The project's source that holds ``uri`` (``s3://bucket/key``, ...) and the key."""
    scheme = uri.split("://", 1)[0] if "://" in uri else ""
    kinds = [name for name, module in KINDS.items() if module.Backend.scheme == scheme]
    if not kinds:
        return None
    for storage in ImportStorage.objects.filter(project_id=project_id, kind__in=kinds).order_by(
        "pk"
    ):
        container = storage.option(KINDS[storage.kind].Backend.container_field, "")
        head = f"{scheme}://{container}/"
        if not uri.startswith(head) or len(uri) <= len(head):
            continue
        key = uri[len(head) :]
        # Only objects under the storage's prefix (Redis: its path): a member may not
        # read the rest of a bucket through the proxy.
        scope = str(storage.option("path" if storage.kind == "redis" else "prefix", "") or "")
        if key.startswith(scope):
            return storage, key
    return None


def storage_object_url(*, storage: ImportStorage, key: str) -> tuple[str | None, Backend]:
    """A presigned URL for ``key`` (when the storage presigns and the kind can), else None
    and the backend to proxy the object through."""
    try:
        backend = backend_for(storage)
        if storage.presign:
            url = backend.presigned_url(key, max(1, storage.presign_ttl) * 60)
            if url:
                return url, backend
    except StorageError as exc:
        raise _api_error(exc) from None
    return None, backend


def listing(*, storage, limit: int, seconds: float = 30.0) -> list[dict]:
    """Up to ``limit`` objects that pass the filter, as ``/files`` shows them (Label
    Studio's markers: a null key after the limit, a note when the scan timed out)."""
    backend = storage_reachable(storage)
    keep = key_filter(storage.regex_filter)
    deadline = time.monotonic() + seconds
    files: list[dict] = []
    try:
        for item in backend.iter_objects(recursive=getattr(storage, "recursive_scan", False)):
            if not keep(item.key):
                continue
            files.append({"key": item.key, "last_modified": item.last_modified, "size": item.size})
            if len(files) >= limit:
                files.append({"key": None, "last_modified": None, "size": None})
                break
            if time.monotonic() > deadline:
                files.append(
                    {
                        "key": "... storage scan timeout reached ...",
                        "last_modified": None,
                        "size": None,
                    }
                )
                break
    except StorageError as exc:
        raise _api_error(exc) from None
    return files
