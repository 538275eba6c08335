"""Annotation events for the apps to the right of ``annotations`` (ml's backend webhooks
and retraining), which ``annotations`` may not import.

Those apps subscribe a handler once, in their ``AppConfig.ready``; the annotation services
announce each create, update and delete right after their write, inside its transaction
(a handler that acts outside the database waits for the commit itself). Bulk imports
announce nothing, as Label Studio sends no webhooks for them.

Webhooks listen to ``labelhub.events`` instead, which every writing app can publish to
(projects and tasks too); the annotation services announce on both.
"""

from collections.abc import Callable

from labelhub import registrations

ANNOTATION_CREATED = "ANNOTATION_CREATED"
ANNOTATION_UPDATED = "ANNOTATION_UPDATED"
ANNOTATION_DELETED = "ANNOTATION_DELETED"

# handler(action, project_id, annotation_id, task_id)
Handler = Callable[[str, int, int, int], None]
_handlers: list[Handler] = []


def subscribe(handler: Handler) -> None:
    if handler not in _handlers:
        _handlers.append(handler)


def announce(action: str, *, project_id: int, annotation_id: int, task_id: int) -> None:
    registrations.load()
    for handler in _handlers:
        handler(action, project_id, annotation_id, task_id)
