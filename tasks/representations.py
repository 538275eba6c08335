"""The Label Studio JSON shapes of tasks, annotations, predictions and reviews.

These work on model instances through their attributes and reverse relations, so
they sit in ``tasks`` (below ``annotations``) and serve the API, the export and the
pages alike. Callers prefetch what they nest.
"""


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if value else None


def review_dict(review) -> dict:
    return {
        "id": review.pk,
        "annotation": review.annotation_id,
        "reviewer": review.reviewer_id,
        "accepted": review.accepted,
        "created_at": _iso(review.created_at),
        "updated_at": _iso(review.updated_at),
    }


def annotation_dict(annotation, *, with_reviews: bool = False) -> dict:
    body = {
        "id": annotation.pk,
        "task": annotation.task_id,
        "project": annotation.project_id,
        "completed_by": annotation.completed_by_id,
        "result": annotation.result,
        "was_cancelled": annotation.was_cancelled,
        "ground_truth": annotation.ground_truth,
        "lead_time": annotation.lead_time,
        "parent_prediction": annotation.parent_prediction_id,
        "parent_annotation": annotation.parent_annotation_id,
        "created_at": _iso(annotation.created_at),
        "updated_at": _iso(annotation.updated_at),
    }
    if with_reviews:
        body["reviews"] = [review_dict(review) for review in annotation.reviews.all()]
    return body


def prediction_dict(prediction) -> dict:
    return {
        "id": prediction.pk,
        "task": prediction.task_id,
        "project": prediction.project_id,
        "model_version": prediction.model_version,
        "score": prediction.score,
        "result": prediction.result,
        "created_at": _iso(prediction.created_at),
        "updated_at": _iso(prediction.updated_at),
    }


def task_dict(task, *, annotations=None, predictions=None) -> dict:
    """A task with its counters; pass ``annotations``/``predictions`` lists to nest them."""
    body = {
        "id": task.pk,
        "project": task.project_id,
        "data": task.data,
        "meta": task.meta,
        "is_labeled": task.is_labeled,
        "total_annotations": task.total_annotations,
        "cancelled_annotations": task.cancelled_annotations,
        "total_predictions": task.total_predictions,
        "created_at": _iso(task.created_at),
        "updated_at": _iso(task.updated_at),
    }
    if annotations is not None:
        body["annotations"] = [annotation_dict(item, with_reviews=True) for item in annotations]
    if predictions is not None:
        body["predictions"] = [prediction_dict(item) for item in predictions]
    return body
