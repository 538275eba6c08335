"""Domain events: what changed, for the apps that may not be imported by the app that
changed it (webhooks, and any later subscriber).

The writing services (``projects``, ``annotations``, ``datamanager``, ``importers`` ...)
``publish`` an event right after their write, inside its transaction; subscribers register
a handler once, in their ``AppConfig.ready``. A handler runs in the publisher's
transaction: one that acts outside the database registers ``transaction.on_commit``
itself, so a rolled-back write announces nothing. It lives in the core so that the lowest
app (``projects``) can publish too.

Action names are Label Studio's webhook actions (``webhooks`` serves them as such), plus
ours for reviews and ground truth. ``ids`` (a sequence, or a ``range``) are the primary
keys of the objects the action is about (projects, tasks, annotations, reviews or label
links, per the action). A publisher whose objects a subscriber cannot read (its model
lives in an app the subscriber may not import) passes their JSON shape in ``objects``
instead. (``annotations.events`` is the older, narrower bus the ML backends listen to;
the annotation services announce on both.)
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from labelhub import registrations

PROJECT_CREATED = "PROJECT_CREATED"
PROJECT_UPDATED = "PROJECT_UPDATED"
PROJECT_DELETED = "PROJECT_DELETED"
TASKS_CREATED = "TASKS_CREATED"
TASKS_DELETED = "TASKS_DELETED"
ANNOTATION_CREATED = "ANNOTATION_CREATED"
ANNOTATIONS_CREATED = "ANNOTATIONS_CREATED"
ANNOTATION_UPDATED = "ANNOTATION_UPDATED"
ANNOTATIONS_DELETED = "ANNOTATIONS_DELETED"
LABEL_LINK_CREATED = "LABEL_LINK_CREATED"
LABEL_LINK_UPDATED = "LABEL_LINK_UPDATED"
LABEL_LINK_DELETED = "LABEL_LINK_DELETED"
REVIEW_CREATED = "REVIEW_CREATED"
GROUND_TRUTH_CHANGED = "GROUND_TRUTH_CHANGED"

ACTIONS = (
    PROJECT_CREATED,
    PROJECT_UPDATED,
    PROJECT_DELETED,
    TASKS_CREATED,
    TASKS_DELETED,
    ANNOTATION_CREATED,
    ANNOTATIONS_CREATED,
    ANNOTATION_UPDATED,
    ANNOTATIONS_DELETED,
    LABEL_LINK_CREATED,
    LABEL_LINK_UPDATED,
    LABEL_LINK_DELETED,
    REVIEW_CREATED,
    GROUND_TRUTH_CHANGED,
)


@dataclass(frozen=True)
class Event:
    action: str
    project_id: int | None
    ids: Sequence[int]
    objects: tuple[dict, ...] = field(default=())


Handler = Callable[[Event], None]
_handlers: list[Handler] = []


def subscribe(handler: Handler) -> None:
    if handler not in _handlers:
        _handlers.append(handler)


def publish(
    action: str,
    *,
    project_id: int | None,
    ids: Sequence[int] = (),
    objects: Sequence[dict] = (),
) -> None:
    """Announce ``action`` on ``ids`` (or ``objects``) of project ``project_id``. Nothing
    is announced for an empty change."""
    if action not in ACTIONS:
        raise ValueError(f"unknown event {action}")
    if not ids and not objects:
        return
    # A range (an import's new task ids) stays a range: a million ids cost nothing.
    ids = ids if isinstance(ids, range) else tuple(int(pk) for pk in ids)
    event = Event(action, project_id, ids, tuple(objects))
    registrations.load()
    for handler in _handlers:
        handler(event)
