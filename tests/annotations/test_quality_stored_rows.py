"""The report's stored rows (review counts and ground-truth scores per annotator, the
project agreement, lead-time buckets) stay equal to a recount through every writer:
review set/changed/cleared, ground truth marked/unmarked/edited (one by one and in
bulk), annotation and task deletes; and ``quality_refresh`` rebuilds the same numbers."""

import statistics

import pytest

from annotations.models import AnnotatorTotal, LeadTimeBucket, ProjectAgreement
from annotations.quality import (
    LEAD_TIME_BOUNDS,
    TOTAL_COLUMNS,
    lead_time_bucket,
    quality_refresh,
    quality_totals_recount,
)
from importers.services import tasks_import
from projects.models import ProjectMember
from projects.services import member_set
from tasks.models import Task
from tests.annotations.test_quality_api import annotate
from tests.factories import choice

pytestmark = pytest.mark.django_db


def stored(project) -> dict:
    """The stored rows, zero rows left out (a write may leave a row at 0; a recount
    writes none), sums rounded (a kept sum and a recounted one may differ in the last
    bits)."""
    totals = {
        row["user_id"]: tuple(round(row[c], 9) for c in TOTAL_COLUMNS)
        for row in AnnotatorTotal.objects.filter(project=project).values()
        if any(row[c] for c in TOTAL_COLUMNS)
    }
    agreement = ProjectAgreement.objects.filter(project=project).values_list(
        "overlap_tasks", "agreement_sum", "agreement_count"
    )
    buckets = {
        (u, b): n
        for u, b, n in LeadTimeBucket.objects.filter(project=project).values_list(
            "user_id", "bucket", "count"
        )
        if n
    }
    overlap, total, count = agreement.first() or (0, 0.0, 0)
    return {
        "totals": totals,
        "agreement": (overlap, round(total, 9), count),
        "buckets": buckets,
    }


def assert_kept(project) -> dict:
    """The rows the writes kept equal the rows a recount builds; returns them."""
    kept = stored(project)
    quality_totals_recount(project=project)
    assert stored(project) == kept
    return kept


def row(client, project, user) -> dict:
    body = client.get(f"/api/projects/{project.pk}/quality/").json()
    return {r["user"]: r for r in body["annotators"]}.get(user.pk, {})


def test_review_counts_follow_set_change_clear_and_delete(
    client_for, owner, reviewer, annotator, tasks
):
    project = tasks[0].project
    a, r, o = client_for(annotator), client_for(reviewer), client_for(owner)
    x = annotate(a, tasks[0], "Positive")
    annotate(a, tasks[1], "Positive")
    verdicts = lambda: (  # noqa: E731
        row(o, project, annotator)["reviews_accepted"],
        row(o, project, annotator)["reviews_rejected"],
    )
    r.post(f"/api/annotations/{x['id']}/reviews/", {"accepted": False}, format="json")
    assert verdicts() == (0, 1)
    assert_kept(project)
    r.post(f"/api/annotations/{x['id']}/reviews/", {"accepted": True}, format="json")
    assert verdicts() == (1, 0)  # the same reviewer changed their verdict
    o.post(f"/api/annotations/{x['id']}/reviews/", {"accepted": False}, format="json")
    assert verdicts() == (1, 1)
    assert_kept(project)
    # The annotator's fix clears the rejection.
    a.patch(f"/api/annotations/{x['id']}/", {"result": choice("Negative")}, format="json")
    assert verdicts() == (1, 0)
    assert_kept(project)
    # Deleting the annotation takes its reviews with it.
    assert a.delete(f"/api/annotations/{x['id']}/").status_code == 204
    assert verdicts() == (0, 0)
    assert assert_kept(project)["totals"] == {}


