"""Benchmark QA secrecy and agreement leaks (issue #24 rows 1, 2 and 6).

An annotator must not be able to tell a benchmark task from any other task in any answer
or page, learn its gold answer from ``agreement`` or from their own quality row, score it
more than once, or read a co-annotator's answer through agreement figures."""

import json
import re

import pytest

from importers.services import tasks_import
from projects.models import Project, ProjectMember
from projects.services import member_remove, member_set, project_create
from tasks.models import Task
from tests.factories import TEXT_CONFIG, choice

pytestmark = pytest.mark.django_db

# What differs between any two tasks by nature: who they are and what they hold.
OWN = {"id", "data", "meta", "created_at", "updated_at", "drafts"}


def _gold_project(owner, texts=("great", "fine")) -> Project:
    gold = project_create(user=owner, title="Gold", label_config=TEXT_CONFIG)
    ids = tasks_import(project=gold, records=[{"text": t} for t in texts], user=owner).task_ids
    return gold, ids


def _mark_gold(client, task_ids, value="Positive"):
    for task_id in task_ids:
        response = client.post(
            f"/api/tasks/{task_id}/annotations/",
            {"result": choice(value), "ground_truth": True},
            format="json",
        )
        assert response.status_code == 201, response.content


@pytest.fixture
def linked(client_for, owner, annotator, project):
    """``project`` (two production tasks) linked to a gold project of two tasks;
    the first task each annotator gets is a benchmark; feedback off."""
    gold, gold_ids = _gold_project(owner)
    _mark_gold(client_for(owner), gold_ids)
    tasks_import(project=project, records=[{"text": "p0"}, {"text": "p1"}], user=owner)
    response = client_for(owner).post(
        f"/api/projects/{project.pk}/quality/settings/",
        {"benchmark_project": gold.pk, "benchmark_first": 1},
        format="json",
    )
    assert response.status_code == 200 and response.json()["added"] == 2
    benchmark_ids = list(
        Task.objects.filter(project=project, is_benchmark=True).values_list("pk", flat=True)
    )
    ordinary_ids = list(
        Task.objects.filter(project=project, is_benchmark=False).values_list("pk", flat=True)
    )
    return gold, benchmark_ids, ordinary_ids


def _shape(task: dict) -> dict:
    return {key: value for key, value in task.items() if key not in OWN}


def test_a_benchmark_task_looks_like_any_other_task(client_for, annotator, project, linked):
    _, benchmark_ids, ordinary_ids = linked
    client = client_for(annotator)

    served = client.get(f"/api/projects/{project.pk}/next/").json()
    assert served["id"] in benchmark_ids
    ordinary_detail = client.get(f"/api/tasks/{ordinary_ids[0]}/").json()
    benchmark_detail = client.get(f"/api/tasks/{served['id']}/").json()
    assert _shape(benchmark_detail) == _shape(ordinary_detail)
    assert benchmark_detail["is_labeled"] is False and benchmark_detail["total_annotations"] == 0
    # /next/ gives what the detail gives (plus the editor's drafts).
    assert _shape(served) == {
        **_shape(ordinary_detail),
        "predictions": served["predictions"],
    }

    for fields in ("", "&fields=all"):
        answer = client.get(f"/api/tasks/?project={project.pk}{fields}").json()
        by_id = {t["id"]: _shape(t) for t in answer["tasks"]}
        assert set(benchmark_ids) <= set(by_id)
        for pk in benchmark_ids:
            assert by_id[pk] == by_id[ordinary_ids[0]], (fields, by_id[pk])
        # The totals are the sums of what the rows show.
        assert answer["total_annotations"] == 0 and answer["total"] == 4
    # Nor do the list's options single them out.
    annotated = client.get(f"/api/tasks/?project={project.pk}&only_annotated=true").json()
    assert annotated["tasks"] == [] and annotated["total"] == 0
    by_date = client.get(f"/api/tasks/?project={project.pk}&order=-completed_at")
    assert by_date.status_code == 400 and by_date.json()["errors"][0]["field"] == "order"

    # The label page's JSON: the first task it holds is the held benchmark.
    page = client_for(annotator)
    page.force_login(annotator)
    html = page.get(f"/projects/{project.pk}/label").content.decode()
    data = json.loads(
        re.search(r'<script id="editor-data" type="application/json">(.*?)</script>', html, re.S)[1]
    )
    assert data["task"]["id"] == served["id"]
    assert _shape(data["task"]) == _shape(served)

    # The project detail does not tell annotators the benchmark rules.
    detail = client.get(f"/api/projects/{project.pk}/").json()
    for name in ("benchmark_first", "benchmark_rate", "benchmark_project"):
        assert name not in detail
    listed = client.get("/api/projects/").json()["results"]
    assert "benchmark_rate" not in listed[0]


