"""Annotation events for ML backends (webhooks) and retraining.

``annotations`` cannot call ``ml`` (layering), so ml listens to the Annotation model's
save and delete signals. The receivers do no work in the request: they only queue
``ml.annotation_event`` once the transaction commits, and that task looks up the
project's backends. Bulk imports (COPY, bulk_create) send no signals and no webhooks,
as in Label Studio.
"""

import logging

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from annotations.models import Annotation

logger = logging.getLogger(__name__)


def _queue(annotation: Annotation, action: str) -> None:
    args = (annotation.project_id, action, annotation.pk, annotation.task_id)

    def send() -> None:
        from ml.models import MLBackend  # noqa: PLC0415 - models load after apps
        from ml.tasks import annotation_event  # noqa: PLC0415

        if not MLBackend.objects.filter(project_id=args[0]).exists():
            return
        try:
            annotation_event.apply_async(args)
        except Exception:  # never fail a submit because the queue is down
            logger.exception("could not queue %s for ML backends", action)

    transaction.on_commit(send)


@receiver(post_save, sender=Annotation, dispatch_uid="ml.annotation_saved")
def annotation_saved(sender, instance: Annotation, created: bool, **kwargs) -> None:
    _queue(instance, "ANNOTATION_CREATED" if created else "ANNOTATION_UPDATED")


@receiver(post_delete, sender=Annotation, dispatch_uid="ml.annotation_deleted")
def annotation_deleted(sender, instance: Annotation, **kwargs) -> None:
    _queue(instance, "ANNOTATION_DELETED")
