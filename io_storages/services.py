"""Writes for storages of every kind, source and target: save, validate, sync, and the
per-annotation writes of targets.

Saving (create or a change of a connection field) and validating build the kind's
client, which vets the endpoint (``io_storages.endpoints``), and check that the
storage answers; any failure is a 400 that says why, and nothing is saved.

A sync never runs in the request. ``storage_sync_queue`` checks the storage is
reachable (400 if not), marks it ``queued`` under a row lock (a second request while one
is queued or running changes nothing) and the caller enqueues the job
(``io_storages.tasks``) once that commits. The job (``import_sync_run`` /
``export_sync_run``) runs under a ``labelhub.joblock`` lock, so one worker runs a storage
at a time and a worker that died is seen as dead (``storage_check_alive``): it moves
``queued`` -> ``in_progress`` -> ``completed`` or ``failed`` (with ``traceback``), as
Label Studio's ``StorageInfo`` does.

A source sync imports every object not imported before (one keyed lookup per listed
batch against ``ImportStorageLink``) through the importers' writer, one transaction per
batch of keys, and moves the storage's progress (``last_sync_count``, ``meta``) with
each; a bad record fails the sync, keeping the batches before it, and the next sync goes
on from there. A target sync writes one object per annotation, ``<prefix>/<annotation
id>``, in Label Studio's layout (the annotation with its task and annotator), with its
progress per batch too.
"""

import logging
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import orjson
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from annotations.models import Annotation
from annotations.representations import ANNOTATION_COLUMNS, annotation_row
from importers.formats.jsonfile import loads_with_position
from importers.media import media_key, media_type
from importers.records import TaskRow
from importers.services import parsed_config, records_import
from io_storages.backend import Backend, StorageError
from io_storages.filters import compile_filter, key_filter
from io_storages.kinds import KINDS, backend_for
from io_storages.models import (
    ExportStorage,
    ExportStorageLink,
    ImportStorage,
    ImportStorageLink,
    Status,
)
from labelhub import joblock
from labelhub.errors import ApiError
from tasks.representations import TASK_COLUMNS, task_row

logger = logging.getLogger(__name__)

IMPORT_LOCK = 0x4C53  # "LS": advisory-lock namespace of source syncs
EXPORT_LOCK = 0x4C54  # target syncs
WORKER_LOST = (
    "The worker stopped during the sync (it was killed or restarted); the batches it "
    "finished are kept. Sync again to go on from there."
)
QUEUE_DOWN = "The job queue could not be reached, so the sync was not started. Try again."


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


class SyncLock(joblock.JobLock):
    def __init__(self, storage) -> None:
        namespace = IMPORT_LOCK if is_source(storage) else EXPORT_LOCK
        side = "import" if is_source(storage) else "export"
        folder = Path(settings.DATA_DIR) / "storage-locks"
        super().__init__(namespace, storage.pk, folder / f"{side}-{storage.pk}.lock")

    def held_elsewhere(self) -> bool:
        """True while a worker runs this storage's sync."""
        if not self.acquire():
            return True
        self.release()
        return False


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


def storages_sweep() -> int:
    """Fail every sync whose worker is gone (run when a worker starts)."""
    count = 0
    for model in (ImportStorage, ExportStorage):
        for storage in model.objects.filter(status=Status.IN_PROGRESS):
            count += storage_check_alive(storage).status == Status.FAILED
    return count


def storage_check_alive(storage):
    """A storage ``in_progress`` whose job lock is free lost its worker: mark it failed."""
    if storage.status != Status.IN_PROGRESS:
        return storage
    lock = SyncLock(storage)
    if not lock.acquire():
        return storage
    try:
        type(storage).objects.filter(pk=storage.pk, status=Status.IN_PROGRESS).update(
            status=Status.FAILED, traceback=WORKER_LOST
        )
    finally:
        lock.release()
    storage.refresh_from_db()
    return storage


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
    """Check the storage answers (400 if not) and mark it ``queued`` for ``job_id``.
    Returns the row, or None when a sync is already queued or running."""
    if not storage.synchronizable:
        raise ApiError(f"Storage {storage.pk} is not synchronizable")
    storage_reachable(storage)
    storage_check_alive(storage)
    model = type(storage)
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=storage.pk)
        if (
            SyncLock(locked).held_elsewhere()
            or locked.status == Status.IN_PROGRESS
            or (locked.status == Status.QUEUED and not _queue_lost(locked))
        ):
            return None
        meta = {
            "attempts": int((locked.meta or {}).get("attempts", 0)) + 1,
            "time_queued": str(timezone.now()),
        }
        model.objects.filter(pk=storage.pk).update(
            status=Status.QUEUED,
            last_sync=None,
            last_sync_count=None,
            last_sync_job=job_id,
            traceback=None,
            meta=meta,
        )
    storage.refresh_from_db()
    return storage