def test_agreement_does_not_reveal_the_gold_answer(client_for, annotator, project, linked):
    _, benchmark_ids, _ = linked
    client = client_for(annotator)
    served = client.get(f"/api/projects/{project.pk}/next/").json()
    posted = client.post(
        f"/api/tasks/{served['id']}/annotations/", {"result": choice("Negative")}, format="json"
    ).json()
    assert "benchmark_score" not in posted  # feedback is off
    seen = []
    for value in ("Negative", "Positive"):
        client.patch(f"/api/annotations/{posted['id']}/", {"result": choice(value)}, format="json")
        detail = client.get(f"/api/tasks/{served['id']}/").json()
        row = client.get(f"/api/tasks/?project={project.pk}").json()["tasks"]
        mine = client.get(f"/api/projects/{project.pk}/quality/").json()["annotators"][0]
        seen.append(
            (
                detail["agreement"],
                [t["agreement"] for t in row if t["id"] == served["id"]],
                mine["benchmark_accuracy"],
                mine["benchmark_tasks"],
                mine["gt_accuracy"],
            )
        )
    assert seen[0] == seen[1]
    assert seen[0][0] is None and seen[0][2] is None


def test_feedback_once_and_no_second_annotation(client_for, owner, annotator, project, linked):
    client_for(owner).patch(
        f"/api/projects/{project.pk}/", {"benchmark_feedback": True}, format="json"
    )
    client = client_for(annotator)
    served = client.get(f"/api/projects/{project.pk}/next/").json()
    first = client.post(
        f"/api/tasks/{served['id']}/annotations/", {"result": choice("Negative")}, format="json"
    )
    assert first.status_code == 201 and first.json()["benchmark_score"] == 0.0
    again = client.post(
        f"/api/tasks/{served['id']}/annotations/", {"result": choice("Positive")}, format="json"
    )
    assert again.status_code == 400, again.content
    assert "benchmark_score" not in again.json()
    assert again.json()["errors"][0]["field"] == "task"
    # A skip first does not buy a second score either.
    other = client.get(f"/api/projects/{project.pk}/next/").json()
    skipped = client.post(
        f"/api/tasks/{other['id']}/annotations/",
        {"result": [], "was_cancelled": True},
        format="json",
    )
    assert skipped.status_code == 201
    # An ordinary task answers the same to a second annotation by the same annotator.
    ordinary = Task.objects.filter(project=project, is_benchmark=False).first()
    one = client.post(
        f"/api/tasks/{ordinary.pk}/annotations/", {"result": choice("Positive")}, format="json"
    )
    two = client.post(
        f"/api/tasks/{ordinary.pk}/annotations/", {"result": choice("Positive")}, format="json"
    )
    assert one.status_code == 201 and two.status_code == 400
    assert two.json() == again.json()


