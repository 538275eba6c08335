"""The ``active-learning`` sampling mode of the Label Stream.

- Until the project has ``al_first_batch_size`` annotations (default: ten per class,
  at least the training minimum: ``warmup_size``), picks are random (the ``uniform``
  sampler).
- Then a share ``al_epsilon`` of picks stays random, drawn from the project's *random
  lane*: a fixed pseudo-random share ``al_epsilon`` of the tasks, by id
  (``in_random_lane``), which the active order never serves. Its labeled tasks are a
  uniform sample of the project, picked whatever the model thought of them: the honest
  test set on which ``ml.selectors.al_check`` scores each model version and compares
  actively picked labels with randomly picked ones.
- Otherwise tasks go by ``Task.al_priority``, lowest first (``ml.strategy``: the
  prediction job's margin uncertainty, least sure first), so the order is
  informative. It is one walk of the index task_project_al (project, is_labeled,
  al_priority, id): nothing is computed in the request.
- Tasks without a priority (new since the last prediction job, or in the lane) come
  after, at random. Locks and overlap are the stream's, as in every mode.

Measured on real data in bench/active_learning.py (bench/README.md).
"""

import random

from django.db.models import F, QuerySet, Value
from django.db.models.functions import Mod

from annotations.sampling import sampler, uniform
from projects.models import Project

WARMUP_PER_CLASS = 10
LANE_MULTIPLIER, LANE_OFFSET = 2246822519, 374761393


def warmup_size(*, classes: int, min_training: int, chosen: int | None) -> int:
    """Random picks before the first active one: the project's ``al_first_batch_size``
    when set, else ``WARMUP_PER_CLASS`` per class (and at least the training minimum)."""
    if chosen is not None:
        return chosen
    return max(min_training, WARMUP_PER_CLASS * classes)


def in_random_lane(task_id: int, share: float) -> bool:
    """Whether a task is in the project's random lane: a fixed pseudo-random share of
    the tasks, by id (a hash independent of ``ml.builtin.base.held_out``)."""
    return (task_id * LANE_MULTIPLIER + LANE_OFFSET) % 2**32 < share * 2**32


def first_batch_size(project: Project) -> int:
    return warmup_size(
        classes=label_count(project),
        min_training=project.min_annotations_to_start_training,
        chosen=project.al_first_batch_size,
    )


def label_count(project: Project) -> int:
    """The most fixed choices or labels of any control of the config (0: none)."""
    counts = [
        len(control.get("labels") or [])
        for control in (project.parsed_config or {}).get("controls", {}).values()
    ]
    return max(counts, default=0)


def random_lane(queryset: QuerySet, share: float, field: str = "id") -> QuerySet:
    """The rows whose task (``field``) is in the random lane: ``in_random_lane`` in SQL,
    a filter on the id evaluated while the stream walks its index (about ``1 / share``
    rows per pick)."""
    lane_hash = Mod(F(field) * LANE_MULTIPLIER + LANE_OFFSET, Value(2**32))
    return queryset.alias(lane_hash=lane_hash).filter(lane_hash__lt=int(share * 2**32))


@sampler(Project.Sampling.ACTIVE_LEARNING)
def active_learning(*, project: Project, candidates: QuerySet, rng: random.Random | None = None):
    rng = rng or random
    if project.total_annotations_number < first_batch_size(project):
        yield from uniform(project=project, candidates=candidates, rng=rng)
        return
    if rng.random() < project.al_epsilon:
        yield from uniform(
            project=project, candidates=random_lane(candidates, project.al_epsilon), rng=rng
        )
        yield from uniform(project=project, candidates=candidates, rng=rng)
        return
    yield candidates.filter(al_priority__isnull=False).order_by(
        "project_id", "is_labeled", "al_priority", "id"
    )
    yield from uniform(
        project=project, candidates=candidates.filter(al_priority__isnull=True), rng=rng
    )
