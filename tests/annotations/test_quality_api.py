"""GET /api/projects/{id}/quality/, its CSV, the matrix, review comments and settings."""

import csv
import io

import pytest

from annotations.models import AgreementPair, LabelCount
from projects.models import ProjectMember
from projects.services import member_set, project_create
from tasks.models import Task
from tests.factories import TEXT_CONFIG, choice

pytestmark = pytest.mark.django_db


def annotate(client, task, value, **extra):
    response = client.post(
        f"/api/tasks/{task.pk}/annotations/", {"result": choice(value), **extra}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_agreement_is_kept_with_each_write(client_for, annotator, second, tasks, owner):
    a, b = client_for(annotator), client_for(second)
    first = annotate(a, tasks[0], "Positive")
    task = Task.objects.get(pk=tasks[0].pk)
    assert task.agreement is None  # one annotation: nothing to agree with
    annotate(b, tasks[0], "Positive")
    task.refresh_from_db()
    assert task.agreement == 1.0
    assert client_for(owner).get(f"/api/tasks/{task.pk}/").json()["agreement"] == 1.0
    # The first annotator changes their mind: agreement 0, pairs rescored both ways.
    a.patch(f"/api/annotations/{first['id']}/", {"result": choice("Negative")}, format="json")
    task.refresh_from_db()
    assert task.agreement == 0.0
    assert AgreementPair.objects.filter(task=task).count() == 2
    # A skip is left out: deleting to one live annotation leaves no agreement.
    a.delete(f"/api/annotations/{first['id']}/")
    task.refresh_from_db()
    assert task.agreement is None
    assert not AgreementPair.objects.filter(task=task).exists()


def test_quality_report_by_hand(client_for, annotator, second, reviewer, owner, tasks):
    a, b, r = client_for(annotator), client_for(second), client_for(reviewer)
    # Task 0: both Positive (1.0). Task 1: Positive vs Negative (0.0). Task 2: a skips.
    annotate(a, tasks[0], "Positive", lead_time=2)
    annotate(b, tasks[0], "Positive", lead_time=4)
    x = annotate(a, tasks[1], "Positive", lead_time=6)
    annotate(b, tasks[1], "Negative", lead_time=10)
    a.post(f"/api/tasks/{tasks[2].pk}/annotations/", {"was_cancelled": True}, format="json")
    # The owner's ground truth on task 1 says Negative: a scores 0 there, b scores 1.
    owner_gt = annotate(client_for(owner), tasks[1], "Negative")
    client_for(owner).patch(
        f"/api/annotations/{owner_gt['id']}/", {"ground_truth": True}, format="json"
    )
    r.post(f"/api/annotations/{x['id']}/reviews/", {"accepted": False, "comment": "No"})

    body = r.get(f"/api/projects/{tasks[0].project_id}/quality/").json()
    # Task 1 now has 3 annotations: pairs a-b 0, a-gt 0, b-gt 1 -> 1/3. Mean (1 + 1/3) / 2.
    assert body["tasks_with_overlap"] == 2
    assert body["agreement"] == pytest.approx(2 / 3)
    rows = {row["email"]: row for row in body["annotators"]}
    ra, rb = rows["annotator@example.com"], rows["second@example.com"]
    assert (ra["annotations"], ra["skipped"]) == (2, 1)
    assert ra["lead_time_mean"] == 4 and ra["lead_time_median"] == 4
    assert rb["lead_time_median"] == 7
    # a's pairs with others: task 0 with b (1); task 1 with b (0) and with the owner (0).
    assert ra["agreement"] == pytest.approx(1 / 3)
    assert (ra["gt_accuracy"], ra["gt_tasks"]) == (0.0, 1)
    assert (rb["gt_accuracy"], rb["gt_tasks"]) == (1.0, 1)
    assert ra["benchmark_accuracy"] is None and ra["benchmark_tasks"] == 0
    assert (ra["reviews_accepted"], ra["reviews_rejected"]) == (0, 1)
    assert body["labels"] == {"sentiment": {"Positive": 3, "Negative": 2}}
    assert sum(day["annotations"] for day in body["per_day"]) == 5
    assert sum(day["skipped"] for day in body["per_day"]) == 1

    csv_response = r.get(f"/api/projects/{tasks[0].project_id}/quality/?format=csv")
    assert csv_response.status_code == 200
    assert csv_response["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(csv_response.content.decode())))
    assert {row["email"] for row in table} >= {"annotator@example.com", "second@example.com"}
    assert list(table[0])[:3] == ["user", "email", "annotations"]

    matrix = r.get(f"/api/projects/{tasks[0].project_id}/quality/agreement-matrix/").json()
    pair = next(
        p for p in matrix["pairs"] if {p["user_a"], p["user_b"]} == {annotator.pk, second.pk}
    )
    assert pair["agreement"] == 0.5 and pair["tasks"] == 2


def test_annotator_sees_only_their_row(client_for, annotator, second, tasks):
    a = client_for(annotator)
    annotate(a, tasks[0], "Positive")
    annotate(client_for(second), tasks[0], "Positive")
    url = f"/api/projects/{tasks[0].project_id}/quality/"
    body = a.get(url).json()
    assert [row["user"] for row in body["annotators"]] == [annotator.pk]
    assert body["labels"] == {}
    assert a.get(f"{url}?user={second.pk}").status_code == 403
    assert a.get(f"{url}?user={annotator.pk}").status_code == 200
    assert a.get(f"{url}?user=abc").status_code == 400
    matrix = a.get(f"{url}agreement-matrix/").json()
    assert all(p["user_a"] == annotator.pk for p in matrix["pairs"])


def test_outsider_and_anonymous_get_nothing(client_for, outsider, tasks):
    url = f"/api/projects/{tasks[0].project_id}/quality/"
    assert client_for(outsider).get(url).status_code == 404
    assert client_for(None).get(url).status_code in (401, 403)


def test_user_filter_for_admins(client_for, owner, annotator, second, tasks):
    annotate(client_for(annotator), tasks[0], "Positive")
    annotate(client_for(second), tasks[0], "Negative")
    body = (
        client_for(owner)
        .get(f"/api/projects/{tasks[0].project_id}/quality/?user={second.pk}")
        .json()
    )
    assert [row["user"] for row in body["annotators"]] == [second.pk]
    assert body["annotators"][0]["agreement"] == 0.0


def test_review_comment_is_kept(client_for, reviewer, annotator, tasks):
    created = annotate(client_for(annotator), tasks[0], "Positive")
    response = client_for(reviewer).post(
        f"/api/annotations/{created['id']}/reviews/",
        {"accepted": False, "comment": "Look again at the second sentence"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["comment"] == "Look again at the second sentence"
    # The annotator's fix clears the rejection.
    client_for(annotator).patch(
        f"/api/annotations/{created['id']}/", {"result": choice("Negative")}, format="json"
    )
    reviews = client_for(reviewer).get(f"/api/annotations/{created['id']}/reviews/").json()
    assert reviews == []


def test_label_counts_follow_updates_and_deletes(client_for, annotator, tasks):
    a = client_for(annotator)
    created = annotate(a, tasks[0], "Positive")
    a.patch(f"/api/annotations/{created['id']}/", {"result": choice("Neutral")}, format="json")
    counts = dict(LabelCount.objects.values_list("label", "count"))
    assert counts == {"Positive": 0, "Neutral": 1}
    a.delete(f"/api/annotations/{created['id']}/")
    assert dict(LabelCount.objects.values_list("label", "count")) == {
        "Positive": 0,
        "Neutral": 0,
    }


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"benchmark_rate": 1.5}, "benchmark_rate"),
        ({"benchmark_rate": -0.1}, "benchmark_rate"),
        ({"agreement_threshold": 2}, "agreement_threshold"),
        ({"benchmark_first": -1}, "benchmark_first"),
    ],
)
def test_bad_settings_name_the_field(api, project, payload, field):
    for url in (f"/api/projects/{project.pk}/", f"/api/projects/{project.pk}/quality/settings/"):
        method = api.patch if url.endswith(f"{project.pk}/") else api.post
        response = method(url, payload, format="json")
        assert response.status_code == 400, response.content
        assert response.json()["errors"][0]["field"] == field


