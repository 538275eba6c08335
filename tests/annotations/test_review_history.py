"""Issue #26 row 1: a review's words and its history survive the rework, and the
Verify Stream's progress says why it moved back."""

import pytest

from annotations.models import Review, ReviewRecord
from annotations.services import project_delete
from importers.services import tasks_import
from tests.factories import choice

pytestmark = pytest.mark.django_db


@pytest.fixture
def annotation_id(project, owner, annotator, client_for):
    ids = tasks_import(project=project, records=[{"text": "a"}, {"text": "b"}], user=owner).task_ids
    body = (
        client_for(annotator)
        .post(f"/api/tasks/{ids[0]}/annotations/", {"result": choice("Positive")}, format="json")
        .json()
    )
    return body["id"]


def test_history_keeps_a_reworked_rejection(
    annotation_id, project, reviewer, annotator, client_for, outsider
):
    reviewer.first_name, reviewer.last_name = "Rita", "Reviewer"
    reviewer.save()
    api, author = client_for(reviewer), client_for(annotator)
    rejected = api.post(
        f"/api/annotations/{annotation_id}/reviews/",
        {"accepted": False, "comment": "It is negative"},
        format="json",
    )
    assert rejected.status_code == 201
    assert api.get(f"/api/projects/{project.pk}/verify/progress/").json() == {
        "reviewed": 1,
        "total": 1,
        "remaining": 0,
        "reworked": 0,
    }

    # the annotator's next task is the rework, with who rejected it and why
    rework = author.get(f"/api/projects/{project.pk}/next/").json()["rework"]
    assert rework["annotation"] == annotation_id
    assert [(r["reviewer_name"], r["comment"]) for r in rework["reviews"]] == [
        ("Rita Reviewer", "It is negative")
    ]

    fixed = author.patch(
        f"/api/annotations/{annotation_id}/", {"result": choice("Negative")}, format="json"
    )
    assert fixed.status_code == 200
    assert not Review.objects.exists()  # the rejection is answered...
    history = author.get(f"/api/annotations/{annotation_id}/review-history/").json()
    assert [
        (h["accepted"], h["comment"], h["reviewer_name"], h["reworked_at"] is not None)
        for h in history
    ] == [(False, "It is negative", "Rita Reviewer", True)]  # ...and still on record
    # the reviewer's count went down by one, and the progress says why
    progress = api.get(f"/api/projects/{project.pk}/verify/progress/").json()
    assert (progress["reviewed"], progress["reworked"]) == (0, 1)

    # back in the reviewer's queue, with its history
    again = api.get(f"/api/projects/{project.pk}/verify/next/").json()
    assert again["annotation"]["id"] == annotation_id
    assert [h["comment"] for h in again["review_history"]] == ["It is negative"]
    accepted = api.post(
        f"/api/annotations/{annotation_id}/reviews/",
        {"accepted": True, "comment": "Good now"},
        format="json",
    )
    assert accepted.status_code == 201
    history = api.get(f"/api/annotations/{annotation_id}/review-history").json()
    assert [(h["accepted"], h["comment"]) for h in history] == [
        (False, "It is negative"),
        (True, "Good now"),
    ]
    progress = api.get(f"/api/projects/{project.pk}/verify/progress/").json()
    assert (progress["reviewed"], progress["reworked"]) == (1, 0)
    # someone outside the project cannot read it
    assert (
        client_for(outsider).get(f"/api/annotations/{annotation_id}/review-history/").status_code
        == 404
    )


def test_project_delete_takes_the_history(annotation_id, project, reviewer, client_for):
    client_for(reviewer).post(
        f"/api/annotations/{annotation_id}/reviews/", {"accepted": False}, format="json"
    )
    assert ReviewRecord.objects.count() == 1
    project_delete(project=project)
    assert not ReviewRecord.objects.exists()
