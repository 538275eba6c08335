"""The source and target syncs, as kinds of the one job framework (``labelhub.jobs``);
registered in ``IoStoragesConfig.ready``. The storage row is the job (Label Studio keeps
a sync's state on its storage): ``io_storages.services.storage_sync_queue`` marks it
``queued`` and enqueues it, the framework's runner takes it ``in_progress`` under the
kind's lock (one worker per storage; a dead worker's sync is failed by the next look or
by a starting worker), and the body below ends it ``completed`` or ``failed``.

A source sync imports every object not imported before (one keyed lookup per listed
batch against ``ImportStorageLink``) through the importers' writer, one transaction per
batch of keys, and moves the storage's progress (``last_sync_count``, ``meta``) with
each; a bad record fails the sync, keeping the batches before it, and the next sync goes
on from there. A target sync writes one object per annotation, ``<prefix>/<annotation
id>``, in Label Studio's layout (the annotation with its task and annotator), with its
progress per batch too.
"""

from collections.abc import Iterator
from datetime import datetime

import orjson
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from annotations.models import Annotation
from importers.formats.jsonfile import loads_with_position
from importers.media import media_key, media_type
from importers.records import TaskRow
from importers.services import parsed_config, records_import
from io_storages.backend import Backend, StorageError
from io_storages.filters import key_filter
from io_storages.kinds import backend_for
from io_storages.models import ExportStorage, ImportStorage, ImportStorageLink
from io_storages.services import annotation_document, links_touch, object_name
from labelhub import jobs
from labelhub.errors import ApiError

WORKER_LOST = (
    "The worker stopped during the sync (it was killed or restarted); the batches it "
    "finished are kept. Sync again to go on from there."
)
QUEUE_DOWN = "The job queue could not be reached, so the sync was not started. Try again."
CRASHED = "The sync failed on the server ({error}: {message})."


def _now() -> str:
    return str(timezone.now())


def _sync_batch() -> int:
    return max(1, settings.LABELHUB_STORAGE_SYNC_BATCH)


class SyncProgress:
    """The running sync's counters, written to the storage row as Label Studio's
    ``StorageInfo.info_update_progress`` does: ``last_sync_count`` (tasks or annotations
    written so far by this sync) and ``meta`` (``time_last_ping``, ``duration`` and the
    kind of counts: ``tasks_existed`` for sources, ``total_annotations`` for targets),
    and the job's ``progress`` where the total is known (a target's annotations; a
    source's objects are listed as it goes, so its fraction moves only at the end).

    ``save`` runs inside each batch's transaction, so the count a reader sees is exactly
    what has committed; one UPDATE per batch."""

    def __init__(self, storage, total: int | None = None) -> None:
        self.storage = storage
        self.started = storage.started_at or timezone.now()
        self.total = total
        self.count = 0
        self.counts: dict[str, int] = {}
        storage.meta = {**(storage.meta or {}), "time_in_progress": str(self.started)}

    def add(self, name: str, value: int) -> None:
        self.counts[name] = self.counts.get(name, 0) + value

    def _meta(self, stamp: str, now: datetime) -> dict:
        return {
            **(self.storage.meta or {}),
            stamp: str(now),
            "duration": (now - self.started).total_seconds(),
            **self.counts,
        }

    def save(self) -> None:
        fraction = self.count / self.total if self.total else 0.0
        jobs.job_progress(
            self.storage,
            min(fraction, 0.99),
            last_sync_count=self.count,
            meta=self._meta("time_last_ping", timezone.now()),
        )

    def complete(self) -> None:
        now = timezone.now()
        jobs.job_complete(
            self.storage,
            last_sync=now,
            last_sync_count=self.count,
            meta=self._meta("time_completed", now),
        )


def _failed(storage) -> None:
    """Any end but ``completed`` (the body's failure, a crash, a lost worker, a queue
    that could not be reached): ``meta.time_failure``, as Label Studio stamps it."""
    meta = {**(storage.meta or {}), "time_failure": _now()}
    type(storage).objects.filter(pk=storage.pk).update(meta=meta)
    storage.meta = meta


