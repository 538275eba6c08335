import pytest

from annotations.models import Annotation, Review
from importers.services import tasks_import
from tasks.models import Task
from tests.factories import choice

pytestmark = pytest.mark.django_db


@pytest.fixture
def task(project, owner):
    ids = tasks_import(project=project, records=[{"text": "hello"}], user=owner).task_ids
    return Task.objects.get(pk=ids[0])


def test_annotation_lifecycle_and_counters(client_for, annotator, project, task):
    api = client_for(annotator)
    created = api.post(
        f"/api/tasks/{task.pk}/annotations/",
        {"result": choice("Positive"), "lead_time": 2.5},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (
        body["completed_by"] == annotator.pk
        and body["lead_time"] == 2.5
        and body["task"] == task.pk
    )
    task.refresh_from_db()
    project.refresh_from_db()
    assert task.total_annotations == 1 and task.is_labeled
    assert project.total_annotations_number == 1 and project.num_tasks_with_annotations == 1

    aid = body["id"]
    assert api.get(f"/api/tasks/{task.pk}/annotations").json()[0]["id"] == aid
    patched = api.patch(f"/api/annotations/{aid}/", {"result": choice("Negative")}, format="json")
    assert patched.json()["result"] == choice("Negative")
    cancelled = api.patch(f"/api/annotations/{aid}", {"was_cancelled": True}, format="json")
    assert cancelled.status_code == 200
    task.refresh_from_db()
    project.refresh_from_db()
    assert task.total_annotations == 0 and task.cancelled_annotations == 1 and not task.is_labeled
    assert project.skipped_annotations_number == 1 and project.num_tasks_with_annotations == 0

    assert api.delete(f"/api/annotations/{aid}/").status_code == 204
    project.refresh_from_db()
    assert project.skipped_annotations_number == 0 and project.total_annotations_number == 0


@pytest.mark.parametrize(
    "result, words",
    [
        (
            [
                {
                    "id": "a",
                    "from_name": "sentiment",
                    "to_name": "nope",
                    "type": "choices",
                    "value": {"choices": ["Positive"]},
                }
            ],
            "nope",
        ),
        (choice("Maybe"), "Maybe"),
        ("not a list", "list"),
        (
            [
                {
                    "id": "a",
                    "from_name": "sentiment",
                    "to_name": "text",
                    "type": "rectanglelabels",
                    "value": {"choices": ["Positive"]},
                }
            ],
            "type",
        ),
    ],
)
def test_bad_results_are_400(api, task, result, words):
    response = api.post(f"/api/tasks/{task.pk}/annotations/", {"result": result}, format="json")
    assert response.status_code == 400, response.content
    assert words in response.content.decode()
    assert Annotation.objects.count() == 0


def test_predictions_crud(api, project, task):
    created = api.post(
        "/api/predictions/",
        {"task": task.pk, "result": choice("Neutral"), "score": 0.9, "model_version": "v2"},
        format="json",
    )
    assert created.status_code == 201, created.content
    pid = created.json()["id"]
    assert api.get(f"/api/predictions/?task={task.pk}").json()[0]["id"] == pid
    assert api.get(f"/api/predictions?project={project.pk}").json()[0]["score"] == 0.9
    assert (
        api.patch(f"/api/predictions/{pid}/", {"score": 0.1}, format="json").json()["score"] == 0.1
    )
    task.refresh_from_db()
    assert task.total_predictions == 1
    bad = api.post("/api/predictions/", {"task": task.pk, "result": choice("Maybe")}, format="json")
    assert bad.status_code == 400
    assert api.delete(f"/api/predictions/{pid}").status_code == 204
    project.refresh_from_db()
    assert project.total_predictions_number == 0


def test_reviews_replace_verdict(client_for, reviewer, annotator, task):
    annotation = (
        client_for(annotator)
        .post(f"/api/tasks/{task.pk}/annotations/", {"result": choice("Positive")}, format="json")
        .json()
    )
    api = client_for(reviewer)
    assert (
        api.post(
            f"/api/annotations/{annotation['id']}/reviews/", {"accepted": True}, format="json"
        ).status_code
        == 201
    )
    assert (
        api.post(
            f"/api/annotations/{annotation['id']}/reviews", {"accepted": False}, format="json"
        ).status_code
        == 201
    )
    assert Review.objects.get().accepted is False
    assert (
        client_for(annotator)
        .post(f"/api/annotations/{annotation['id']}/reviews/", {"accepted": True}, format="json")
        .status_code
        == 403
    )


def test_ground_truth_patch_moves_counter(api, project, task, owner):
    aid = api.post(
        f"/api/tasks/{task.pk}/annotations/", {"result": choice("Positive")}, format="json"
    ).json()["id"]
    assert (
        api.patch(f"/api/annotations/{aid}/", {"ground_truth": True}, format="json").json()[
            "ground_truth"
        ]
        is True
    )
    project.refresh_from_db()
    assert project.ground_truth_number == 1


def test_annotation_create_is_a_handful_of_statements(
    client_for, annotator, owner, project, task, django_assert_max_num_queries
):
    """The first annotation of a task: the token, the task, the caller's role, then in one
    transaction the row, the task's and the project's counters (lock, two UPDATEs), the
    result index, the annotator's day row, the label counts and the lock release (after
    the commit, the ML backend check), and the task's share of the stored quality
    figures read before and after the write (annotations.quality.task_figures_kept).
    Nobody to agree with yet, so no agreement statements, and no review query. It was 20
    before issue #14. Issue #21 added two: the author's draft of the task deleted and the
    Label Stream history row given the annotation. Issue #24 added one: an annotator's
    own submitted annotation of the task looked for under the task's lock (one submit
    per annotator and task)."""
    url = f"/api/tasks/{task.pk}/annotations/"
    client = client_for(annotator)
    with django_assert_max_num_queries(18) as first:
        response = client.post(url, {"result": choice("Positive")}, format="json")
    assert response.status_code == 201 and response.json()["reviews"] == []
    statements = [q["sql"].split()[0] for q in first.captured_queries]
    scoring = [
        q["sql"]
        for q in first.captured_queries
        if "agreementpair" in q["sql"] and not q["sql"].startswith("SELECT")
    ]
    assert not scoring, statements  # no pair is scored or written
    # the second annotation is scored against the first
    response = client_for(owner).post(url, {"result": choice("Positive")}, format="json")
    assert response.status_code == 201, response.content
    task.refresh_from_db()
    assert task.agreement == 1.0


@pytest.mark.parametrize(
    "body",
    [
        {"result": choice("Positive"), "lead_time": 3.5},
        {"result": [], "was_cancelled": True, "lead_time": 0},
        {"result": choice("Negative"), "ground_truth": True, "draft_id": 7, "lead_time": None},
        {"parent_prediction": 3, "parent_annotation": None, "task": 5, "completed_by": 2},
        {},
    ],
)
def test_a_plain_submit_body_reads_as_the_serializer_reads_it(body):
    from annotations.api import AnnotationIn, _plain_annotation_in

    serializer = AnnotationIn(data=body)
    assert serializer.is_valid(), serializer.errors
    assert _plain_annotation_in(body) == dict(serializer.validated_data)


@pytest.mark.parametrize(
    "body",
    [
        {"result": None},
        {"was_cancelled": "true"},
        {"ground_truth": 1},
        {"lead_time": -1},
        {"lead_time": "3.5"},
        {"lead_time": True},
        {"lead_time": 1e16},
        {"draft_id": 0},
        {"draft_id": 2**63},
        {"parent_prediction": "4"},
        {"parent_annotation": 1.0},
        [],
    ],
)
def test_any_other_submit_body_is_left_to_the_serializer(body):
    from annotations.api import _plain_annotation_in

    assert _plain_annotation_in(body) is None
