"""Celery tasks of ml that are not jobs (those run through ``labelhub.jobs``; their
kinds are in ``ml.jobs``)."""

from celery import shared_task

from ml.services import annotation_event_handle


@shared_task(name="ml.annotation_event", acks_late=True)
def annotation_event(project_id: int, action: str, annotation_id: int, task_id: int) -> None:
    annotation_event_handle(
        project_id=project_id, action=action, annotation_id=annotation_id, task_id=task_id
    )