def storage_sync_not_queued(storage) -> None:
    type(storage).objects.filter(pk=storage.pk, status=Status.QUEUED).update(
        status=Status.FAILED, traceback=QUEUE_DOWN
    )


def _start(model, storage_id: int):
    """The storage if it is queued, now marked in progress; else None (run once)."""
    storage = model.objects.select_related("project").filter(pk=storage_id).first()
    if storage is None or storage.status != Status.QUEUED:
        return None
    meta = dict(storage.meta or {})
    meta["time_in_progress"] = str(timezone.now())
    model.objects.filter(pk=storage_id).update(status=Status.IN_PROGRESS, meta=meta)
    storage.status, storage.meta = Status.IN_PROGRESS, meta
    return storage


def _failed(storage, message: str, **meta) -> None:
    merged = {**(storage.meta or {}), "time_failure": str(timezone.now()), **meta}
    type(storage).objects.filter(pk=storage.pk).update(
        status=Status.FAILED, traceback=message[:10000], meta=merged
    )


def _completed(storage, count: int, started: datetime, **meta) -> None:
    now = timezone.now()
    merged = {
        **(storage.meta or {}),
        "time_completed": str(now),
        "duration": (now - started).total_seconds(),
        **meta,
    }
    type(storage).objects.filter(pk=storage.pk).update(
        status=Status.COMPLETED, last_sync=now, last_sync_count=count, traceback=None, meta=merged
    )


def _run(model, storage_id: int, body) -> None:
    probe = model(pk=storage_id)
    lock = SyncLock(probe)
    if not lock.acquire():
        logger.info("storage %s %s: another worker holds it", model.__name__, storage_id)
        return
    try:
        storage = _start(model, storage_id)
        if storage is None:
            return
        started = timezone.now()
        try:
            body(storage, started)
        except StorageError as exc:
            _failed(storage, exc.message)
        except ApiError as exc:
            _failed(storage, str(exc.detail))
        except Exception as exc:
            logger.exception("storage sync %s %s failed", model.__name__, storage_id)
            _failed(storage, f"The sync failed on the server ({type(exc).__name__}: {exc}).")
    finally:
        lock.release()


# --------------------------------------------------------------------------- source sync


def _new_key_batches(storage, backend: Backend, size: int) -> Iterator[tuple[list[str], int]]:
    """(keys not imported yet, how many keys were skipped as imported) per listed batch of
    up to ``size`` keys that pass the filter: one keyed lookup per batch."""
    keep = key_filter(storage.regex_filter)
    page: list[str] = []

    def split(keys: list[str]) -> tuple[list[str], int]:
        unique = list(dict.fromkeys(keys))
        known = set(
            ImportStorageLink.objects.filter(storage=storage, key__in=unique).values_list(
                "key", flat=True
            )
        )
        return [key for key in unique if key not in known], len(known)

    for item in backend.iter_objects(recursive=storage.recursive_scan):
        if keep(item.key):
            page.append(item.key)
        if len(page) >= size:
            yield split(page)
            page = []
    if page:
        yield split(page)


def _records(storage, backend: Backend, pages, parsed, keys_out: list[str]) -> Iterator:
    """One record per object (``use_blob_urls``) or per task in each JSON/JSONL file;
    ``keys_out`` gets the key of each record, in order."""
    single = parsed.data_keys[0] if len(parsed.data_keys) == 1 else None
    for keys in pages:
        for key in keys:
            uri = backend.uri(key)
            if storage.use_blob_urls:
                kind = media_type(key)
                data_key = single or (media_key(parsed, kind, key) if kind else None)
                if data_key is None:
                    raise StorageError(
                        f"Cannot tell which data key {uri} is for: the labeling config reads "
                        "several keys and the file type is not a known media type."
                    )
                keys_out.append(key)
                yield TaskRow(data={data_key: uri}, meta={})
                continue
            body = backend.read(key)
            if key.lower().endswith(".jsonl"):
                for number, line in enumerate(body.splitlines(), start=1):
                    if line.strip():
                        keys_out.append(key)
                        yield loads_with_position(line, f"{uri}, line {number}")
                continue
            try:
                value = loads_with_position(body, uri)
            except ApiError as exc:
                raise StorageError(
                    f"{str(exc.detail).rstrip('.')}. If these are media files, not JSON task files, turn on "
                    "use_blob_urls."
                ) from None
            items = value if isinstance(value, list) else [value]
            keys_out.extend([key] * len(items))
            yield from items


