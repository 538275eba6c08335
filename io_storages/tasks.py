"""Celery tasks: a target's write of one changed annotation, a thin wrapper over
io_storages.services (the syncs are jobs of ``labelhub.jobs``: ``io_storages.jobs``)."""

from celery import shared_task

from io_storages import services


@shared_task(name="io_storages.annotation_export", acks_late=True)
def annotation_export(project_id: int, annotation_id: int, deleted: bool) -> None:
    services.annotation_export(project_id=project_id, annotation_id=annotation_id, deleted=deleted)
