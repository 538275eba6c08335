"""Annotation events for target storages.

``annotations`` cannot import ``io_storages`` (layering), so ``IoStoragesConfig.ready``
subscribes ``annotation_announced`` to ``annotations.events``. It does no work in the
request: once the transaction commits it queues ``io_storages.annotation_export`` for a
project that has a target, and the worker writes (or deletes) the object.
"""

import logging

from django.db import transaction

from annotations.events import ANNOTATION_DELETED
from io_storages.models import ExportStorage
from io_storages.tasks import annotation_export
from labelhub.prepared import Prepared

logger = logging.getLogger(__name__)


# Whether the project has a target storage, asked after every annotation write: compiled
# once (labelhub.prepared).
_TARGETS = Prepared(
    lambda m: ExportStorage.objects.filter(project_id=m.int("project")).values_list(
        "pk", flat=True
    )[:1]
)


def annotation_announced(action: str, project_id: int, annotation_id: int, task_id: int) -> None:
    def send() -> None:
        if not _TARGETS.run(project=project_id):
            return
        try:
            annotation_export.apply_async(
                (project_id, annotation_id, action == ANNOTATION_DELETED), retry=False
            )
        except Exception:  # never fail a submit because the queue is down
            logger.exception("could not queue %s for target storages", action)

    transaction.on_commit(send)