class SyncProgress:
    """The running sync's counters, written to the storage row as Label Studio's
    ``StorageInfo.info_update_progress`` does: ``last_sync_count`` (tasks or annotations
    written so far by this sync) and ``meta`` (``time_last_ping``, ``duration`` and the
    kind of counts: ``tasks_existed`` for sources, ``total_annotations`` for targets).

    ``save`` runs inside each batch's transaction, so the count a reader sees is exactly
    what has committed; one UPDATE per batch."""

    def __init__(self, storage, started: datetime) -> None:
        self.storage = storage
        self.started = started
        self.count = 0
        self.counts: dict[str, int] = {}

    def add(self, name: str, value: int) -> None:
        self.counts[name] = self.counts.get(name, 0) + value

    def save(self) -> None:
        now = timezone.now()
        meta = {
            **(self.storage.meta or {}),
            "time_last_ping": str(now),
            "duration": (now - self.started).total_seconds(),
            **self.counts,
        }
        self.storage.meta = meta
        type(self.storage).objects.filter(pk=self.storage.pk).update(
            last_sync_count=self.count, meta=meta
        )


def _sync_batch() -> int:
    return max(1, settings.LABELHUB_STORAGE_SYNC_BATCH)


def import_sync_run(*, storage_id: int) -> None:
    """Import the new objects of a source, a batch of keys per transaction.

    Keys are listed in pages; each page's keys already linked (``ImportStorageLink``) are
    skipped and counted in ``meta.tasks_existed``. Each batch of up to
    ``LABELHUB_STORAGE_SYNC_BATCH`` new keys is imported in one transaction with its links
    and the progress counters, so what a reader sees has committed. A bad record fails
    its batch (the earlier ones stay) and the sync (``failed``, ``traceback`` naming the
    record); a worker that dies loses only its open batch. Either way the next sync
    starts where this one stopped, since imported keys are skipped: re-running a sync
    never duplicates a task."""

    def body(storage: ImportStorage, started) -> None:
        backend = backend_for(storage)
        project = storage.project
        parsed = parsed_config(project)
        user = project.created_by
        progress = SyncProgress(storage, started)
        progress.add("tasks_existed", 0)
        progress.save()
        for fresh, existed in _new_key_batches(storage, backend, _sync_batch()):
            progress.add("tasks_existed", existed)
            if not fresh:
                progress.save()
                continue
            keys: list[str] = []
            # The job lock (``_run``) keeps a second worker off this storage; the row
            # itself is not held, so a PATCH or a status read never waits for a batch.
            with transaction.atomic():
                records = _records(storage, backend, [fresh], parsed, keys)
                result = records_import(
                    project=project, records=records, user=user, allow_empty=True
                )
                ImportStorageLink.objects.bulk_create(
                    [
                        ImportStorageLink(storage=storage, task_id=task_id, key=key)
                        for task_id, key in zip(result.task_ids, keys, strict=True)
                    ],
                    batch_size=5000,
                )
                progress.count += result.task_count
                progress.save()
        _completed(storage, progress.count, started, **progress.counts)

    _run(ImportStorage, storage_id, body)


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
    _links_touch(storage, [annotation.pk])


def _links_touch(storage: ExportStorage, annotation_ids: list[int]) -> None:
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


def export_sync_run(*, storage_id: int) -> None:
    """Write every annotation of the project to a target, in pk order, a batch of
    ``LABELHUB_STORAGE_SYNC_BATCH`` at a time: the objects, then in one transaction
    their links and the progress (``last_sync_count`` so far, ``meta.total_annotations``).
    A re-sync overwrites each object with its current state (Label Studio's sync), so
    running it again, or after a failure, leaves the same objects."""

    def body(storage: ExportStorage, started) -> None:
        backend = backend_for(storage)
        annotations = (
            Annotation.objects.filter(project_id=storage.project_id)
            .select_related("task", "completed_by")
            .order_by("pk")
        )
        progress = SyncProgress(storage, started)
        progress.add("total_annotations", annotations.count())
        progress.save()
        size = _sync_batch()
        batch: list[int] = []

        def flush() -> None:
            with transaction.atomic():
                _links_touch(storage, batch)
                progress.count += len(batch)
                progress.save()
            batch.clear()

        for annotation in annotations.iterator(chunk_size=min(size, 2000)):
            backend.write(
                backend.target_key(object_name(annotation.pk)),
                orjson.dumps(annotation_document(annotation)),
            )
            batch.append(annotation.pk)
            if len(batch) >= size:
                flush()
        if batch:
            flush()
        _completed(storage, progress.count, started, **progress.counts)

    _run(ExportStorage, storage_id, body)


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
