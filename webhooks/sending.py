"""The bodies of the webhook tasks (``webhooks.tasks``): what one event sends to which
hook, and one try of one delivery. They say what to queue next and the task queues it,
so these import only downward (the services queue the tasks)."""

import logging
import uuid

import orjson
from django.conf import settings

from labelhub import events
from webhooks import delivery, payloads, selectors
from webhooks.actions import ACTIONS
from webhooks.models import Webhook

logger = logging.getLogger(__name__)


def project_of(event: events.Event) -> int | None:
    return None if ACTIONS[event.action].organization_only else event.project_id


def event_deliveries(*, action: str, project_id: int | None, ids: list, objects: list) -> list:
    """Build the payload of one event once: the arguments of ``webhooks.deliver`` for
    each hook that wants it (``(webhook_id, action, body, delivery_id, attempt)``)."""
    event = events.Event(action, project_id, tuple(ids), tuple(objects))
    hooks = list(selectors.webhooks_for_event(action=action, project_id=project_of(event)))
    if not hooks:
        return []
    full = None
    if any(hook.send_payload for hook in hooks):
        payload = payloads.build(event)
        if payload is None:  # everything it was about is gone again
            return []
        full = orjson.dumps({"action": action, **payload}).decode()
    bare = orjson.dumps({"action": action}).decode()
    return [
        (hook.pk, action, full if hook.send_payload else bare, str(uuid.uuid4()), 1)
        for hook in hooks
    ]


def backoff(attempt: int) -> float:
    """Seconds before try ``attempt + 1``: exponential, capped."""
    base = float(settings.LABELHUB_WEBHOOK_BACKOFF)
    return min(base * 2 ** (attempt - 1), float(settings.LABELHUB_WEBHOOK_BACKOFF_MAX))


def delivery_try(*, webhook_id: int, action: str, body: str, delivery_id: str, attempt: int) -> str:
    """One try of one delivery: "sent", "retry" (a failure a later try may fix, with tries
    left: the task queues the next after ``backoff(attempt)``), "failed" or "skipped"."""
    webhook = Webhook.objects.filter(pk=webhook_id, is_active=True).first()
    if webhook is None:  # deleted or switched off since
        return "skipped"
    target = delivery.Target(url=webhook.url, headers=webhook.headers, secret=webhook.secret)
    try:
        delivery.post(target, body.encode(), action=action, delivery_id=delivery_id)
    except delivery.DeliveryError as exc:
        if exc.retry and attempt < int(settings.LABELHUB_WEBHOOK_ATTEMPTS):
            logger.warning("webhook %s %s try %s: %s", webhook_id, action, attempt, exc)
            return "retry"
        logger.error("webhook %s %s failed after %s tries: %s", webhook_id, action, attempt, exc)
        return "failed"
    return "sent"
