"""The Label Studio JSON shapes of tasks, annotations, predictions and reviews.

Each shape is defined once, over a row of column values (``*_row`` functions), so that
bulk readers such as the export can fetch ``.values(*COLUMNS)`` and skip building model
instances; the ``*_dict`` functions apply the same shape to model instances. They sit in
``tasks`` (below ``annotations``) and serve the API, the export and the pages alike.
Callers prefetch what they nest.
"""

import base64
import html
import re

from django.utils.timesince import timesince

STORAGE_SCHEMES = ("s3://", "gs://", "azure-blob://", "redis://")


# A storage URI quoted inside a longer string: HTML such as ``<img src="s3://b/x.png">``
# in a HyperText field, or text quoting one (Label Studio's ``uri_regex`` finds the same).
# The URI runs to the next quote of the kind that opened it, so it may hold spaces and the
# other quote (``"s3://b/it's here.png"``), never ``<``, ``>`` or a control character. One
# lazy, bounded run per opening quote, ended by the next such quote: linear in the string.
EMBEDDED_URI = re.compile(
    r"""(["'])((?:s3|gs|azure-blob|redis)://(?:(?!\1)[^<>\x00-\x1f]){2,4096}?)\1"""
)


def _resolve_path(task_id: int, uri: str) -> str:
    # URL-safe base64 and the path are letters, digits, "/", "?", "=", "_", "-" and ".":
    # nothing that can end an HTML attribute or start a tag or an entity.
    encoded = base64.urlsafe_b64encode(uri.encode()).decode()
    return f"/tasks/{task_id}/resolve/?fileuri={encoded}"


def storage_uris_resolved(task_id: int, data: dict) -> dict:
    """A copy of task data with storage URIs (``s3://``, ``gs://``, ``azure-blob://``,
    ``redis://``, at any depth of dicts and lists) turned into Label Studio's proxy path,
    ``/tasks/{id}/resolve/?fileuri=<base64 of the URI>``, which redirects a project member
    to a fresh presigned URL or streams the object (io_storages.api). A value that is a
    URI is replaced whole; URIs quoted inside a longer value (HTML attributes in a
    HyperText field) are replaced in place, each by its own path, the rest of the string
    untouched. A quoted URI's HTML entities (``&amp;``) are decoded first, as a browser
    reads the attribute. Exports keep the URIs as they are."""

    def embedded(match: re.Match) -> str:
        quote, uri = match.group(1), html.unescape(match.group(2))
        return f"{quote}{_resolve_path(task_id, uri)}{quote}"

    def rewrite(value):
        if isinstance(value, str):
            if value.startswith(STORAGE_SCHEMES):
                if len(value.split("://", 1)[1]) > 1:
                    return _resolve_path(task_id, value)
                return value
            if "://" in value:
                return EMBEDDED_URI.sub(embedded, value)
            return value
        if isinstance(value, list):
            return [rewrite(item) for item in value]
        if isinstance(value, dict):
            return {key: rewrite(item) for key, item in value.items()}
        return value

    def has_uri(value) -> bool:
        if isinstance(value, str):
            return value.startswith(STORAGE_SCHEMES) or (
                "://" in value and any(scheme in value for scheme in STORAGE_SCHEMES)
            )
        if isinstance(value, list):
            return any(has_uri(item) for item in value)
        if isinstance(value, dict):
            return any(has_uri(item) for item in value.values())
        return False

    return rewrite(data) if has_uri(data) else data


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if value else None


def _columns(instance, columns: tuple[str, ...]) -> dict:
    return {column: getattr(instance, column) for column in columns}


REVIEW_COLUMNS = (
    "id",
    "annotation_id",
    "reviewer_id",
    "accepted",
    "comment",
    "created_at",
    "updated_at",
)
ANNOTATION_COLUMNS = (
    "id",
    "task_id",
    "project_id",
    "completed_by_id",
    "result",
    "was_cancelled",
    "ground_truth",
    "lead_time",
    "parent_prediction_id",
    "parent_annotation_id",
    "created_at",
    "updated_at",
)
PREDICTION_COLUMNS = (
    "id",
    "task_id",
    "project_id",
    "model_version",
    "score",
    "result",
    "created_at",
    "updated_at",
)
TASK_COLUMNS = (
    "id",
    "project_id",
    "data",
    "meta",
    "is_labeled",
    "total_annotations",
    "cancelled_annotations",
    "total_predictions",
    "created_at",
    "updated_at",
)


