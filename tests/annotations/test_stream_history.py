"""The one-page Label Stream's API: submit with ``?next=1``, "My annotations"
(``/api/projects/{id}/my-annotations/``), and the candidates of "label tasks as
displayed" (``GET /api/dm/next/``)."""

import json

import pytest

from annotations import stream
from annotations.models import Annotation
from annotations.services import annotation_create
from importers.services import tasks_import
from tasks.models import Task
from tests.factories import choice

pytestmark = pytest.mark.django_db


@pytest.fixture
def task_ids(project, owner):
    return tasks_import(
        project=project, records=[{"text": f"text {i}"} for i in range(5)], user=owner
    ).task_ids


def test_submit_with_next_answers_the_next_task(project, annotator, task_ids, client_for):
    api = client_for(annotator)
    first = api.get(f"/api/projects/{project.pk}/next/").json()["id"]
    body = api.post(
        f"/api/tasks/{first}/annotations/?next=1", {"result": choice("Positive")}, format="json"
    ).json()
    assert body["completed_by"] == annotator.pk
    assert body["next_task"]["id"] == task_ids[1]
    # the same task as GET next gives (locked for the caller)
    assert api.get(f"/api/projects/{project.pk}/next/").json()["id"] == task_ids[1]
    plain = api.post(
        f"/api/tasks/{task_ids[1]}/annotations/", {"result": choice("Positive")}, format="json"
    ).json()
    assert "next_task" not in plain
    for task_id in task_ids[2:4]:
        api.post(f"/api/tasks/{task_id}/annotations/", {"was_cancelled": True}, format="json")
    last = api.post(
        f"/api/tasks/{task_ids[4]}/annotations/?next=1",
        {"result": choice("Negative")},
        format="json",
    ).json()
    assert last["next_task"] is None


def test_submit_with_next_refused_writes_nothing(project, annotator, task_ids, client_for):
    api = client_for(annotator)
    response = api.post(
        f"/api/tasks/{task_ids[0]}/annotations/?next=1", {"result": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert not Annotation.objects.exists()


def test_my_annotations_newest_first_own_only_paged(
    project, annotator, owner, task_ids, client_for, outsider
):
    tasks = list(Task.objects.filter(pk__in=task_ids).order_by("id"))
    mine = [annotation_create(task=t, user=annotator, result=choice("Positive")) for t in tasks[:3]]
    skipped = annotation_create(task=tasks[3], user=annotator, result=[], was_cancelled=True)
    annotation_create(task=tasks[0], user=owner, result=choice("Negative"))
    api = client_for(annotator)
    page = api.get(f"/api/projects/{project.pk}/my-annotations/?limit=3").json()
    assert [row["id"] for row in page["results"]] == [skipped.pk, mine[2].pk, mine[1].pk]
    assert page["results"][0]["was_cancelled"] is True
    assert page["results"][1] | {"created_at": None, "updated_at": None} == {
        "id": mine[2].pk,
        "task": tasks[2].pk,
        "was_cancelled": False,
        "result_count": 1,
        "labels": ["Positive"],  # what it says, for the "My annotations" row
        "created_at": None,
        "updated_at": None,
        "preview": "text 2",
    }
    rest = api.get(f"/api/projects/{project.pk}/my-annotations/?before={page['next']}").json()
    assert [row["id"] for row in rest["results"]] == [mine[0].pk] and rest["next"] is None
    bad = api.get(f"/api/projects/{project.pk}/my-annotations/?limit=0")
    assert bad.status_code == 400 and "limit" in json.dumps(bad.json())
    assert (
        client_for(outsider).get(f"/api/projects/{project.pk}/my-annotations/").status_code == 404
    )


def test_reviewer_has_no_stream_history(project, reviewer, client_for):
    assert (
        client_for(reviewer).get(f"/api/projects/{project.pk}/my-annotations/").status_code == 403
    )


def test_candidates_give_their_order_and_keep_the_rules(project, owner, annotator, task_ids):
    ordered = Task.objects.filter(pk__in=task_ids[1:4]).order_by("-id")
    annotation_create(task=Task.objects.get(pk=task_ids[3]), user=owner, result=choice("Positive"))
    got = []
    while (task := stream.next_task(project=project, user=owner, candidates=ordered)) is not None:
        got.append(task.pk)
        annotation_create(task=task, user=owner, result=choice("Positive"))
    assert got == [task_ids[2], task_ids[1]]  # task 3 is done by the owner already
    # The plain stream is unchanged for others.
    assert stream.next_task(project=project, user=annotator).pk == task_ids[0]


def test_dm_next_follows_filters_and_order(
    project, owner, annotator, reviewer, task_ids, client_for
):
    query = json.dumps(
        {
            "filters": {
                "conjunction": "or",
                "items": [
                    {
                        "filter": "filter:tasks:data.text",
                        "operator": "contains",
                        "type": "String",
                        "value": value,
                    }
                    for value in ("text 1", "text 3")
                ],
            },
            "ordering": ["-tasks:id"],
        }
    )
    api = client_for(owner)
    url = f"/api/dm/next/?project={project.pk}&query={query}"
    first = api.get(url).json()
    assert first["id"] == task_ids[3]
    assert api.get(url).json()["id"] == task_ids[3]  # locked for the owner, same again
    api.post(
        f"/api/tasks/{task_ids[3]}/annotations/", {"result": choice("Positive")}, format="json"
    )
    assert api.get(url).json()["id"] == task_ids[1]
    api.post(f"/api/tasks/{task_ids[1]}/annotations/", {"was_cancelled": True}, format="json")
    done = api.get(url)
    assert done.status_code == 404 and done.json()["detail"] == "No more tasks"
    assert client_for(annotator).get(url).status_code == 403  # no Data Manager
    assert client_for(reviewer).get(url).status_code == 403  # may not annotate
    bad = api.get(f"/api/dm/next/?project={project.pk}&query=" + "{not json")
    assert bad.status_code == 400
