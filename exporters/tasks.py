"""Celery tasks: a conversion of a snapshot (the build itself is a job of
``labelhub.jobs``: ``exporters.snapshots.KIND``)."""

from celery import shared_task
from django.db import transaction

from exporters import snapshots


@shared_task(name="exporters.snapshot_convert", acks_late=True, reject_on_worker_lost=True)
def snapshot_convert(converted_id: int) -> None:
    snapshots.snapshot_convert(converted_id=converted_id)


def _enqueue(converted_id: int) -> None:
    try:
        snapshot_convert.apply_async((converted_id,))
    except Exception as exc:  # kombu raises several kinds for an unreachable broker
        snapshots.convert_failed_to_queue(converted_id, exc)


def snapshot_convert_enqueue(converted_id: int) -> None:
    """Enqueue the conversion once its row is committed."""
    transaction.on_commit(lambda: _enqueue(converted_id))
