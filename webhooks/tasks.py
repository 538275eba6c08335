"""Celery tasks for webhooks: thin wrappers over ``webhooks.sending``, which say what to
queue next. They run on the webhook queue (``CELERY_TASK_ROUTES`` in the settings). A
delivery's hard time limit is a backstop over the call's own wall-clock limit."""

from celery import shared_task
from django.conf import settings

from webhooks import sending


@shared_task(name="webhooks.dispatch", acks_late=True)
def dispatch(action: str, project_id: int | None, ids: list, objects: list) -> int:
    """Queue one delivery per hook that wants the event; how many."""
    deliveries = sending.event_deliveries(
        action=action, project_id=project_id, ids=ids, objects=objects
    )
    for args in deliveries:
        deliver.apply_async(args)
    return len(deliveries)


@shared_task(
    name="webhooks.deliver",
    acks_late=True,
    time_limit=settings.LABELHUB_WEBHOOK_TIMEOUT + 30,
)
def deliver(webhook_id: int, action: str, body: str, delivery_id: str, attempt: int) -> str:
    """One try; on a failure worth retrying, the next try is queued with its backoff."""
    outcome = sending.delivery_try(
        webhook_id=webhook_id, action=action, body=body, delivery_id=delivery_id, attempt=attempt
    )
    if outcome == "retry":
        deliver.apply_async(
            (webhook_id, action, body, delivery_id, attempt + 1),
            countdown=sending.backoff(attempt),
        )
    return outcome
