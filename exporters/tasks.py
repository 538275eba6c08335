"""Celery tasks: thin, idempotent wrappers over exporters.snapshots."""

from celery import shared_task
from celery.signals import worker_ready
from django.db import close_old_connections, transaction

from exporters import snapshots


@shared_task(name="exporters.snapshot_build", acks_late=True, reject_on_worker_lost=True)
def snapshot_build(snapshot_id: int) -> None:
    snapshots.snapshot_build(snapshot_id=snapshot_id)


@shared_task(name="exporters.snapshot_convert", acks_late=True, reject_on_worker_lost=True)
def snapshot_convert(converted_id: int) -> None:
    snapshots.snapshot_convert(converted_id=converted_id)


@worker_ready.connect
def _sweep_abandoned_exports(**kwargs) -> None:
    """A starting worker fails the exports whose worker died (their locks are free)."""
    try:
        snapshots.snapshots_sweep()
    finally:
        close_old_connections()


def _enqueue(task, kind: str, object_id: int) -> None:
    try:
        task.apply_async((object_id,))
    except Exception as exc:  # kombu raises several kinds for an unreachable broker
        snapshots.job_failed_to_queue(kind, object_id, exc)


def snapshot_build_enqueue(snapshot_id: int) -> None:
    """Enqueue the build once the snapshot row is committed."""
    transaction.on_commit(lambda: _enqueue(snapshot_build, "build", snapshot_id))


def snapshot_convert_enqueue(converted_id: int) -> None:
    transaction.on_commit(lambda: _enqueue(snapshot_convert, "convert", converted_id))
