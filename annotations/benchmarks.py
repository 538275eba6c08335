"""Label Stream rules that come before the sampler: rework, then Benchmark QA.

1. **Rework.** An annotation of the caller's with a rejecting review is served first,
   with the reviewers' comments; updating it clears the rejection
   (``annotations.services.annotation_update``).
2. **Benchmarks.** The first ``benchmark_first`` tasks an annotator gets are benchmarks;
   after that each next task is one with probability ``benchmark_rate``. A benchmark is
   never served twice to one annotator (a skip counts as served), and ignores the
   overlap: every annotator answers every benchmark. Benchmarks are the project's
   ``is_benchmark`` tasks (linked from ``benchmark_project``) or, when no benchmark
   project is set, its own ground-truth tasks.

The benchmark task is locked like any other, so asking again returns it while the lock
lives. Nothing in the answer says it is a benchmark.
"""

from __future__ import annotations

import random

from django.db import transaction
from django.db.models import Avg, Exists, OuterRef, QuerySet
from django.utils import timezone

from annotations.models import AgreementPair, Annotation, Review
from labelhub.prepared import Prepared
from projects.models import Project
from tasks import locks
from tasks.models import Task
from tasks.representations import person_name


def rework_next(*, project: Project, user) -> Annotation | None:
    """The caller's oldest annotation in the project that a reviewer rejected.

    It starts from the rejected reviews (a partial index holds only those, and there
    are few), not from the caller's annotations: asked on every next task, the EXISTS
    per annotation read all 50k of an annotator's annotations on SQLite (45-75 ms of a
    next task at 100k tasks, bench/result_index_bench.py)."""
    return _REWORK_NEXT.first(project=project.pk, user=user.pk)


# rework_next's query, compiled once (labelhub.prepared): it is asked on every next task.
_REWORK_NEXT = Prepared(
    lambda m: (
        Annotation.objects.filter(
            project_id=m.int("project"), completed_by_id=m.int("user"), was_cancelled=False
        )
        .filter(pk__in=Review.objects.filter(accepted=False).values("annotation_id"))
        .order_by("pk")[:1]
    )
)


def rework_reviews(annotation: Annotation) -> list[dict]:
    """The rejections the annotator is asked to answer: who (``reviewer`` is the email,
    ``reviewer_name`` the name pages show), what they wrote and when."""
    rows = annotation.reviews.filter(accepted=False).select_related("reviewer").order_by("pk")
    return [
        {
            "reviewer": review.reviewer.email,
            "reviewer_name": person_name(review.reviewer),
            "comment": review.comment,
            "accepted": False,
            "created_at": review.updated_at.isoformat().replace("+00:00", "Z"),
        }
        for review in rows
    ]


def benchmark_pool(*, project: Project) -> QuerySet:
    if project.benchmark_project_id is not None:
        return Task.objects.filter(project=project, is_benchmark=True)
    gold = Annotation.objects.filter(task=OuterRef("pk"), ground_truth=True, was_cancelled=False)
    return Task.objects.filter(project=project, is_benchmark=False).filter(Exists(gold))


def benchmarks_enabled(project: Project) -> bool:
    return project.benchmark_first > 0 or project.benchmark_rate > 0


@transaction.atomic
def benchmark_next(*, project: Project, user, rng: random.Random | None = None) -> Task | None:
    """A benchmark task for the caller by the project's rules, locked for them, or None
    when this hand-out is not a benchmark (or none is left for them)."""
    if not benchmarks_enabled(project):
        return None
    now = timezone.now()
    answered = Annotation.objects.filter(task=OuterRef("pk"), completed_by=user)
    open_pool = benchmark_pool(project=project).filter(~Exists(answered))
    held = locks.lock_of_user(project=project, user=user, now=now)
    if held is not None:
        task = open_pool.filter(pk=held.task_id).first()
        if task is not None:
            locks.lock_extend(lock=held, now=now)
            return task
        if Task.objects.filter(pk=held.task_id, is_benchmark=False).exists():
            return None  # a production task is on their screen: the sampler keeps it
    served = Annotation.objects.filter(project=project, completed_by=user).count()
    if served >= project.benchmark_first:
        draw = (rng or random).random()
        if draw >= project.benchmark_rate:
            return None
    task = open_pool.order_by("pk").first()
    if task is not None:
        locks.lock_take(task=task, user=user, now=now)
    return task


def benchmark_score(*, annotation: Annotation) -> float | None:
    """The annotation's score against the task's gold answer (the mean over the task's
    other ground-truth annotations), from the stored pair scores."""
    return AgreementPair.objects.filter(annotation=annotation, other__ground_truth=True).aggregate(
        v=Avg("score")
    )["v"]


def is_benchmark_task(*, project: Project, task: Task) -> bool:
    if task.is_benchmark:
        return True
    return (
        project.benchmark_project_id is None
        and benchmarks_enabled(project)
        and (benchmark_pool(project=project).filter(pk=task.pk).exists())
    )
