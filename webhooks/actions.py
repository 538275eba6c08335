"""Label Studio 1.23.2's webhook actions (``WebhookAction.ACTIONS``) as ``/api/webhooks/info/``
shows them, and what each payload carries: ``key`` names the payload field, ``many``
whether it is a list, ``organization_only`` that only an organization-wide hook (no
project) may receive it. REVIEW_CREATED and GROUND_TRUTH_CHANGED are ours."""

from dataclasses import dataclass

from labelhub import events


@dataclass(frozen=True)
class Action:
    name: str
    key: str
    many: bool
    organization_only: bool = False
    # The payload holds only ``{"id": ...}`` (the object is gone).
    only_id: bool = False
    description: str = ""


ACTIONS: dict[str, Action] = {
    events.PROJECT_CREATED: Action("Project created", "project", False, organization_only=True),
    events.PROJECT_UPDATED: Action("Project updated", "project", False),
    events.PROJECT_DELETED: Action(
        "Project deleted", "project", False, organization_only=True, only_id=True
    ),
    events.TASKS_CREATED: Action("Task created", "tasks", True),
    events.TASKS_DELETED: Action("Task deleted", "tasks", True, only_id=True),
    events.ANNOTATION_CREATED: Action("Annotation created", "annotation", False),
    events.ANNOTATIONS_CREATED: Action("Annotations created", "annotation", True),
    events.ANNOTATION_UPDATED: Action("Annotation updated", "annotation", False),
    events.ANNOTATIONS_DELETED: Action("Annotation deleted", "annotations", True, only_id=True),
    events.LABEL_LINK_CREATED: Action("Label link created", "label_link", True),
    events.LABEL_LINK_UPDATED: Action("Label link updated", "label_link", False),
    events.LABEL_LINK_DELETED: Action("Label link deleted", "label_link", False, only_id=True),
    events.REVIEW_CREATED: Action(
        "Review created",
        "review",
        False,
        description="A reviewer accepted or rejected an annotation (LabelHub).",
    ),
    events.GROUND_TRUTH_CHANGED: Action(
        "Ground truth changed",
        "annotations",
        True,
        description="Annotations were marked or unmarked as ground truth (LabelHub).",
    ),
}


def info(*, organization_only: bool | None = None) -> dict:
    """``/api/webhooks/info/``: each action's name, description, key and
    ``organization-only``, optionally only those with the given ``organization-only``."""
    return {
        name: {
            "name": action.name,
            "description": action.description,
            "key": action.key,
            "organization-only": action.organization_only,
        }
        for name, action in ACTIONS.items()
        if organization_only is None or action.organization_only == organization_only
    }
