"""Custom labels and their links to projects (Label Studio's labels manager): reads and
writes.

Who sees what (LabelHub has no organizations): staff see every label; a user sees the
labels they made and those linked to a project they are a member of. A user sees the
links of projects they are a member of. Creating or changing a link needs the project's
manage right; changing or deleting a label is for its creator (and staff), since one
label may serve several projects.

Each write to links publishes Label Studio's webhook event (``labelhub.events``) in its
transaction, so subscribers act after the commit: ``LABEL_LINK_CREATED`` with every link
of a bulk ``POST /api/labels`` (Label Studio's, including links that existed) or of
``POST /api/label_links``, ``LABEL_LINK_UPDATED`` per link PUT/PATCH, and
``LABEL_LINK_DELETED`` per link deleted (directly, or with its label).
"""

from __future__ import annotations

import json

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from rest_framework.exceptions import NotFound

from labelhub import events
from labelhub.errors import ApiError
from projects import permissions as perms
from projects.models import Label, LabelLink, Project

MAX_VALUE_BYTES = 16 * 1024
MAX_BULK = 1000


def _error(field: str, message: str, index: int | None = None) -> ApiError:
    where = field if index is None else f"[{index}].{field}"
    return ApiError(f"{where}: {message}", [{"field": where, "message": message}])


# ------------------------------------------------------------------------------- reads


def labels_visible(*, user) -> QuerySet:
    rows = Label.objects.all()
    if not user.is_staff:
        rows = rows.filter(Q(created_by=user) | Q(links__project__members__user=user)).distinct()
    return rows.order_by("id")


def links_visible(*, user) -> QuerySet:
    rows = LabelLink.objects.select_related("label")
    if not user.is_staff:
        rows = rows.filter(project__members__user=user)
    return rows.order_by("id")


def label_for_user(*, user, pk) -> Label:
    """A label the user sees (``labels_visible``); 404 otherwise."""
    return perms.object_for_user(Label, user=user, pk=pk, queryset=labels_visible(user=user))


def label_for_change(*, user, pk) -> Label:
    """A label the user sees and may change (its creator, staff): 404 when they do not
    see it, 403 when they see it and did not create it."""
    return perms.object_for_user(
        Label,
        user=user,
        pk=pk,
        queryset=labels_visible(user=user),
        changeable=lambda who, label: who.is_staff or label.created_by_id == who.pk,
        refusal="Only the label's creator may change it.",
    )


def link_for_user(*, user, pk, capability: str = perms.VIEW) -> LabelLink:
    return perms.object_for_user(
        LabelLink,
        user=user,
        pk=pk,
        capability=capability,
        queryset=LabelLink.objects.select_related("label"),
    )


def project_label_values(*, project: Project) -> list:
    """The values of the labels linked to the project (Label Studio adds them to a
    Taxonomy's choices when it checks a config against the stored annotations)."""
    return list(Label.objects.filter(links__project=project).values_list("value", flat=True))


# ------------------------------------------------------------------------------ checks


def value_check(value, *, index: int | None = None):
    if value is None:
        raise _error("value", "This field is required.", index)
    if len(json.dumps(value)) > MAX_VALUE_BYTES:
        raise _error("value", f"over {MAX_VALUE_BYTES} bytes", index)
    return value


def _text(data: dict, name: str, *, index=None, required=False, max_length=None):
    value = data.get(name)
    if value is None:
        if required:
            raise _error(name, "This field is required.", index)
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise _error(name, "must be a non-empty string" if required else "must be a string", index)
    if max_length is not None and len(value) > max_length:
        raise _error(name, f"at most {max_length} characters", index)
    return value


def _bool(data: dict, name: str, *, index=None) -> bool | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise _error(name, "must be true or false", index)
    return value


# ------------------------------------------------------------------------------ writes


