"""Sampling: the order in which the Label Stream offers a user the tasks left to label.

A sampler is a plain function ``fn(*, project, candidates) -> Iterable[QuerySet]``.
``candidates`` are the tasks the user may take (``annotations.stream.eligible_tasks``); the
sampler yields one or more ordered querysets ("passes") and the stream takes the first
row it can lock from each pass in turn. Several passes let a sampler use an index for
every part of its order: "tasks with a score, by score, then tasks without one", or
"from a random point to the end, then from the start".

Samplers must keep to orders an index can serve, because the stream runs them on every
request: with a million tasks, an ``ORDER BY random()`` or an ``AVG()`` over all the
predictions costs hundreds of milliseconds, an index walk well under one.

Orders start with the index's leading columns (``project_id, is_labeled``): they are
constant under the candidates' filter, so the order is unchanged, but it tells the
PostgreSQL planner that only the (project, is_labeled, ...) index serves it without a
sort. Otherwise it may walk the primary key and filter, which is fast only while the
finished tasks are not all at the front (they are, in a sequential project).

Register a new mode (active learning will be one) with ``@sampler("name")``; the name
is the value of ``Project.sampling``.
"""

import random
from collections.abc import Callable, Iterable

from django.core.cache import cache
from django.db import transaction
from django.db.models import F, QuerySet

from annotations.counters import prediction_scores_refresh
from labelhub import registrations
from projects.models import Project
from tasks.models import Task

Sampler = Callable[..., Iterable[QuerySet]]
SAMPLERS: dict[str, Sampler] = {}


def sampler(name: str) -> Callable[[Sampler], Sampler]:
    def register(fn: Sampler) -> Sampler:
        SAMPLERS[name] = fn
        return fn

    return register


def sampler_for(project: Project) -> Sampler:
    """The project's sampler; an unknown mode falls back to sequential."""
    registrations.load()
    return SAMPLERS.get(project.sampling, SAMPLERS[Project.Sampling.SEQUENTIAL])


BY_ID = ("project_id", "is_labeled", "id")
BY_ID_DESC = ("-project_id", "-is_labeled", "-id")


@sampler(Project.Sampling.SEQUENTIAL)
def sequential(*, project: Project, candidates: QuerySet) -> Iterable[QuerySet]:
    """By id: index ``task_project_labeled`` (project, is_labeled, id)."""
    yield candidates.order_by(*BY_ID)


@sampler(Project.Sampling.UNIFORM)
def uniform(*, project: Project, candidates: QuerySet, rng: random.Random | None = None):
    """Random: pick a random id between the lowest and highest unlabeled id, then take
    the first candidate at or after it, wrapping round to the start.

    Two index probes instead of ``ORDER BY random()`` (a full scan and sort: ~0.5 s
    at 1M tasks). A task after a long run of finished ones is a little more likely to
    come up; for spreading annotators over a project that does not matter.
    """
    open_tasks = Task.objects.filter(project=project, is_labeled=False).values_list("id", flat=True)
    low = open_tasks.order_by(*BY_ID).first()
    if low is None:
        return
    high = open_tasks.order_by(*BY_ID_DESC).first() or low  # the last ones may finish meanwhile
    pivot = (rng or random).randint(low, high)
    yield candidates.filter(id__gte=pivot).order_by(*BY_ID)
    yield candidates.filter(id__lt=pivot).order_by(*BY_ID)


@sampler(Project.Sampling.SCORE_MIN)
def prediction_score_min(*, project: Project, candidates: QuerySet) -> Iterable[QuerySet]:
    """Lowest mean prediction score first, then tasks without a score, by id.
    Index ``task_project_score`` (project, is_labeled, prediction_score, id)."""
    prediction_scores_ensure(project)
    yield candidates.filter(prediction_score__isnull=False).order_by(
        "project_id", "is_labeled", "prediction_score", "id"
    )
    yield candidates.filter(prediction_score__isnull=True).order_by(*BY_ID)


@sampler(Project.Sampling.SCORE_MAX)
def prediction_score_max(*, project: Project, candidates: QuerySet) -> Iterable[QuerySet]:
    """Highest mean prediction score first (ties: newest first, so that the same index
    serves the order read backwards), then tasks without a score, by id."""
    yield candidates.filter(prediction_score__isnull=False).order_by(
        "-project_id", "-is_labeled", F("prediction_score").desc(), "-id"
    )
    yield candidates.filter(prediction_score__isnull=True).order_by(*BY_ID)


def prediction_scores_ensure(project: Project) -> int:
    """Fill in the scores that bulk writers left out, once per change of the project's
    prediction counter (per process). Returns rows changed.

    The prediction services keep ``Task.prediction_score`` themselves; a bulk import
    (COPY or bulk_create) may not. Its tasks carry predictions but no score, which the
    partial index ``task_score_missing`` finds without reading the rest of the project.
    Tasks whose predictions have no score at all stay in that index, hence the counter
    check: they are looked at again only after predictions change.
    """
    key = f"labelhub:scores:{project.pk}:{project.created_at.timestamp()}"
    if cache.get(key) == project.total_predictions_number:
        return 0
    changed = prediction_scores_refresh(project_id=project.pk, missing_only=True)
    seen = project.total_predictions_number
    transaction.on_commit(lambda: cache.set(key, seen, None))
    return changed
