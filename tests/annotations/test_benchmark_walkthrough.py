"""The README's Benchmark QA walk-through, step by step through the API, and the Label
Stream rules around it (rework, hidden benchmarks, feedback)."""

import random

import pytest

from annotations.models import Annotation
from importers.services import tasks_import
from projects.models import Project, ProjectMember
from projects.services import member_set
from tasks.models import Task
from tests.factories import TEXT_CONFIG, choice

pytestmark = pytest.mark.django_db


def label_all(client, project_id, answer) -> list[dict]:
    """Label through the Label Stream until it says "No more tasks"; ``answer(n, task)``
    picks the choice for the n-th task served."""
    served = []
    for n in range(50):
        response = client.get(f"/api/projects/{project_id}/next/")
        if response.status_code == 404:
            assert response.json()["detail"] == "No more tasks"
            return served
        task = response.json()
        assert "is_benchmark" not in task and task["annotations"] == []
        served.append(task)
        posted = client.post(
            f"/api/tasks/{task['id']}/annotations/",
            {"result": choice(answer(n, task)), "lead_time": 1.5},
            format="json",
        )
        assert posted.status_code == 201, posted.content
    raise AssertionError("the stream never ran out")


def test_benchmark_qa_walkthrough(client_for, owner, annotator, make_user):
    admin = client_for(owner)
    second = make_user("second@example.com")
    # 1. A benchmark project, its ground truth marked (all three gold answers Positive).
    bench = admin.post(
        "/api/projects/", {"title": "Gold", "label_config": TEXT_CONFIG}, format="json"
    ).json()
    admin.post(
        f"/api/projects/{bench['id']}/import",
        [{"text": "great"}, {"text": "fine"}, {"text": "superb"}],
        format="json",
    )
    gold_ids = [t["id"] for t in admin.get(f"/api/tasks/?project={bench['id']}").json()["tasks"]]
    for task_id in gold_ids:
        created = admin.post(
            f"/api/tasks/{task_id}/annotations/",
            {"result": choice("Positive"), "ground_truth": True},
            format="json",
        )
        assert created.status_code == 201
    # 2. Link it from a production project (overlap 2, six tasks).
    prod = admin.post(
        "/api/projects/",
        {"title": "Production", "label_config": TEXT_CONFIG, "maximum_annotations": 2},
        format="json",
    ).json()
    admin.post(
        f"/api/projects/{prod['id']}/import", [{"text": f"p{i}"} for i in range(6)], format="json"
    )
    for user in (annotator, second):
        member_set(
            project=Project.objects.get(pk=prod["id"]), user=user, role=ProjectMember.Role.ANNOTATOR
        )
    linked = admin.post(
        f"/api/projects/{prod['id']}/quality/settings/",
        {"benchmark_project": bench["id"], "benchmark_first": 2, "benchmark_rate": 0.2},
        format="json",
    )
    assert linked.status_code == 200, linked.content
    assert linked.json()["added"] == 3 and linked.json()["benchmark_tasks"] == 3
    relinked = admin.patch(
        f"/api/projects/{prod['id']}/", {"benchmark_project": bench["id"]}, format="json"
    )
    assert relinked.status_code == 200
    assert Task.objects.filter(project_id=prod["id"], is_benchmark=True).count() == 3
    project = Project.objects.get(pk=prod["id"])
    assert project.task_number == 6  # benchmarks stay out of the counters

    # 3. Two annotators label through the Label Stream. The first answers Positive
    # everywhere; the second answers Negative on the first task served (a benchmark:
    # benchmark_first is 2), Positive after that.
    random.seed(7)
    first = label_all(client_for(annotator), prod["id"], lambda n, t: "Positive")
    served_second = label_all(
        client_for(second), prod["id"], lambda n, t: "Negative" if n == 0 else "Positive"
    )
    benchmark_ids = set(
        Task.objects.filter(project_id=prod["id"], is_benchmark=True).values_list("pk", flat=True)
    )
    for served in (first, served_second):
        ids = [t["id"] for t in served]
        assert set(ids[:2]) <= benchmark_ids  # the first two are benchmarks
        assert len(ids) == len(set(ids))  # never the same task twice
        assert len([i for i in ids if i not in benchmark_ids]) == 6  # all production work
    seen_by_second = len([t for t in served_second if t["id"] in benchmark_ids])

    # 4. benchmark_accuracy by hand: first 1.0; second one wrong of the benchmarks seen.
    report = admin.get(f"/api/projects/{prod['id']}/quality/").json()
    rows = {row["email"]: row for row in report["annotators"]}
    ra, rb = rows["annotator@example.com"], rows["second@example.com"]
    assert ra["benchmark_accuracy"] == 1.0
    assert ra["benchmark_tasks"] == len([t for t in first if t["id"] in benchmark_ids])
    assert rb["benchmark_tasks"] == seen_by_second >= 2
    assert rb["benchmark_accuracy"] == pytest.approx((seen_by_second - 1) / seen_by_second)
    assert report["tasks_with_overlap"] == 6 and report["agreement"] == 1.0
    project.refresh_from_db()
    assert project.total_annotations_number == 12  # production annotations only

    # 5. The export holds no benchmark task, unless asked.
    exported = admin.get(
        f"/api/projects/{prod['id']}/export?exportType=JSON&download_all_tasks=true"
    )
    tasks = [t for t in _json(exported)]
    assert len(tasks) == 6 and not {t["id"] for t in tasks} & benchmark_ids
    with_benchmarks = _json(
        admin.get(
            f"/api/projects/{prod['id']}/export?exportType=JSON&download_all_tasks=true"
            "&include_benchmarks=true"
        )
    )
    assert len(with_benchmarks) == 9