def labels_create(*, user, items) -> list[tuple[Label, Project, str]]:
    """Label Studio's bulk ``POST /api/labels``: each item ``{title, value, from_name,
    project, description?, approved?}``, all for one project. A title the user already
    has reuses that label (its value is kept); each label gets a link to the project
    (an existing link is kept as it is). All or nothing."""
    if not isinstance(items, list):
        raise ApiError(
            'Expected a list of items but got type "dict".',
            [{"field": "non_field_errors", "message": "expected a list"}],
        )
    if not items:
        raise _error("non_field_errors", "This list may not be empty.")
    if len(items) > MAX_BULK:
        raise _error("non_field_errors", f"at most {MAX_BULK} labels per request")
    cleaned = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise _error("non_field_errors", "must be an object", index)
        if item.get("project") in (None, ""):
            raise _error("project", "This field is required.", index)
        cleaned.append(
            {
                "project": item["project"],
                "title": _text(item, "title", index=index, required=True, max_length=2048),
                "from_name": _text(item, "from_name", index=index, required=True, max_length=2048),
                "value": value_check(item.get("value"), index=index),
                "description": _text(item, "description", index=index),
                "approved": bool(_bool(item, "approved", index=index)),
            }
        )
    if len({str(item["project"]) for item in cleaned}) > 1:
        raise _error(
            "non_field_errors", "Creating labels for different projects in one request not allowed"
        )
    project = perms.project_for(user, cleaned[0]["project"], perms.MANAGE)
    out = []
    with transaction.atomic():
        existing = {
            label.title: label
            for label in Label.objects.select_for_update().filter(
                created_by=user, title__in=[item["title"] for item in cleaned]
            )
        }
        links: list[int] = []
        for item in cleaned:
            label = existing.get(item["title"])
            if label is None:
                label = Label.objects.create(
                    created_by=user,
                    title=item["title"],
                    value=item["value"],
                    description=item["description"],
                    approved=item["approved"],
                    approved_by=user if item["approved"] else None,
                )
                existing[label.title] = label
            link, _ = LabelLink.objects.get_or_create(
                project=project, label=label, defaults={"from_name": item["from_name"]}
            )
            links.append(link.pk)
            out.append((label, project, item["from_name"]))
        events.publish(
            events.LABEL_LINK_CREATED, project_id=project.pk, ids=list(dict.fromkeys(links))
        )
    return out


def label_update(*, label: Label, user, data: dict, partial: bool = True) -> Label:
    if not isinstance(data, dict):
        raise _error("non_field_errors", "must be an object")
    fields: dict = {}
    if "title" in data or not partial:
        fields["title"] = _text(data, "title", required=True, max_length=2048)
    if "value" in data or not partial:
        fields["value"] = value_check(data.get("value"))
    if "description" in data:
        fields["description"] = _text(data, "description")
    if data.get("approved") is not None:
        fields["approved"] = _bool(data, "approved")
        fields["approved_by"] = user if fields["approved"] else None
    if not fields:
        return label
    for name, value in fields.items():
        setattr(label, name, value)
    try:
        with transaction.atomic():
            label.save(update_fields=[*fields, "updated_at"])
    except IntegrityError:
        raise _error("title", "you already have a label with this title") from None
    return label


def label_delete(*, label: Label) -> None:
    with transaction.atomic():
        gone = list(LabelLink.objects.filter(label=label).values_list("pk", "project_id"))
        label.delete()
        for pk, project_id in gone:
            events.publish(events.LABEL_LINK_DELETED, project_id=project_id, ids=[pk])


def link_create(*, user, data: dict) -> LabelLink:
    if not isinstance(data, dict):
        raise _error("non_field_errors", "must be an object")
    for name in ("label", "project", "from_name"):
        if data.get(name) in (None, ""):
            raise _error(name, "This field is required.")
    from_name = _text(data, "from_name", required=True, max_length=2048)
    project = perms.project_for(user, data["project"], perms.MANAGE)
    try:
        label = label_for_user(user=user, pk=data["label"])
    except NotFound:
        raise _error(
            "label", f'Invalid pk "{str(data["label"])[:40]}" - object does not exist.'
        ) from None
    try:
        with transaction.atomic():
            link = LabelLink.objects.create(project=project, label=label, from_name=from_name)
            events.publish(events.LABEL_LINK_CREATED, project_id=project.pk, ids=[link.pk])
            return link
    except IntegrityError:
        raise _error(
            "non_field_errors", "The fields project, label must make a unique set."
        ) from None


def link_update(*, link: LabelLink, user, data: dict) -> LabelLink:
    if not isinstance(data, dict):
        raise _error("non_field_errors", "must be an object")
    fields = {}
    if "from_name" in data:
        fields["from_name"] = _text(data, "from_name", required=True, max_length=2048)
    if "project" in data and str(data["project"]) != str(link.project_id):
        fields["project"] = perms.project_for(user, data["project"], perms.MANAGE)
    if "label" in data and str(data["label"]) != str(link.label_id):
        try:
            fields["label"] = label_for_user(user=user, pk=data["label"])
        except NotFound:
            raise _error("label", "object does not exist") from None
    for name, value in fields.items():
        setattr(link, name, value)
    try:
        with transaction.atomic():
            if fields:
                link.save(update_fields=list(fields))
            # Label Studio announces every PUT/PATCH of a link, changed or not.
            events.publish(events.LABEL_LINK_UPDATED, project_id=link.project_id, ids=[link.pk])
    except IntegrityError:
        raise _error(
            "non_field_errors", "The fields project, label must make a unique set."
        ) from None
    return link


def link_delete(*, link: LabelLink) -> None:
    with transaction.atomic():
        pk, project_id = link.pk, link.project_id
        link.delete()
        events.publish(events.LABEL_LINK_DELETED, project_id=project_id, ids=[pk])
