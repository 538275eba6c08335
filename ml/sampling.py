"""The ``active-learning`` sampling mode of the Label Stream.

- Until the project has ``al_first_batch_size`` annotations (default: the training
  minimum), picks are random (the ``uniform`` sampler).
- Then a share ``al_epsilon`` of picks stays random, to keep the model honest.
- Otherwise tasks go by ``Task.al_priority``, lowest first: the prediction job's
  uncertainty ranked within clusters of similar tasks (``ml.predicting``), so the order
  is informative and diverse. It is one walk of the index task_project_al
  (project, is_labeled, al_priority, id): nothing is computed in the request.
- Tasks without a priority yet (new since the last prediction job) come after, at
  random. Locks and overlap are the stream's, as in every mode.
"""

import random

from django.db.models import QuerySet

from annotations.sampling import sampler, uniform
from projects.models import Project


def first_batch_size(project: Project) -> int:
    if project.al_first_batch_size is not None:
        return project.al_first_batch_size
    return project.min_annotations_to_start_training


@sampler(Project.Sampling.ACTIVE_LEARNING)
def active_learning(*, project: Project, candidates: QuerySet, rng: random.Random | None = None):
    rng = rng or random
    if project.total_annotations_number < first_batch_size(project) or (
        rng.random() < project.al_epsilon
    ):
        yield from uniform(project=project, candidates=candidates, rng=rng)
        return
    yield candidates.filter(al_priority__isnull=False).order_by(
        "project_id", "is_labeled", "al_priority", "id"
    )
    yield from uniform(
        project=project, candidates=candidates.filter(al_priority__isnull=True), rng=rng
    )