def test_a_removed_manager_cannot_relink_the_gold_project(client_for, make_user, staff, annotator):
    """Row 2: every use of the stored link checks the caller may still manage it."""
    manager = make_user("manager@example.com")
    gold, gold_ids = _gold_project(staff, texts=("a",))
    member_set(project=gold, user=manager, role=ProjectMember.Role.ADMIN)
    _mark_gold(client_for(staff), gold_ids)
    prod = project_create(user=manager, title="P", label_config=TEXT_CONFIG)
    mine = client_for(manager)
    first = mine.post(
        f"/api/projects/{prod.pk}/quality/settings/",
        {"benchmark_project": gold.pk, "benchmark_first": 1},
        format="json",
    )
    assert first.json()["added"] == 1
    member_remove(project=gold, user=manager)
    new_ids = tasks_import(project=gold, records=[{"text": "b"}], user=staff).task_ids
    _mark_gold(client_for(staff), new_ids)

    for method, url, body in (
        ("post", f"/api/projects/{prod.pk}/quality/settings/", {}),
        ("post", f"/api/projects/{prod.pk}/quality/settings/", {"benchmark_rate": 0.5}),
        ("patch", f"/api/projects/{prod.pk}/", {"benchmark_project": gold.pk}),
    ):
        response = getattr(mine, method)(url, body, format="json")
        assert response.status_code in (400, 403), (url, body, response.status_code)
        assert Task.objects.filter(project=prod, is_benchmark=True).count() == 1
    # Unlinking stays possible, and then the other settings save again.
    unlinked = mine.post(
        f"/api/projects/{prod.pk}/quality/settings/", {"benchmark_project": None}, format="json"
    )
    assert unlinked.status_code == 200, unlinked.content
    assert (
        mine.post(
            f"/api/projects/{prod.pk}/quality/settings/", {"benchmark_rate": 0.5}, format="json"
        ).status_code
        == 200
    )
    # Someone who still manages both links the new gold task.
    member_set(project=prod, user=staff, role=ProjectMember.Role.ADMIN)
    relinked = client_for(staff).post(
        f"/api/projects/{prod.pk}/quality/settings/", {"benchmark_project": gold.pk}, format="json"
    )
    assert relinked.json()["added"] == 1


@pytest.fixture
def overlap(client_for, owner, annotator, make_user, project):
    second = make_user("second@example.com")
    member_set(project=project, user=second, role=ProjectMember.Role.ANNOTATOR)
    project.maximum_annotations = 2
    project.save()
    ids = tasks_import(
        project=project, records=[{"text": f"t{i}"} for i in range(3)], user=owner
    ).task_ids
    for task_id in ids:
        client_for(second).post(
            f"/api/tasks/{task_id}/annotations/", {"result": choice("Positive")}, format="json"
        )
    return second, ids


def test_agreement_cannot_be_turned_into_a_co_annotators_answer(
    client_for, annotator, project, overlap
):
    """Row 6: no figure an annotator sees moves when they change one label."""
    second, ids = overlap
    client = client_for(annotator)
    posted = client.post(
        f"/api/tasks/{ids[0]}/annotations/", {"result": choice("Negative")}, format="json"
    ).json()
    for task_id in ids[1:]:
        client.post(
            f"/api/tasks/{task_id}/annotations/", {"result": choice("Positive")}, format="json"
        )

    def figures():
        detail = client.get(f"/api/tasks/{ids[0]}/").json()
        listed = client.get(f"/api/tasks/?project={project.pk}&fields=all").json()["tasks"]
        report = client.get(f"/api/projects/{project.pk}/quality/").json()
        history = client.get(f"/api/tasks/{ids[0]}/agreement/").json()
        return (
            detail["agreement"],
            [t["agreement"] for t in listed],
            report["agreement"],
            report["annotators"][0]["agreement"],
            history.get("agreement"),
        )

    before = figures()
    client.patch(f"/api/annotations/{posted['id']}/", {"result": choice("Positive")}, format="json")
    after = figures()
    assert before == after
    assert before[0] is None and set(before[1]) == {None}

    matrix = client.get(f"/api/projects/{project.pk}/quality/agreement-matrix/")
    assert second.email not in matrix.content.decode()
    csv_body = client.get(f"/api/projects/{project.pk}/quality/?format=csv").content.decode()
    assert second.email not in csv_body
    # Admins still see everything.
    assert client_for(project.created_by).get(f"/api/tasks/{ids[0]}/").json()["agreement"] == 1.0