def review_row(row: dict) -> dict:
    return {
        "id": row["id"],
        "annotation": row["annotation_id"],
        "reviewer": row["reviewer_id"],
        "accepted": row["accepted"],
        "comment": row.get("comment", ""),
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
    }


def annotation_row(row: dict, *, reviews: list[dict] | None = None) -> dict:
    body = {
        "id": row["id"],
        "task": row["task_id"],
        "project": row["project_id"],
        "completed_by": row["completed_by_id"],
        "result": row["result"],
        "was_cancelled": row["was_cancelled"],
        "ground_truth": row["ground_truth"],
        "lead_time": row["lead_time"],
        "parent_prediction": row["parent_prediction_id"],
        "parent_annotation": row["parent_annotation_id"],
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
    }
    if reviews is not None:
        body["reviews"] = reviews
    return body


def prediction_row(row: dict) -> dict:
    return {
        "id": row["id"],
        "task": row["task_id"],
        "project": row["project_id"],
        "model_version": row["model_version"],
        "score": row["score"],
        "result": row["result"],
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
    }


def task_row(
    row: dict, *, annotations: list[dict] | None = None, predictions: list[dict] | None = None
) -> dict:
    body = {
        "id": row["id"],
        "project": row["project_id"],
        "data": row["data"],
        "meta": row["meta"],
        "is_labeled": row["is_labeled"],
        "total_annotations": row["total_annotations"],
        "cancelled_annotations": row["cancelled_annotations"],
        "total_predictions": row["total_predictions"],
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
    }
    if "agreement" in row:
        body["agreement"] = row["agreement"]
    if annotations is not None:
        body["annotations"] = annotations
    if predictions is not None:
        body["predictions"] = predictions
    return body


def review_dict(review) -> dict:
    return review_row(_columns(review, REVIEW_COLUMNS))


def person_name(user) -> str:
    """How pages and the editor name a person: "First Last", or else the email."""
    if user is None:
        return ""
    full = f"{user.first_name} {user.last_name}".strip()
    return full or user.email or user.username


def annotation_dict(annotation, *, with_reviews: bool = False) -> dict:
    """An annotation as the API gives it, with Label Studio's ``created_username`` (the
    annotator's name, which the editor shows in its annotation list). Callers
    ``select_related("completed_by")`` for lists."""
    reviews = [review_dict(r) for r in annotation.reviews.all()] if with_reviews else None
    body = annotation_row(_columns(annotation, ANNOTATION_COLUMNS), reviews=reviews)
    body["created_username"] = person_name(annotation.completed_by)
    return body


def prediction_dict(prediction) -> dict:
    return prediction_row(_columns(prediction, PREDICTION_COLUMNS))


def task_dict(task, *, annotations=None, predictions=None) -> dict:
    """A task with its counters, as the API and the editor pages show it (storage URIs
    resolved to proxy links); pass ``annotations``/``predictions`` lists to nest them."""
    row = _columns(task, (*TASK_COLUMNS, "agreement"))
    if isinstance(row["data"], dict):
        row["data"] = storage_uris_resolved(task.pk, row["data"])
    return task_row(
        row,
        annotations=(
            None
            if annotations is None
            else [annotation_dict(item, with_reviews=True) for item in annotations]
        ),
        predictions=None if predictions is None else [prediction_dict(p) for p in predictions],
    )


def draft_dict(draft) -> dict:
    """An annotation draft in Label Studio's shape: ``user`` is the author's email (its
    ``str(user)``), ``created_username`` "First Last email, id", ``created_ago`` a
    humanized age ("0 minutes"). Callers ``select_related("user")`` for lists."""
    user = draft.user
    name = f"{user.first_name} {user.last_name}".strip()
    return {
        "id": draft.pk,
        "task": draft.task_id,
        "annotation": draft.annotation_id,
        "user": user.email or user.username,
        "created_username": f"{name}{' ' if name else ''}{user.email}, {user.pk}",
        "created_ago": timesince(draft.created_at),
        "result": draft.result,
        "lead_time": draft.lead_time,
        "was_postponed": draft.was_postponed,
        "import_id": draft.import_id,
        "created_at": _iso(draft.created_at),
        "updated_at": _iso(draft.updated_at),
    }
