"""Label Studio's webhook payloads: ``{"action", <key>: ..., "project": ...}``, with the
fields of its webhook serializers (``webhooks/serializers_for_hooks.py``: the model's
fields, ``__all__``) for projects, tasks and annotations. Fields Label Studio has and
LabelHub does not keep (comments, drafts, file uploads) carry their empty value.

Built once per event in the worker, after the commit; objects deleted since are left
out (an event whose objects are all gone is not sent).
"""

from annotations.labels_api import label_dict, link_dict
from annotations.models import Annotation, Review
from annotations.representations import annotation_dict, review_dict
from labelhub import events
from projects.api import project_dict
from projects.models import LabelLink, Project
from tasks.models import Task
from tasks.representations import task_dict
from webhooks.actions import ACTIONS


def project_payload(project: Project) -> dict:
    return project_dict(project)


def task_payload(task: Task) -> dict:
    body = task_dict(task)
    body.pop("agreement", None)
    body.update(
        {
            "overlap": task.project.maximum_annotations + task.overlap_extra,
            "inner_id": task.pk,
            "updated_by": None,
            "file_upload": None,
            "allow_skip": task.project.show_skip_button,
            "precomputed_agreement": task.agreement,
            "comment_count": 0,
            "unresolved_comment_count": 0,
            "comment_authors": [],
            "last_comment_updated_at": None,
        }
    )
    return body


def annotation_payload(annotation: Annotation) -> dict:
    body = annotation_dict(annotation)
    body.update(
        {
            "updated_by": annotation.completed_by_id,
            "draft_created_at": None,
            "prediction": {},
            "result_count": len(annotation.result) if isinstance(annotation.result, list) else 0,
            "unique_id": None,
            "import_id": None,
            "last_action": None,
            "last_created_by": None,
            "bulk_created": False,
        }
    )
    return body


def label_link_payload(link: LabelLink) -> dict:
    """Label Studio's ``LabelLinkSerializer``: ``{"id", "from_name", "project", "label"}``
    (no ``annotations_count``: its webhook query does not count them)."""
    return link_dict(link)


def label_payload(link: LabelLink) -> dict:
    """Label Studio's ``LabelSerializer`` of the link's label, with all its links."""
    links = list(LabelLink.objects.filter(label_id=link.label_id).order_by("pk"))
    return label_dict(link.label, visible_links=links, expand_links=False)


def _annotations(ids) -> list[Annotation]:
    return list(
        Annotation.objects.filter(pk__in=ids)
        .select_related("completed_by", "task__project")
        .order_by("pk")
    )


def build(event: events.Event) -> dict | None:
    """The payload of ``event`` (without ``action``), or None when nothing is left."""
    meta = ACTIONS[event.action]
    payload: dict = {}
    if meta.only_id:
        items: list = [{"id": pk} for pk in event.ids]
        payload[meta.key] = items if meta.many else items[0]
    elif event.objects:
        payload[meta.key] = list(event.objects) if meta.many else event.objects[0]
    elif meta.key == "project":
        project = Project.objects.select_related("created_by").filter(pk=event.ids[0]).first()
        if project is None:
            return None
        payload["project"] = project_payload(project)
    elif meta.key == "tasks":
        tasks = list(Task.objects.filter(pk__in=event.ids).select_related("project").order_by("pk"))
        if not tasks:
            return None
        payload["tasks"] = [task_payload(task) for task in tasks]
    elif meta.key in ("annotation", "annotations"):
        annotations = _annotations(event.ids)
        if not annotations:
            return None
        bodies = [annotation_payload(a) for a in annotations]
        payload[meta.key] = bodies if meta.many else bodies[0]
        if event.action != events.GROUND_TRUTH_CHANGED:
            task_bodies = [task_payload(a.task) for a in annotations]
            payload["task"] = task_bodies if meta.many else task_bodies[0]
    elif meta.key == "label_link":
        links = list(
            LabelLink.objects.filter(pk__in=event.ids).select_related("label").order_by("pk")
        )
        if not links:
            return None
        if meta.many:
            payload["label_link"] = [label_link_payload(link) for link in links]
        else:
            payload["label_link"] = label_link_payload(links[0])
            payload["label"] = label_payload(links[0])
    elif meta.key == "review":
        review = (
            Review.objects.filter(pk=event.ids[0])
            .select_related("annotation__completed_by", "annotation__task__project")
            .first()
        )
        if review is None:
            return None
        payload["review"] = review_dict(review)
        payload["annotation"] = annotation_payload(review.annotation)
        payload["task"] = task_payload(review.annotation.task)
    if event.project_id is not None and event.action != events.PROJECT_DELETED:
        project = Project.objects.select_related("created_by").filter(pk=event.project_id).first()
        if project is not None:
            payload["project"] = project_payload(project)
    return payload
