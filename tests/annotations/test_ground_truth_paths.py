"""Issue #27 item 4: one owner for ground truth (``annotations.ground_truth.ground_truth_set``)
and for counters (``annotations.counters``), whichever path marks: a single PATCH, a create
with ``ground_truth``, the Data Manager's bulk mark, a benchmark link."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations.models import Annotation, AnnotatorTotal
from importers.services import tasks_import
from labelhub import events
from tasks.models import Task
from tests.factories import TEXT_CONFIG, app_sources, choice

pytestmark = pytest.mark.django_db


@pytest.fixture
def tasks(project, owner):
    ids = tasks_import(project=project, records=[{"text": "a"}, {"text": "b"}], user=owner).task_ids
    return list(Task.objects.filter(pk__in=ids).order_by("pk"))


@pytest.fixture
def published():
    seen: list = []
    events.subscribe(seen.append)
    yield seen
    events._handlers.remove(seen.append)


def _gt_events(seen):
    return [list(e.ids) for e in seen if e.action == events.GROUND_TRUTH_CHANGED]


def test_patch_create_and_bulk_mark_move_the_counter_and_the_event_alike(
    api, project, tasks, published
):
    first = api.post(
        f"/api/tasks/{tasks[0].pk}/annotations/",
        {"result": choice("Positive"), "ground_truth": True},
        format="json",
    ).json()
    assert first["ground_truth"] is True
    second = api.post(
        f"/api/tasks/{tasks[1].pk}/annotations/", {"result": choice("Negative")}, format="json"
    ).json()
    project.refresh_from_db()
    assert project.ground_truth_number == 1
    patched = api.patch(f"/api/annotations/{second['id']}/", {"ground_truth": True}, format="json")
    assert patched.status_code == 200 and patched.json()["ground_truth"] is True
    project.refresh_from_db()
    assert project.ground_truth_number == 2
    # The same value again changes nothing and announces nothing.
    api.patch(f"/api/annotations/{second['id']}/", {"ground_truth": True}, format="json")
    unmarked = api.patch(f"/api/annotations/{first['id']}/", {"ground_truth": False}, format="json")
    assert unmarked.json()["ground_truth"] is False
    project.refresh_from_db()
    assert project.ground_truth_number == 1
    assert _gt_events(published) == [[first["id"]], [second["id"]], [first["id"]]]
    assert (
        project.ground_truth_number
        == Annotation.objects.filter(project=project, ground_truth=True).count()
    )


def test_a_single_mark_recounts_the_stored_quality_totals(
    api, client_for, annotator, project, tasks
):
    """The single PATCH used to leave the ground-truth accuracy totals as they were; it now
    takes the bulk path's recount."""
    mine = client_for(annotator).post(
        f"/api/tasks/{tasks[0].pk}/annotations/", {"result": choice("Positive")}, format="json"
    )
    gold = api.post(
        f"/api/tasks/{tasks[0].pk}/annotations/", {"result": choice("Positive")}, format="json"
    ).json()
    before = AnnotatorTotal.objects.filter(project=project, user=annotator).values().first()
    api.patch(f"/api/annotations/{gold['id']}/", {"ground_truth": True}, format="json")
    after = AnnotatorTotal.objects.filter(project=project, user=annotator).values().first()
    assert mine.status_code == 201 and before != after


def test_a_skip_is_never_marked_on_any_path(api, project, tasks):
    created = api.post(
        f"/api/tasks/{tasks[0].pk}/annotations/",
        {"result": [], "was_cancelled": True, "ground_truth": True},
        format="json",
    )
    assert created.status_code == 400 and "ground_truth" in created.content.decode()
    skip = api.post(
        f"/api/tasks/{tasks[0].pk}/annotations/",
        {"result": [], "was_cancelled": True},
        format="json",
    ).json()
    refused = api.patch(f"/api/annotations/{skip['id']}/", {"ground_truth": True}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "ground_truth"
    # Un-skipping and marking in one PATCH is fine.
    both = api.patch(
        f"/api/annotations/{skip['id']}/",
        {"ground_truth": True, "was_cancelled": False, "result": choice("Positive")},
        format="json",
    )
    assert both.status_code == 200 and both.json()["ground_truth"] is True
    project.refresh_from_db()
    assert project.ground_truth_number == 1 and project.skipped_annotations_number == 0


def test_benchmark_link_counts_its_copies_in_one_update(api, project):
    gold = api.post("/api/projects/", {"title": "Gold", "label_config": TEXT_CONFIG}, format="json")
    gold = gold.json()["id"]
    api.post(f"/api/projects/{gold}/import", [{"text": f"g{i}"} for i in range(4)], format="json")
    for task in Task.objects.filter(project_id=gold):
        api.post(
            f"/api/tasks/{task.pk}/annotations/",
            {"result": choice("Positive"), "ground_truth": True},
            format="json",
        )
    with CaptureQueriesContext(connection) as queries:
        added = api.post(
            f"/api/projects/{project.pk}/quality/settings/",
            {"benchmark_project": gold},
            format="json",
        )
    assert added.json()["added"] == 4
    task_updates = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith(f'UPDATE "{Task._meta.db_table}"')
        and "total_annotations" in q["sql"]
    ]
    assert len(task_updates) == 1, task_updates
    copies = Task.objects.filter(project=project, is_benchmark=True)
    assert sorted(copies.values_list("total_annotations", flat=True)) == [1, 1, 1, 1]
    assert all(copies.values_list("is_labeled", flat=True))


def test_counters_are_written_in_one_place():
    """Every UPDATE of a Task or Project counter (and of the labeled state) is in
    ``annotations/counters.py``. Importers insert rows with their counters set (a COPY has
    no UPDATE to route) and are left out."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2]
    counter = re.compile(
        r"\.update\([^)]*\b(total_annotations|cancelled_annotations|total_predictions"
        r"|is_labeled|overlap_extra|prediction_score|[a-z_]+_number)\s*="
    )
    writers = []
    for path in app_sources(root, skipped={"tests", "migrations", "importers", "bench"}):
        if counter.search(path.read_text()):
            writers.append(str(path.relative_to(root)))
    assert writers == ["annotations/counters.py"], writers
