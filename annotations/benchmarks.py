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

Linking (``benchmarks_link``) copies the benchmark project's gold tasks in; their
counters are set by ``annotations.counters`` like every other counter.
"""

from __future__ import annotations

import random

from django.db import transaction
from django.db.models import Avg, Exists, OuterRef, QuerySet
from django.utils import timezone

from annotations.counters import benchmark_copies_counted
from annotations.models import AgreementPair, Annotation, Review
from annotations.representations import person_name
from annotations.result_index import result_index_fill_tasks
from labelhub.errors import ApiError
from labelhub.prepared import Prepared
from projects import permissions as perms
from projects.models import Project
from projects.services import quality_settings_check
from tasks import locks
from tasks.models import Task


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


def benchmark_link_check(*, project: Project, user) -> None:
    """The stored link may be used only by someone who may still manage the benchmark
    project: a manager removed from a gold project must not go on copying its new gold
    tasks (nor its answers) by re-saving the settings of a project of theirs. A 400
    naming ``benchmark_project``; unlinking (``benchmark_project: null``) stays open."""
    source = project.benchmark_project
    if source is not None and not perms.can(user, source, perms.MANAGE):
        raise ApiError(
            "benchmark_project: you no longer manage the linked benchmark project",
            [
                {
                    "field": "benchmark_project",
                    "message": "no longer yours to manage; link another project or null",
                }
            ],
        )


@transaction.atomic
def benchmarks_link(*, project: Project, user) -> int:
    """Copy the benchmark project's ground-truth tasks into ``project`` as benchmark tasks,
    each with its gold answer (the ground-truth annotations, without an author here: the
    gold is nobody's work in this project and stays out of the annotator table).
    A re-link adds only tasks not linked before. Returns how many were added.
    ``user`` must manage the benchmark project now (``benchmark_link_check``).

    Benchmark tasks stay out of the project's counters (task_number, annotation counts),
    so progress and the labeled counters show production work only.
    """
    source = project.benchmark_project
    if source is None:
        return 0
    benchmark_link_check(project=project, user=user)
    quality_settings_check(project=project, fields={"benchmark_project": source})
    linked = Task.objects.filter(project=project, benchmark_source=OuterRef("pk"))
    gold = Annotation.objects.filter(task=OuterRef("pk"), ground_truth=True, was_cancelled=False)
    new = list(
        Task.objects.filter(project=source, is_benchmark=False)
        .filter(Exists(gold))
        .filter(~Exists(linked))
        .order_by("pk")
    )
    if not new:
        return 0
    copies = Task.objects.bulk_create(
        Task(
            project=project,
            data=task.data,
            meta=task.meta,
            is_benchmark=True,
            benchmark_source=task,
            is_labeled=True,  # never handed out by the ordinary sampler
        )
        for task in new
    )
    by_source = {copy.benchmark_source_id: copy for copy in copies}
    answers = Annotation.objects.filter(
        task__in=new, ground_truth=True, was_cancelled=False
    ).order_by("pk")
    Annotation.objects.bulk_create(
        Annotation(
            task=by_source[answer.task_id],
            project=project,
            completed_by=None,
            result=answer.result,
            ground_truth=True,
            lead_time=answer.lead_time,
            created_at=answer.created_at,
            updated_at=answer.updated_at,
        )
        for answer in answers
    )
    copy_ids = [copy.pk for copy in copies]
    benchmark_copies_counted(task_ids=copy_ids)
    result_index_fill_tasks(project_id=project.pk, task_ids=copy_ids)
    return len(copies)
