"""One owner for ground-truth marks (issue #24 row 14): every bulk mark and unmark (the
Data Manager's actions, the Ground Truth Manager's sample and reset) goes through
``annotations.ground_truth``, with one counter rule, and never touches a Benchmark QA
task: resetting the production project's ground truth leaves the gold answers of its
benchmark copies (and so Benchmark QA) as they were."""

import pathlib
import re

import pytest

from annotations.models import Annotation
from importers.services import tasks_import
from projects.models import Project
from projects.services import project_create
from tasks.models import Task
from tests.factories import TEXT_CONFIG, app_sources, choice

pytestmark = pytest.mark.django_db


def _gold(project):
    return Annotation.objects.filter(task__project=project, task__is_benchmark=True)


def _counter_matches(project):
    project = Project.objects.get(pk=project.pk)
    real = Annotation.objects.filter(
        project=project, ground_truth=True, task__is_benchmark=False
    ).count()
    assert project.ground_truth_number == real, (project.ground_truth_number, real)


def test_reset_keeps_the_benchmark_copies_gold(client_for, owner, annotator, project):
    admin = client_for(owner)
    gold = project_create(user=owner, title="Gold", label_config=TEXT_CONFIG)
    gold_ids = tasks_import(project=gold, records=[{"text": "a"}, {"text": "b"}], user=owner)
    for task_id in gold_ids.task_ids:
        admin.post(
            f"/api/tasks/{task_id}/annotations/",
            {"result": choice("Positive"), "ground_truth": True},
            format="json",
        )
    ids = tasks_import(project=project, records=[{"text": "p"}, {"text": "q"}], user=owner)
    linked = admin.post(
        f"/api/projects/{project.pk}/quality/settings/",
        {"benchmark_project": gold.pk, "benchmark_first": 2, "benchmark_feedback": True},
        format="json",
    )
    assert linked.json()["added"] == 2
    assert _gold(project).filter(ground_truth=True).count() == 2
    # An annotator answers one benchmark; the owner labels production tasks.
    client = client_for(annotator)
    served = client.get(f"/api/projects/{project.pk}/next/").json()
    client.post(
        f"/api/tasks/{served['id']}/annotations/", {"result": choice("Positive")}, format="json"
    )
    for task_id in ids.task_ids:
        admin.post(
            f"/api/tasks/{task_id}/annotations/", {"result": choice("Negative")}, format="json"
        )

    # Every bulk path, with every task selected (benchmark copies included).
    everything = {"selectedItems": {"all": True}}
    for url, body in (
        (f"/api/dm/actions/?id=mark_ground_truth&project={project.pk}", everything),
        (f"/api/dm/actions/?id=unmark_ground_truth&project={project.pk}", everything),
        (f"/api/projects/{project.pk}/ground-truth/sample", {"filters": None, "fraction": 1}),
        (f"/api/projects/{project.pk}/ground-truth/reset", {}),
    ):
        response = admin.post(url, body, format="json")
        assert response.status_code == 200, (url, response.content)
        assert _gold(project).filter(ground_truth=True).count() == 2, url
        assert not _gold(project).filter(ground_truth=True, completed_by__isnull=False).exists()
        _counter_matches(project)

    # Benchmark QA still scores against the gold answer.
    second = client.get(f"/api/projects/{project.pk}/next/").json()
    assert Task.objects.get(pk=second["id"]).is_benchmark
    posted = client.post(
        f"/api/tasks/{second['id']}/annotations/", {"result": choice("Negative")}, format="json"
    )
    assert posted.json()["benchmark_score"] == 0.0
    # A single PATCH cannot make a benchmark answer gold, nor unmark the gold.
    gold_answer = _gold(project).filter(ground_truth=True).first()
    refused = admin.patch(
        f"/api/annotations/{gold_answer.pk}/", {"ground_truth": False}, format="json"
    )
    assert refused.status_code == 400, refused.content
    assert refused.json()["errors"][0]["field"] == "ground_truth"


def test_ground_truth_is_written_in_one_place():
    """No module but ``annotations/ground_truth.py`` marks or unmarks (the annotation
    services' single-annotation create and update call it too). Importers copy whole
    annotations as they come (the flag with the rest) and are left out."""
    root = pathlib.Path(__file__).resolve().parents[2]
    writers = []
    for path in app_sources(root, skipped={"tests", "migrations", "importers", "bench"}):
        text = path.read_text()
        if re.search(r"\.update\([^)]*ground_truth\s*=", text):
            writers.append(str(path.relative_to(root)))
    assert writers == ["annotations/ground_truth.py"], writers
