"""The Verify Stream: completed annotations for a reviewer, in random order.

A reviewer is handed a non-cancelled completion of the project that they have not
reviewed yet. Random order without ``ORDER BY random()`` (a sort of every completion):
pick a random id between the project's smallest and largest completion id and walk the
primary key from there (wrapping around), so each pick is an index range scan however
big the project is. Gaps in the ids make the choice not quite uniform, which a review
queue does not mind.
"""

from __future__ import annotations

import random

from django.db.models import Exists, Max, Min, OuterRef

from annotations.models import Annotation, Review, ReviewRecord
from annotations.representations import person_name
from projects.models import Project


def verify_queue(*, project: Project, user):
    """Completions the user may still review: not cancelled, not reviewed by them, not
    on a Benchmark QA task (those are scored against their gold answer instead)."""
    mine = Review.objects.filter(annotation=OuterRef("pk"), reviewer=user)
    return Annotation.objects.filter(
        project=project, was_cancelled=False, task__is_benchmark=False
    ).filter(~Exists(mine))


def verify_next(*, project: Project, user, exclude: int | None = None) -> Annotation | None:
    """A random completion for the user to review, or None when none is left.
    ``exclude`` skips one id (the one on screen), unless it is the last one."""
    queue = verify_queue(project=project, user=user)
    bounds = Annotation.objects.filter(project=project).aggregate(low=Min("id"), high=Max("id"))
    if bounds["low"] is None:
        return None
    pivot = random.randint(bounds["low"], bounds["high"])
    candidates = queue.exclude(pk=exclude) if exclude else queue
    picked = (
        candidates.filter(pk__gte=pivot).order_by("pk").first()
        or candidates.filter(pk__lt=pivot).order_by("-pk").first()
    )
    if picked is None and exclude:
        picked = queue.filter(pk=exclude).first()
    if picked is not None:
        picked = (
            Annotation.objects.select_related("task", "completed_by")
            .prefetch_related("reviews")
            .get(pk=picked.pk)
        )
    return picked


def verify_progress(*, project: Project, user) -> dict:
    """``{"reviewed": by this user, "total": completions, "remaining": ...,
    "reworked": ...}``. Counts from the project's counter and the user's own reviews, so
    it stays cheap.

    ``reviewed`` can go down and ``total`` up while a reviewer works: an annotator's
    update after a rejection takes the rejection off (the completion is back in the
    queue) and annotators keep submitting. ``reworked`` counts the completions this
    reviewer rejected that came back reworked and wait for them again, so that the page
    can say why the count moved (issue #26)."""
    project.refresh_from_db(fields=["total_annotations_number"])
    reviewed = Review.objects.filter(
        reviewer=user, annotation__project=project, annotation__was_cancelled=False
    ).count()
    mine = Review.objects.filter(annotation=OuterRef("annotation"), reviewer=user)
    reworked = (
        ReviewRecord.objects.filter(
            reviewer=user,
            reworked_at__isnull=False,
            annotation__project=project,
            annotation__was_cancelled=False,
        )
        .filter(~Exists(mine))
        .values("annotation")
        .distinct()
        .count()
    )
    total = project.total_annotations_number
    return {
        "reviewed": reviewed,
        "total": total,
        "remaining": max(0, total - reviewed),
        "reworked": reworked,
    }


def review_history(*, annotation: Annotation) -> list[dict]:
    """Every verdict given on ``annotation``, oldest first, with who gave it and whether
    the annotator's update has answered it (``reworked_at``)."""
    rows = ReviewRecord.objects.filter(annotation=annotation).select_related("reviewer")
    return [review_record_dict(row) for row in rows.order_by("pk")]


def review_record_dict(row: ReviewRecord) -> dict:
    def stamp(value):
        return value.isoformat().replace("+00:00", "Z") if value else None

    return {
        "id": row.pk,
        "annotation": row.annotation_id,
        "reviewer": row.reviewer_id,
        "reviewer_email": row.reviewer.email,
        "reviewer_name": person_name(row.reviewer),
        "accepted": row.accepted,
        "comment": row.comment,
        "created_at": stamp(row.created_at),
        "reworked_at": stamp(row.reworked_at),
    }
