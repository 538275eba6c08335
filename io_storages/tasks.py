"""Celery tasks: thin, idempotent wrappers over io_storages.services, and their enqueueing
(after the commit that queued the storage)."""

import logging

from celery import shared_task
from celery.signals import worker_ready
from django.db import close_old_connections, transaction

from io_storages import services
from labelhub.errors import ApiError

logger = logging.getLogger(__name__)


@shared_task(name="io_storages.import_sync", acks_late=True, reject_on_worker_lost=True)
def import_sync(storage_id: int) -> None:
    services.import_sync_run(storage_id=storage_id)


@shared_task(name="io_storages.export_sync", acks_late=True, reject_on_worker_lost=True)
def export_sync(storage_id: int) -> None:
    services.export_sync_run(storage_id=storage_id)


@shared_task(name="io_storages.annotation_export", acks_late=True)
def annotation_export(project_id: int, annotation_id: int, deleted: bool) -> None:
    services.annotation_export(project_id=project_id, annotation_id=annotation_id, deleted=deleted)


@worker_ready.connect
def _sweep_abandoned_syncs(**kwargs) -> None:
    """A starting worker fails the syncs whose worker died (their locks are free)."""
    try:
        services.storages_sweep()
    finally:
        close_old_connections()


def sync_enqueue(storage) -> None:
    """Send the queued storage's sync to the workers once the transaction commits. With
    the queue unreachable the storage is marked failed and the request answers 503: a
    sync never runs in the request instead."""
    task = import_sync if services.is_source(storage) else export_sync

    def send() -> None:
        try:
            task.apply_async((storage.pk,), task_id=storage.last_sync_job, retry=False)
        except Exception as exc:  # kombu raises several kinds for an unreachable broker
            logger.exception("storage sync %s could not be queued", storage.pk)
            services.storage_sync_not_queued(storage)
            raise ApiError(services.QUEUE_DOWN, status_code=503) from exc

    transaction.on_commit(send)