def test_benchmark_project_with_another_config_is_400(api, owner, project):
    other = project_create(
        user=owner,
        title="Other",
        label_config=TEXT_CONFIG.replace('value="Neutral"', 'value="Mixed"'),
    )
    response = api.patch(
        f"/api/projects/{project.pk}/", {"benchmark_project": other.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "benchmark_project"
    assert "different labeling config" in response.json()["detail"]


def test_benchmark_project_must_be_the_callers(client_for, make_user, project, owner):
    stranger = make_user("stranger@example.com")
    theirs = project_create(user=stranger, title="Theirs", label_config=TEXT_CONFIG)
    response = client_for(owner).post(
        f"/api/projects/{project.pk}/quality/settings/",
        {"benchmark_project": theirs.pk},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "benchmark_project"


def test_kept_figures_match_a_full_recount(client_for, annotator, second, owner, tasks):
    """The per-write upkeep (day rows, pair totals, label counts) equals a recount."""
    from annotations.quality import quality_refresh
    from annotations.quality_selectors import agreement_matrix, quality_report

    a, b = client_for(annotator), client_for(second)
    first = annotate(a, tasks[0], "Positive", lead_time=1)
    annotate(b, tasks[0], "Negative", lead_time=5)
    annotate(a, tasks[1], "Negative", lead_time=2)
    annotate(b, tasks[1], "Negative", lead_time=2)
    a.patch(
        f"/api/annotations/{first['id']}/", {"was_cancelled": True, "lead_time": 9}, format="json"
    )
    a.patch(
        f"/api/annotations/{first['id']}/",
        {"was_cancelled": False, "result": choice("Negative")},
        format="json",
    )
    doomed = annotate(client_for(owner), tasks[1], "Positive", lead_time=4)
    client_for(owner).delete(f"/api/annotations/{doomed['id']}/")
    project = tasks[0].project
    kept = (quality_report(project=project), agreement_matrix(project=project))
    quality_refresh(project=project)
    assert (quality_report(project=project), agreement_matrix(project=project)) == kept
    row = {r["user"]: r for r in kept[0]["annotators"]}[annotator.pk]
    assert row["agreement"] == 1.0 and row["annotations"] == 2 and row["lead_time_mean"] == 5.5


def test_low_agreement_asks_for_more_annotations_up_to_two(
    client_for, annotator, second, make_user, project, tasks
):
    project.reassign_low_agreement = True
    project.agreement_threshold = 0.9
    project.save()
    task = tasks[0]
    annotate(client_for(annotator), task, "Positive")
    annotate(client_for(second), task, "Negative")  # overlap 2 reached, agreement 0
    task.refresh_from_db()
    assert (task.overlap_extra, task.is_labeled) == (1, False)
    third, fourth, fifth = (make_user(f"extra{i}@example.com") for i in range(3))
    for user in (third, fourth, fifth):
        member_set(project=project, user=user, role=ProjectMember.Role.ANNOTATOR)
    annotate(client_for(third), task, "Neutral")  # agreement still 0: one more
    task.refresh_from_db()
    assert (task.overlap_extra, task.is_labeled) == (2, False)
    annotate(client_for(fourth), task, "Neutral")  # maximum_annotations + 2 reached
    task.refresh_from_db()
    assert (task.total_annotations, task.overlap_extra, task.is_labeled) == (4, 2, True)


def test_reassignment_is_off_by_default(client_for, annotator, second, tasks):
    annotate(client_for(annotator), tasks[0], "Positive")
    annotate(client_for(second), tasks[0], "Negative")
    task = Task.objects.get(pk=tasks[0].pk)
    assert (task.overlap_extra, task.is_labeled) == (0, True)


def test_bulk_delete_action_recounts_the_figures(client_for, annotator, second, owner, tasks):
    from annotations.quality_selectors import agreement_matrix, quality_report

    annotate(client_for(annotator), tasks[0], "Positive")
    annotate(client_for(second), tasks[0], "Negative")
    annotate(client_for(annotator), tasks[1], "Positive")
    response = client_for(owner).post(
        f"/api/dm/actions/?id=delete_tasks_annotations&project={tasks[0].project_id}",
        {"selectedItems": {"all": False, "included": [tasks[0].pk]}},
        format="json",
    )
    assert response.status_code == 200, response.content
    project = tasks[0].project
    report = quality_report(project=project)
    assert report["tasks_with_overlap"] == 0 and report["agreement"] is None
    assert [(r["user"], r["annotations"]) for r in report["annotators"]] == [(annotator.pk, 1)]
    assert report["labels"] == {"sentiment": {"Positive": 1}}
    assert agreement_matrix(project=project)["pairs"] == []
    assert Task.objects.get(pk=tasks[0].pk).agreement is None
