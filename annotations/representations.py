"""The Label Studio JSON shapes of annotations, predictions, reviews and drafts, and of a
task with them nested.

Each shape is defined once, over a row of column values (``*_row`` functions), so that
bulk readers such as the export can fetch ``.values(*COLUMNS)`` and skip building model
instances; the ``*_dict`` functions apply the same shape to model instances. The task's
own shape is ``tasks.representations``'. They serve the API, the export, the webhooks and
the pages alike. Callers prefetch what they nest.
"""

from django.utils.timesince import timesince

from tasks.representations import column_values, iso_datetime
from tasks.representations import task_dict as task_only_dict

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


def review_row(row: dict) -> dict:
    return {
        "id": row["id"],
        "annotation": row["annotation_id"],
        "reviewer": row["reviewer_id"],
        "accepted": row["accepted"],
        "comment": row.get("comment", ""),
        "created_at": iso_datetime(row["created_at"]),
        "updated_at": iso_datetime(row["updated_at"]),
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
        "created_at": iso_datetime(row["created_at"]),
        "updated_at": iso_datetime(row["updated_at"]),
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
        "created_at": iso_datetime(row["created_at"]),
        "updated_at": iso_datetime(row["updated_at"]),
    }


def review_dict(review) -> dict:
    return review_row(column_values(review, REVIEW_COLUMNS))


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
    body = annotation_row(column_values(annotation, ANNOTATION_COLUMNS), reviews=reviews)
    body["created_username"] = person_name(annotation.completed_by)
    return body


def prediction_dict(prediction) -> dict:
    return prediction_row(column_values(prediction, PREDICTION_COLUMNS))


def task_with_annotations_dict(task, *, annotations=None, predictions=None) -> dict:
    """A task with its counters, as the API and the editor pages show it (storage URIs
    resolved to proxy links); pass ``annotations``/``predictions`` lists to nest them."""
    return task_only_dict(
        task,
        annotations=(
            None
            if annotations is None
            else [annotation_dict(item, with_reviews=True) for item in annotations]
        ),
        predictions=None if predictions is None else [prediction_dict(p) for p in predictions],
    )


def nested_task_dict(task) -> dict:
    return task_with_annotations_dict(
        task, annotations=task.annotations.all(), predictions=task.predictions.all()
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
        "created_at": iso_datetime(draft.created_at),
        "updated_at": iso_datetime(draft.updated_at),
    }
