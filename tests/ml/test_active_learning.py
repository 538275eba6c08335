"""Active learning: the sampler's order, and a small run of the savings benchmark
(bench/active_learning.py) with a loose bound; the full figures are in bench/README.md."""

import importlib.util
import random
from pathlib import Path

import numpy as np
import pytest

from annotations.stream import eligible_tasks
from ml.predicting import al_priorities_write
from ml.sampling import active_learning
from projects.models import Project
from tasks.models import Task

BENCH = Path(__file__).resolve().parents[2] / "bench" / "active_learning.py"


def _bench():
    spec = importlib.util.spec_from_file_location("al_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.django_db
def test_sampler_first_batch_random_then_by_priority_with_epsilon(project, owner):
    tasks = [Task.objects.create(project=project, data={"text": f"t{i}"}) for i in range(40)]
    ids = np.array([t.pk for t in tasks])
    # Two clusters; uncertainty rises with the index within each.
    clusters = np.array([i % 2 for i in range(40)])
    uncertainty = np.linspace(0.0, 0.9, 40)
    al_priorities_write(project=project, task_ids=ids, uncertainty=uncertainty, clusters=clusters)
    project.sampling = Project.Sampling.ACTIVE_LEARNING
    project.al_epsilon = 0.0
    project.al_first_batch_size = 5
    project.save()
    from django.utils import timezone

    candidates = eligible_tasks(project=project, user=owner, now=timezone.now())

    def first(rng):
        for queryset in active_learning(project=project, candidates=candidates, rng=rng):
            task = queryset.first()
            if task is not None:
                return task.pk
        return None

    # Below the first batch: random picks, not the priority order.
    project.total_annotations_number = 0
    picks = {first(random.Random(seed)) for seed in range(10)}
    assert len(picks) > 3
    # After it: the most uncertain task of each cluster first, alternating clusters.
    project.total_annotations_number = 5
    ordered = [
        t.pk
        for t in next(
            iter(active_learning(project=project, candidates=candidates, rng=random.Random(0)))
        )[:4]
    ]
    assert ordered[:2] in ([tasks[39].pk, tasks[38].pk], [tasks[38].pk, tasks[39].pk])
    assert {ordered[2], ordered[3]} == {tasks[37].pk, tasks[36].pk}
    # Epsilon 1: always random.
    project.al_epsilon = 1.0
    assert len({first(random.Random(seed)) for seed in range(10)}) > 3


@pytest.mark.postgres  # about a minute; once per suite is enough
@pytest.mark.django_db(transaction=True)
def test_active_learning_beats_uniform_on_a_small_run(jobs_inline):
    bench = _bench()
    data = bench.text_dataset(seed=1, pool=200, test=200)
    budgets = [20, 40, 60]
    curves = {
        mode: bench.simulate(
            kind="text-balanced", mode=mode, seed=0, data=data, budgets=budgets, step=20
        )
        for mode in ("uniform", "active-learning")
    }
    mean = {mode: np.mean([p["accuracy"] for p in points]) for mode, points in curves.items()}
    assert [p["labels"] for p in curves["active-learning"]] == budgets
    assert curves["active-learning"][-1]["accuracy"] >= 0.6, curves
    assert mean["active-learning"] >= mean["uniform"] - 0.05, curves
