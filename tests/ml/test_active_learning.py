"""Active learning: the order (ml.strategy), the sampler's warm-up and random lane
(ml.sampling), the project's own check against random picks (ml.al_check, the ML
page's curve), and a small synthetic run of bench/active_learning.py as a unit check
(the real-data figures are in bench/README.md)."""

import importlib.util
import random
import sys
from pathlib import Path

import numpy as np
import pytest
from django.utils import timezone

from annotations.services import annotation_create
from annotations.stream import eligible_tasks
from ml.al_check import active_vs_random, verdict
from ml.builtin import MODELS
from ml.models import MLBackend, TrainingJob
from ml.predicting import al_priorities_write
from ml.sampling import active_learning, in_random_lane, warmup_size
from ml.selectors import MIN_HELD_OUT, al_report, lane_scores, metric_summary
from ml.strategy import Ranker, Strategy, rank_in_clusters
from projects.label_config import parse_label_config
from projects.models import Project
from tasks.models import Task
from tests.factories import TEXT_CONFIG, sentiment_choice, sentiment_text

BENCH = Path(__file__).resolve().parents[2] / "bench" / "active_learning.py"


def _bench():
    spec = importlib.util.spec_from_file_location("al_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["al_bench"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_warmup_is_ten_per_class_unless_chosen():
    assert warmup_size(classes=8, min_training=10, chosen=None) == 80
    assert warmup_size(classes=0, min_training=10, chosen=None) == 10
    assert warmup_size(classes=8, min_training=10, chosen=5) == 5


def test_random_lane_is_the_share_asked_and_fixed_by_id():
    ids = range(1, 20001)
    share = np.mean([in_random_lane(i, 0.1) for i in ids])
    assert 0.09 < share < 0.11
    assert not any(in_random_lane(i, 0.0) for i in ids)
    assert all(in_random_lane(i, 1.0) for i in ids)


def test_rank_in_clusters_takes_each_clusters_best_first():
    score = np.array([0.9, 0.8, 0.1, 0.7, 0.2, 0.6])
    clusters = np.array([0, 0, 0, 1, 1, 1])
    order = np.argsort(rank_in_clusters(score, clusters))
    assert list(order[:2]) == [0, 3] and list(order[2:4]) == [1, 5]


def test_ranker_prefers_uncertain_and_with_density_typical_tasks():
    rng = np.random.RandomState(0)
    # Two tight groups and one far outlier; the outlier is the most uncertain.
    features = np.vstack(
        [rng.normal(0, 0.05, (40, 2)) + [1, 0], rng.normal(0, 0.05, (40, 2)) + [0, 1]]
    )
    features = np.vstack([features, [[-1.0, -1.0]]])
    proba = np.tile([0.8, 0.2], (81, 1))
    proba[5] = [0.55, 0.45]
    proba[80] = [0.5, 0.5]
    plain = Ranker(Strategy(measure="margin", clusters=1))
    plain.add(np.arange(81), proba, features)
    ids, priority = plain.priorities()
    assert ids[np.argmin(priority)] == 80
    dense = Ranker(Strategy(measure="margin", clusters=2, density=4.0))
    dense.add(np.arange(81), proba, features)
    ids, priority = dense.priorities()
    assert ids[np.argmin(priority)] == 5  # the outlier is atypical of its cluster


def test_default_order_is_the_margin_order():
    """The product's default (bench/README.md): the least sure first, no clusters."""
    rng = np.random.RandomState(2)
    proba = rng.dirichlet([1, 1, 1], 200)
    ranker = Ranker()
    ranker.add(np.arange(200), proba, rng.normal(size=(200, 8)))
    ids, priority = ranker.priorities()
    top = np.sort(proba, axis=1)
    margin = top[:, -1] - top[:, -2]
    assert list(ids[np.argsort(priority, kind="stable")]) == list(np.argsort(margin, kind="stable"))


def test_ranker_groups_by_predicted_class_take_each_class_in_turn():
    # Class 0's tasks are all more uncertain than class 1's; grouped by the predicted
    # class, the order still alternates between the classes.
    proba = np.array([[0.55, 0.45], [0.56, 0.44], [0.57, 0.43], [0.2, 0.8], [0.1, 0.9]])
    ranker = Ranker(Strategy(groups="class"))
    ranker.add(np.arange(5), proba, np.zeros((5, 2)))
    ids, priority = ranker.priorities()
    assert list(ids[np.argsort(priority)][:4]) == [0, 3, 1, 4]


def test_ranker_badge_picks_come_first_and_spread_out():
    rng = np.random.RandomState(1)
    # Two far groups of equally uncertain tasks: the first two picks take one of each.
    features = np.vstack(
        [rng.normal(0, 0.01, (30, 2)) + [5, 0], rng.normal(0, 0.01, (30, 2)) + [0, 5]]
    )
    proba = np.tile([0.5, 0.5], (60, 1)) + rng.uniform(-0.01, 0.01, (60, 1)) * [1, -1]
    ranker = Ranker(Strategy(badge=2, clusters=1))
    ranker.add(np.arange(60), proba, features)
    ids, priority = ranker.priorities()
    first = ids[np.argsort(priority)][:2]
    assert priority.min() < 0 and {int(i) // 30 for i in first} == {0, 1}


def test_ranker_information_density_with_one_cluster_prefers_typical_tasks():
    # One tight group and one far outlier; the outlier is a little more uncertain.
    rng = np.random.RandomState(3)
    features = np.vstack([rng.normal(0, 0.05, (50, 2)) + [1, 1], [[-1.0, 0.2]]])
    proba = np.tile([0.8, 0.2], (51, 1))
    proba[7] = [0.56, 0.44]
    proba[50] = [0.55, 0.45]
    dense = Ranker(Strategy(density=1.0))
    dense.add(np.arange(51), proba, features)
    ids, priority = dense.priorities()
    assert ids[np.argmin(priority)] == 7
    plain = Ranker(Strategy())
    plain.add(np.arange(51), proba, features)
    ids, priority = plain.priorities()
    assert ids[np.argmin(priority)] == 50


def test_ranker_cluster_margin_spreads_only_the_most_uncertain():
    # Two clusters; cluster 0 holds the three least sure tasks, cluster 1 the next one.
    features = np.array([[1.0, 0.0]] * 4 + [[0.0, 1.0]] * 40)
    margin = np.r_[[0.01, 0.02, 0.03, 0.5], [0.04], np.linspace(0.6, 0.9, 39)]
    proba = np.c_[(1 + margin) / 2, (1 - margin) / 2]
    ranker = Ranker(Strategy(clusters=2, top=4))
    ranker.add(np.arange(44), proba, features)
    ids, priority = ranker.priorities()
    order = list(ids[np.argsort(priority)])
    # The top four (0, 1, 2, 4) in turns by cluster, then the rest by margin alone.
    assert order[:4] == [0, 4, 1, 2] and order[4] == 3 and priority[order[4]] >= 4


@pytest.mark.django_db
def test_sampler_warmup_random_then_priority_and_epsilon_from_the_lane(project, owner):
    tasks = [Task.objects.create(project=project, data={"text": f"t{i}"}) for i in range(60)]
    ids = np.array([t.pk for t in tasks])
    al_priorities_write(project=project, task_ids=ids, priority=np.arange(60.0)[::-1])
    project.sampling = Project.Sampling.ACTIVE_LEARNING
    project.al_epsilon = 0.0
    project.al_first_batch_size = 5
    project.save()
    candidates = eligible_tasks(project=project, user=owner, now=timezone.now())

    def first(rng):
        for queryset in active_learning(project=project, candidates=candidates, rng=rng):
            task = queryset.first()
            if task is not None:
                return task.pk
        return None

    project.total_annotations_number = 0  # the warm-up: random
    assert len({first(random.Random(seed)) for seed in range(10)}) > 3
    project.total_annotations_number = 5  # then lowest priority first
    assert first(random.Random(0)) == tasks[-1].pk
    # Epsilon 1: every pick random and from the lane (here: every task).
    project.al_epsilon = 1.0
    assert len({first(random.Random(seed)) for seed in range(10)}) > 3
    # Epsilon 0.3: the random picks come from the lane only.
    project.al_epsilon = 0.3
    lane = {t.pk for t in tasks if in_random_lane(t.pk, 0.3)}
    assert lane
    random_picks = set()
    for seed in range(40):
        rng = random.Random(seed)
        if random.Random(seed).random() < 0.3:
            random_picks.add(first(rng))
    assert random_picks and random_picks <= lane


def _two_topics(n, seed=0):
    rng = random.Random(seed)
    labels = ["Positive" if rng.random() < 0.5 else "Negative" for _ in range(n)]
    return [sentiment_text(rng, label) for label in labels], labels


def test_active_vs_random_compares_on_the_lane_only():
    model_class = MODELS["text-classifier"]
    spec = model_class.spec_for(parse_label_config(TEXT_CONFIG))
    texts, labels = _two_topics(400)
    task_ids = list(range(1, 401))
    check = active_vs_random(
        model_class=model_class,
        spec=spec,
        inputs=texts,
        targets=labels,
        task_ids=task_ids,
        order={t: t for t in task_ids},
        share=0.3,
    )
    assert check["lane"] == sum(in_random_lane(t, 0.3) for t in task_ids) == check["test"]
    assert check["points"] and all(0 <= p["active"] <= 1 for p in check["points"])
    assert check["points"][-1]["labels"] <= check["lane"] * 2 // 3 + 1
    assert verdict(check)["state"] in {"ahead", "behind", "even"}
    assert verdict({"lane": 4, "points": [], "test": 4})["state"] == "unknown"
    behind = {"lane": 300, "test": 300, "points": [{"labels": 50, "active": 0.6, "random": 0.8}]}
    assert verdict(behind)["state"] == "behind"
    ahead = {"lane": 300, "test": 300, "points": [{"labels": 50, "active": 0.9, "random": 0.7}]}
    assert verdict(ahead)["state"] == "ahead"


@pytest.mark.django_db
def test_metric_summary_warns_under_30_held_out(project):
    backend = MLBackend.objects.create(project=project, kind="builtin", model="text-classifier")
    few = TrainingJob(backend=backend, project=project, metrics={"accuracy": 1.0, "held_out": 10})
    enough = TrainingJob(
        backend=backend, project=project, metrics={"accuracy": 0.8, "held_out": MIN_HELD_OUT}
    )
    train = TrainingJob(
        backend=backend,
        project=project,
        metrics={"accuracy": 1.0, "held_out": 0, "on_training_set": True},
    )
    assert metric_summary(few)["warning"].startswith("from only 10 held-out tasks")
    assert metric_summary(enough) == {
        "metric": "accuracy",
        "value": 0.8,
        "held_out": 30,
        "warning": None,
    }
    assert "training labels" in metric_summary(train)["warning"]


@pytest.mark.django_db
def test_training_checks_active_against_random_and_scores_versions_on_later_lane_labels(
    api, project, owner, jobs_inline, django_capture_on_commit_callbacks
):
    """An active-learning project: each training stores the comparison, and each version
    is scored on random-lane tasks labeled after it was trained."""
    project.sampling = Project.Sampling.ACTIVE_LEARNING
    project.al_epsilon = 0.5
    project.save()
    rng = random.Random(3)
    truth = {}
    for i in range(160):
        label = "Positive" if i % 2 else "Negative"
        truth[
            Task.objects.create(project=project, data={"text": sentiment_text(rng, label)}).pk
        ] = label
    ids = list(truth)
    for task_id in ids[:100]:
        annotation_create(
            task=Task.objects.get(pk=task_id), user=owner, result=sentiment_choice(truth[task_id])
        )
    backend = api.post(
        "/api/ml/",
        {"project": project.pk, "kind": "builtin", "model": "text-classifier"},
        format="json",
    ).json()
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/api/ml/{backend['id']}/train").status_code == 201
    job = TrainingJob.objects.get()
    check = job.metrics["al_check"]
    assert check["lane"] == sum(in_random_lane(t, 0.5) for t in ids[:100])
    assert check["points"], check
    # Label more, after the version was trained: lane tasks among them score it.
    for task_id in ids[100:]:
        annotation_create(
            task=Task.objects.get(pk=task_id), user=owner, result=sentiment_choice(truth[task_id])
        )
    scores = lane_scores(project=project)
    later_lane = [t for t in ids[100:] if in_random_lane(t, 0.5)]
    assert scores[0]["lane_tasks"] == len(later_lane) > 0
    assert scores[0]["accuracy"] >= 0.7
    report = api.get(f"/api/projects/{project.pk}/active-learning-check").json()
    assert report["check"] == check and report["verdict"]["state"] in {"ahead", "behind", "even"}
    assert report == al_report(project=project) | {"check": check}


def test_bench_on_a_synthetic_set_runs_the_product_order():
    """The bench's loop on a small synthetic set (a unit check, not a figure)."""
    bench = _bench()
    texts, labels = _two_topics(500, seed=1)
    data = bench.DataSet.from_lists("synthetic", texts, labels, pool=400, test=100)
    curves = {
        name: bench.simulate(data, bench.MODES[name], 0, step=20, max_labels=60)
        for name in ("uniform", "active-learning")
    }
    assert [p["labels"] for p in curves["active-learning"]] == [20, 40, 60]
    assert curves["active-learning"][-1]["accuracy"] >= 0.7, curves


@pytest.mark.django_db
def test_active_learning_check_needs_a_member(client_for, outsider, annotator, project):
    url = f"/api/projects/{project.pk}/active-learning-check"
    assert client_for(outsider).get(url).status_code == 404
    body = client_for(annotator).get(url).json()
    assert body["check"] is None and body["verdict"]["state"] == "unknown"
    assert body["versions"] == []