def _failing(body):
    """The body with the storage's own errors as the job's failure: a ``StorageError``
    (the storage refused or could not be reached) or an ``ApiError`` (a bad record,
    naming it) is the sentence Label Studio shows as ``traceback``."""

    def run(storage) -> None:
        try:
            body(storage)
        except StorageError as exc:
            names = exc.field if isinstance(exc.field, list) else [exc.field] if exc.field else []
            raise jobs.JobFailed(
                exc.message, [{"field": name, "message": exc.message} for name in names]
            ) from None
        except ApiError as exc:
            raise jobs.JobFailed(str(exc.detail), exc.errors) from None

    return run


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


def import_sync_body(storage: ImportStorage) -> None:
    """Import the new objects of a source, a batch of keys per transaction.

    Keys are listed in pages; each page's keys already linked (``ImportStorageLink``) are
    skipped and counted in ``meta.tasks_existed``. Each batch of up to
    ``LABELHUB_STORAGE_SYNC_BATCH`` new keys is imported in one transaction with its links
    and the progress counters, so what a reader sees has committed. A bad record fails
    its batch (the earlier ones stay) and the sync (``failed``, ``traceback`` naming the
    record); a worker that dies loses only its open batch. Either way the next sync
    starts where this one stopped, since imported keys are skipped: re-running a sync
    never duplicates a task."""
    backend = backend_for(storage)
    project = storage.project
    parsed = parsed_config(project)
    user = project.created_by
    progress = SyncProgress(storage)
    progress.add("tasks_existed", 0)
    progress.save()
    for fresh, existed in _new_key_batches(storage, backend, _sync_batch()):
        progress.add("tasks_existed", existed)
        if not fresh:
            progress.save()
            continue
        keys: list[str] = []
        # The job lock keeps a second worker off this storage; the row itself is not
        # held, so a PATCH or a status read never waits for a batch.
        with transaction.atomic():
            records = _records(storage, backend, [fresh], parsed, keys)
            result = records_import(project=project, records=records, user=user, allow_empty=True)
            ImportStorageLink.objects.bulk_create(
                [
                    ImportStorageLink(storage=storage, task_id=task_id, key=key)
                    for task_id, key in zip(result.task_ids, keys, strict=True)
                ],
                batch_size=5000,
            )
            progress.count += result.task_count
            progress.save()
    progress.complete()


# --------------------------------------------------------------------------- target sync


def export_sync_body(storage: ExportStorage) -> None:
    """Write every annotation of the project to a target, in pk order, a batch of
    ``LABELHUB_STORAGE_SYNC_BATCH`` at a time: the objects, then in one transaction
    their links and the progress (``last_sync_count`` so far, ``meta.total_annotations``).
    A re-sync overwrites each object with its current state (Label Studio's sync), so
    running it again, or after a failure, leaves the same objects."""
    backend = backend_for(storage)
    annotations = (
        Annotation.objects.filter(project_id=storage.project_id)
        .select_related("task", "completed_by")
        .order_by("pk")
    )
    total = annotations.count()
    progress = SyncProgress(storage, total)
    progress.add("total_annotations", total)
    progress.save()
    size = _sync_batch()
    batch: list[int] = []

    def flush() -> None:
        with transaction.atomic():
            links_touch(storage, batch)
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
    progress.complete()


def _kind(name: str, model, lock_namespace: int, body) -> jobs.Kind:
    return jobs.Kind(
        name=name,
        model=model,
        lock_namespace=lock_namespace,
        body=_failing(body),
        worker_lost=WORKER_LOST,
        queue_down=QUEUE_DOWN,
        crashed=CRASHED,
        select_related=("project",),
        failed=_failed,
        lost=_failed,
    )


IMPORT_SYNC = _kind(ImportStorage.job_kind, ImportStorage, 0x4C53, import_sync_body)  # "LS"
EXPORT_SYNC = _kind(ExportStorage.job_kind, ExportStorage, 0x4C54, export_sync_body)