def test_ground_truth_scores_follow_mark_edit_unmark_and_delete(
    client_for, owner, annotator, second, tasks
):
    project = tasks[0].project
    a, b, o = client_for(annotator), client_for(second), client_for(owner)
    annotate(a, tasks[0], "Positive")
    annotate(b, tasks[0], "Negative")
    gold = annotate(o, tasks[0], "Positive")

    def accuracy():
        return [
            (row(o, project, u)["gt_accuracy"], row(o, project, u)["gt_tasks"])
            for u in (annotator, second)
        ]

    assert accuracy() == [(None, 0), (None, 0)]
    o.patch(f"/api/annotations/{gold['id']}/", {"ground_truth": True}, format="json")
    assert accuracy() == [(1.0, 1), (0.0, 1)]
    assert_kept(project)
    # The ground-truth answer is edited: both scores flip.
    o.patch(f"/api/annotations/{gold['id']}/", {"result": choice("Negative")}, format="json")
    assert accuracy() == [(0.0, 1), (1.0, 1)]
    assert_kept(project)
    # A second task, ground truth given at creation.
    annotate(a, tasks[1], "Negative")
    annotate(o, tasks[1], "Negative", ground_truth=True)
    assert accuracy() == [(0.5, 2), (1.0, 1)]
    assert_kept(project)
    o.patch(f"/api/annotations/{gold['id']}/", {"ground_truth": False}, format="json")
    assert accuracy() == [(1.0, 1), (None, 0)]
    assert_kept(project)
    # Deleting the ground truth of task 1 leaves no gold at all.
    gold1 = project.annotations.get(task=tasks[1], ground_truth=True)
    assert o.delete(f"/api/annotations/{gold1.pk}/").status_code == 204
    assert accuracy() == [(None, 0), (None, 0)]
    assert assert_kept(project)["totals"] == {}


def test_bulk_ground_truth_writers_recount(client_for, owner, annotator, second, tasks):
    project = tasks[0].project
    a, b, o = client_for(annotator), client_for(second), client_for(owner)
    annotate(a, tasks[0], "Positive")
    annotate(b, tasks[0], "Negative")
    annotate(o, tasks[0], "Positive")  # the latest: the action marks it
    selected = {"selectedItems": {"all": False, "included": [tasks[0].pk]}}
    url = f"/api/dm/actions/?project={project.pk}&id="
    assert o.post(url + "mark_ground_truth", selected, format="json").status_code == 200
    assert (row(o, project, annotator)["gt_accuracy"], row(o, project, second)["gt_accuracy"]) == (
        1.0,
        0.0,
    )
    assert_kept(project)
    assert o.post(url + "unmark_ground_truth", selected, format="json").status_code == 200
    assert row(o, project, annotator)["gt_tasks"] == 0
    assert_kept(project)
    response = o.post(
        f"/api/projects/{project.pk}/ground-truth/sample/", {"fraction": 1}, format="json"
    )
    assert response.status_code == 200, response.content
    # Everything is ground truth now: an annotation against another gold one is not scored.
    assert row(o, project, annotator)["gt_tasks"] == 0
    assert_kept(project)
    assert o.post(f"/api/projects/{project.pk}/ground-truth/reset/").status_code == 200
    assert_kept(project)
    assert stored(project)["totals"] == {}


