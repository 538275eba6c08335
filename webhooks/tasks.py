"""Celery tasks for webhooks: thin wrappers over ``webhooks.services``. They run on the
webhook queue (``CELERY_TASK_ROUTES`` in the settings). A delivery's hard time limit is a
backstop over the call's own wall-clock limit."""

from celery import shared_task
from django.conf import settings


@shared_task(name="webhooks.dispatch", acks_late=True)
def dispatch(action: str, project_id: int | None, ids: list, objects: list) -> int:
    from webhooks.services import event_dispatch

    return event_dispatch(action=action, project_id=project_id, ids=ids, objects=objects)


@shared_task(
    name="webhooks.deliver",
    acks_late=True,
    time_limit=settings.LABELHUB_WEBHOOK_TIMEOUT + 30,
)
def deliver(webhook_id: int, action: str, body: str, delivery_id: str, attempt: int) -> str:
    from webhooks.services import delivery_run

    return delivery_run(
        webhook_id=webhook_id, action=action, body=body, delivery_id=delivery_id, attempt=attempt
    )
