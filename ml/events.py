"""Annotation events for ML backends (webhooks) and retraining.

``annotations`` cannot call ``ml`` (layering), so ml subscribes ``annotation_announced``
to ``annotations.events`` (in ``MlConfig.ready``), which the annotation services call after
each create, update and delete. It does no work in the request: it queues
``ml.annotation_event`` once the transaction commits, and that task looks up the
project's backends.
"""

import logging

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)


def annotation_announced(action: str, project_id: int, annotation_id: int, task_id: int) -> None:
    def send() -> None:
        from ml.selectors import backends_exist
        from ml.tasks import annotation_event

        if not backends_exist(project_id=project_id):
            return
        try:
            # A call to the project's remote backend (its /webhook): the outbound queue.
            annotation_event.apply_async(
                (project_id, action, annotation_id, task_id),
                queue=settings.LABELHUB_OUTBOUND_QUEUE or None,
            )
        except Exception:  # never fail a submit because the queue is down
            logger.exception("could not queue %s for ML backends", action)

    transaction.on_commit(send)