def _json(response):
    import json

    return json.loads(b"".join(response.streaming_content))


def test_benchmarks_hidden_and_feedback(client_for, owner, annotator, project):
    """Own ground truth as benchmarks (no benchmark project), feedback on."""
    ids = tasks_import(project=project, records=[{"text": "a"}, {"text": "b"}], user=owner).task_ids
    admin = client_for(owner)
    admin.post(
        f"/api/tasks/{ids[1]}/annotations/",
        {"result": choice("Negative"), "ground_truth": True},
        format="json",
    )
    admin.patch(
        f"/api/projects/{project.pk}/",
        {"benchmark_first": 1, "benchmark_feedback": True},
        format="json",
    )
    client = client_for(annotator)
    task = client.get(f"/api/projects/{project.pk}/next/").json()
    assert task["id"] == ids[1]  # the gold task comes first
    assert client.get(f"/api/projects/{project.pk}/next/").json()["id"] == ids[1]  # locked
    assert client.get(f"/api/tasks/{ids[1]}/annotations/").json() == []  # gold hidden
    detail = client.get(f"/api/tasks/{ids[1]}/").json()
    assert detail["annotations"] == [] and "is_benchmark" not in detail
    posted = client.post(
        f"/api/tasks/{ids[1]}/annotations/", {"result": choice("Positive")}, format="json"
    ).json()
    assert posted["benchmark_score"] == 0.0
    ordinary = client.post(
        f"/api/tasks/{ids[0]}/annotations/", {"result": choice("Positive")}, format="json"
    ).json()
    assert "benchmark_score" not in ordinary


def test_rejected_work_comes_back_first_with_the_comment(
    client_for, owner, annotator, reviewer, project
):
    ids = tasks_import(
        project=project, records=[{"text": "a"}, {"text": "b"}, {"text": "c"}], user=owner
    ).task_ids
    client = client_for(annotator)
    first = client.post(
        f"/api/tasks/{ids[0]}/annotations/", {"result": choice("Positive")}, format="json"
    ).json()
    client_for(reviewer).post(
        f"/api/annotations/{first['id']}/reviews/",
        {"accepted": False, "comment": "It is negative"},
        format="json",
    )
    served = client.get(f"/api/projects/{project.pk}/next/").json()
    assert served["id"] == ids[0]
    assert served["rework"]["annotation"] == first["id"]
    assert served["rework"]["reviews"][0]["comment"] == "It is negative"
    assert [a["id"] for a in served["annotations"]] == [first["id"]]
    client.patch(f"/api/annotations/{first['id']}/", {"result": choice("Negative")}, format="json")
    after = client.get(f"/api/projects/{project.pk}/next/").json()
    assert after["id"] != ids[0] and "rework" not in after
    # Back in the Verify Stream for the reviewer.
    assert not Annotation.objects.get(pk=first["id"]).reviews.exists()


def test_benchmark_tasks_stay_out_of_the_verify_stream(client_for, owner, reviewer, annotator):
    from annotations.verify import verify_queue

    admin = client_for(owner)
    bench = admin.post(
        "/api/projects/", {"title": "G", "label_config": TEXT_CONFIG}, format="json"
    ).json()
    admin.post(f"/api/projects/{bench['id']}/import", [{"text": "x"}], format="json")
    gold = admin.get(f"/api/tasks/?project={bench['id']}").json()["tasks"][0]["id"]
    admin.post(
        f"/api/tasks/{gold}/annotations/",
        {"result": choice("Positive"), "ground_truth": True},
        format="json",
    )
    prod = admin.post(
        "/api/projects/", {"title": "P", "label_config": TEXT_CONFIG}, format="json"
    ).json()
    project = Project.objects.get(pk=prod["id"])
    member_set(project=project, user=annotator, role=ProjectMember.Role.ANNOTATOR)
    admin.patch(
        f"/api/projects/{prod['id']}/",
        {"benchmark_project": bench["id"], "benchmark_first": 1},
        format="json",
    )
    task = client_for(annotator).get(f"/api/projects/{prod['id']}/next/").json()
    client_for(annotator).post(
        f"/api/tasks/{task['id']}/annotations/", {"result": choice("Positive")}, format="json"
    )
    assert Task.objects.get(pk=task["id"]).is_benchmark
    assert not verify_queue(project=project, user=owner).exists()
