"""``/api/projects/{id}/label-stream-history/`` (Label Studio's
``tests/test_stream_history.tavern.yml``, in our own words) and
``/api/tasks/{id}/agreement/``."""

import pytest

from annotations.services import annotation_create
from importers.services import tasks_import
from tasks.models import Task
from tests.factories import choice

pytestmark = pytest.mark.django_db


def _import(project, owner, n=1):
    records = [{"text": f"text {i}"} for i in range(n)]
    return tasks_import(project=project, records=records, user=owner).task_ids


def test_history(project, owner, annotator, client_for):
    (task,) = _import(project, owner)
    api = client_for(annotator)
    url = f"/api/projects/{project.pk}/label-stream-history/"
    assert api.get(url).json() == []
    assert api.get(f"/api/projects/{project.pk}/next/").status_code == 200
    assert api.get(url).json() == [{"taskId": task, "annotationId": None}]
    api.get(f"/api/projects/{project.pk}/next/")
    assert api.get(url).json() == [{"taskId": task, "annotationId": None}]  # no duplicate
    annotation = api.post(
        f"/api/tasks/{task}/annotations/", {"result": choice("Positive")}, format="json"
    ).json()["id"]
    assert api.get(url).json() == [{"taskId": task, "annotationId": annotation}]
    assert client_for(owner).get(url).json() == []  # each user their own
    api.delete(f"/api/annotations/{annotation}/")
    assert api.get(url).json() == [{"taskId": task, "annotationId": None}]
    client_for(owner).delete(f"/api/tasks/{task}/")
    assert api.get(url.rstrip("/")).json() == []


def test_history_limit(project, owner, annotator, client_for, settings):
    settings.LABEL_STREAM_HISTORY_LIMIT = 1
    (first,) = _import(project, owner)
    api = client_for(annotator)
    url = f"/api/projects/{project.pk}/label-stream-history/"
    api.get(f"/api/projects/{project.pk}/next/")
    annotation = api.post(
        f"/api/tasks/{first}/annotations/", {"result": choice("Positive")}, format="json"
    ).json()["id"]
    assert api.get(url).json() == [{"taskId": first, "annotationId": annotation}]
    (second,) = _import(project, owner)
    api.get(f"/api/projects/{project.pk}/next/")
    assert api.get(url).json() == [{"taskId": second, "annotationId": None}]


def test_history_needs_membership(project, outsider, client_for):
    response = client_for(outsider).get(f"/api/projects/{project.pk}/label-stream-history/")
    assert response.status_code == 404


RATING_CONFIG_RESULT = [
    {
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["Positive"]},
    }
]


def test_task_agreement(project, owner, annotator, reviewer, outsider, client_for, make_user):
    from projects.models import ProjectMember
    from projects.services import member_set

    second = make_user("second@example.com")
    member_set(project=project, user=second, role=ProjectMember.Role.ANNOTATOR)
    (task_id,) = _import(project, owner)
    task = Task.objects.get(pk=task_id)
    annotation_create(task=task, user=annotator, result=choice("Positive"))
    annotation_create(task=task, user=second, result=choice("Negative"))
    annotation_create(task=task, user=owner, result=[], was_cancelled=True)
    task.refresh_from_db()
    url = f"/api/tasks/{task_id}/agreement/"
    body = client_for(reviewer).get(url).json()
    assert body == {
        "total_annotations": 2,
        "distributions": {
            "sentiment": {"type": "choices", "labels": {"Positive": 1, "Negative": 1}}
        },
        "agreement": task.agreement,
    }
    assert task.agreement is not None
    # an annotator counts only their own annotation and sees no score
    own = client_for(annotator).get(url).json()
    assert own == {
        "total_annotations": 1,
        "distributions": {"sentiment": {"type": "choices", "labels": {"Positive": 1}}},
        "agreement": None,
    }
    assert client_for(outsider).get(url).status_code == 404


def test_task_agreement_counts_predictions(project, owner, client_for):
    from annotations.services import prediction_create

    (task_id,) = _import(project, owner)
    task = Task.objects.get(pk=task_id)
    prediction_create(task=task, result=choice("Neutral"), score=0.5)
    body = client_for(owner).get(f"/api/tasks/{task_id}/agreement").json()
    assert body["total_annotations"] == 0
    assert body["distributions"]["sentiment"]["labels"] == {"Neutral": 1}