def test_project_agreement_follows_writes_and_task_delete(
    client_for, owner, annotator, second, tasks
):
    project = tasks[0].project
    a, b, o = client_for(annotator), client_for(second), client_for(owner)
    x = annotate(a, tasks[0], "Positive", lead_time=3)
    annotate(b, tasks[0], "Positive", lead_time=5)
    annotate(a, tasks[1], "Positive", lead_time=7)
    annotate(b, tasks[1], "Negative", lead_time=9)
    r = o.post(f"/api/annotations/{x['id']}/reviews/", {"accepted": True}, format="json")
    assert r.status_code in (200, 201)

    def report():
        body = o.get(f"/api/projects/{project.pk}/quality/").json()
        return body["agreement"], body["tasks_with_overlap"]

    assert report() == (0.5, 2)
    assert_kept(project)
    # A skip on a third task adds no overlap task.
    a.post(f"/api/tasks/{tasks[2].pk}/annotations/", {"was_cancelled": True}, format="json")
    assert report() == (0.5, 2)
    # Task 0 goes: its agreement, its reviews, its labels and lead times with it.
    assert o.delete(f"/api/tasks/{tasks[0].pk}/").status_code == 204
    assert report() == (0.0, 1)
    kept = assert_kept(project)
    assert kept["totals"] == {}  # the one review was on task 0
    assert row(o, project, annotator)["lead_time_median"] == 7
    body = o.get(f"/api/projects/{project.pk}/quality/").json()
    assert body["labels"] == {"sentiment": {"Positive": 1, "Negative": 1}}
    # Every kept figure (day rows, pair totals, labels too) equals a full recount.
    matrix = o.get(f"/api/projects/{project.pk}/quality/agreement-matrix/").json()
    quality_refresh(project=project)
    assert o.get(f"/api/projects/{project.pk}/quality/").json() == body
    assert o.get(f"/api/projects/{project.pk}/quality/agreement-matrix/").json() == matrix
    assert matrix["pairs"][0]["tasks"] == 1
    # The Data Manager's task delete does the same.
    selected = {"selectedItems": {"all": False, "included": [tasks[1].pk]}}
    url = f"/api/dm/actions/?project={project.pk}&id=delete_tasks"
    assert o.post(url, selected, format="json").status_code == 200
    assert report() == (None, 0)
    assert assert_kept(project)["buckets"] == {}
    assert o.get(f"/api/projects/{project.pk}/quality/").json()["labels"] == {}


def test_quality_refresh_rebuilds_the_same_numbers(
    client_for, owner, reviewer, annotator, second, tasks
):
    project = tasks[0].project
    a, b, o = client_for(annotator), client_for(second), client_for(owner)
    x = annotate(a, tasks[0], "Positive", lead_time=1.5)
    annotate(b, tasks[0], "Negative", lead_time=30)
    annotate(a, tasks[1], "Negative", lead_time=2)
    annotate(b, tasks[1], "Negative", lead_time=400)
    annotate(o, tasks[1], "Negative", ground_truth=True, lead_time=8)
    client_for(reviewer).post(
        f"/api/annotations/{x['id']}/reviews/", {"accepted": False}, format="json"
    )
    before = o.get(f"/api/projects/{project.pk}/quality/").json()
    kept = stored(project)
    for model in (AnnotatorTotal, ProjectAgreement, LeadTimeBucket):
        model.objects.filter(project=project).delete()
    quality_refresh(project=project)
    assert stored(project) == kept
    assert o.get(f"/api/projects/{project.pk}/quality/").json() == before
    rb = {r["user"]: r for r in before["annotators"]}[second.pk]
    assert rb["lead_time_median"] == 215 and (rb["gt_accuracy"], rb["gt_tasks"]) == (1.0, 1)


def test_median_is_exact_across_buckets(client_for, make_user, owner, project, tasks):
    """Lead times spread over many buckets, ties, bucket 0 and a bucket edge: the
    median read from the buckets and the walk is the exact one, odd and even counts."""
    o = client_for(owner)
    edge = LEAD_TIME_BOUNDS[100]
    assert lead_time_bucket(edge) == 101 and lead_time_bucket(edge - 1e-9) == 100
    values = [0.0, 0.004, 0.5, edge - 1e-9, edge, edge, 3.25, 3.25, 3.25, 77.0, 1e5, 2e6]
    project.maximum_annotations = 1
    project.save()
    users = []
    for count in (len(values), len(values) - 1, 1, 2):
        user = make_user(f"lt{count}@example.com")
        member_set(project=project, user=user, role=ProjectMember.Role.ANNOTATOR)
        users.append((user, values[:count]))
    more = [t.pk for t in tasks]
    more += tasks_import(
        project=project, records=[{"text": f"m{i}"} for i in range(len(values))], user=owner
    ).task_ids
    task_rows = list(Task.objects.filter(pk__in=more).order_by("pk"))
    for user, mine in users:
        for task, value in zip(task_rows, mine, strict=False):
            annotate(client_for(user), task, "Positive", lead_time=value)
    rows = {
        r["user"]: r for r in o.get(f"/api/projects/{project.pk}/quality/").json()["annotators"]
    }
    for user, mine in users:
        assert rows[user.pk]["lead_time_median"] == pytest.approx(statistics.median(mine))
    assert_kept(project)
