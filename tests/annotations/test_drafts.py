"""Annotation drafts (Label Studio's ``tests/drafts.tavern.yml``, in our own words):
``/api/tasks/{id}/drafts``, ``/api/tasks/{id}/annotations/{id}/drafts``,
``/api/drafts/{id}/``, ``/api/annotations/{id}/convert-to-draft`` and the task's
``drafts`` field, with who may see and change what."""

import re

import pytest
from django.utils import timezone

from annotations.models import Annotation, AnnotationDraft
from annotations.services import annotation_create
from importers.services import tasks_import
from projects.models import ProjectMember
from projects.services import member_set
from tasks.models import Task, TaskLock
from tests.factories import choice

pytestmark = pytest.mark.django_db

# Label Studio's tavern drafts name a control the config lacks: a draft is work in
# progress and is stored unchecked.
DRAFT_A = [
    {"from_name": "text_class", "to_name": "text", "type": "choices", "value": {"choices": ["A"]}}
]
DRAFT_B = [
    {"from_name": "text_class", "to_name": "text", "type": "choices", "value": {"choices": ["B"]}}
]


@pytest.fixture
def task_ids(project, owner):
    records = [{"text": f"phrase {i}"} for i in range(3)]
    return tasks_import(project=project, records=records, user=owner).task_ids


@pytest.fixture
def other(make_user, project):
    user = make_user("other@example.com")
    member_set(project=project, user=user, role=ProjectMember.Role.ANNOTATOR)
    return user


def test_draft_then_submit_with_draft_id_removes_it(annotator, task_ids, client_for):
    api = client_for(annotator)
    task = task_ids[0]
    created = api.post(
        f"/api/tasks/{task}/drafts", {"lead_time": 12.34, "result": DRAFT_A}, format="json"
    )
    assert created.status_code == 201, created.content
    draft_id = created.json()["id"]
    listed = api.get(f"/api/tasks/{task}/drafts")
    assert listed.status_code == 200 and [d["id"] for d in listed.json()] == [draft_id]
    body = api.get(f"/api/drafts/{draft_id}/").json()
    assert re.match(r"0.+minutes", body["created_ago"])
    assert body | {"created_ago": None, "created_at": None, "updated_at": None} == {
        "id": draft_id,
        "task": task,
        "annotation": None,
        "user": "annotator@example.com",
        "created_username": f"annotator@example.com, {annotator.pk}",
        "created_ago": None,
        "result": DRAFT_A,
        "lead_time": 12.34,
        "was_postponed": False,
        "import_id": None,
        "created_at": None,
        "updated_at": None,
    }
    submitted = api.post(
        f"/api/tasks/{task}/annotations",
        {"draft_id": str(draft_id), "lead_time": 91.01, "result": choice("Positive")},
        format="json",
    )
    assert submitted.status_code == 201, submitted.content
    assert api.get(f"/api/drafts/{draft_id}/").status_code == 404


def test_submit_or_skip_removes_the_authors_task_draft_without_draft_id(
    annotator, other, task_ids, client_for
):
    api, api_other = client_for(annotator), client_for(other)
    for task in task_ids[:2]:
        api.post(f"/api/tasks/{task}/drafts", {"result": DRAFT_A}, format="json")
    api_other.post(f"/api/tasks/{task_ids[0]}/drafts", {"result": DRAFT_B}, format="json")
    api.post(
        f"/api/tasks/{task_ids[0]}/annotations/", {"result": choice("Positive")}, format="json"
    )
    api.post(f"/api/tasks/{task_ids[1]}/annotations/", {"was_cancelled": True}, format="json")
    left = AnnotationDraft.objects.values_list("user__email", "task_id")
    assert list(left) == [("other@example.com", task_ids[0])]  # another user's stays


def test_patch_changes_the_draft(annotator, task_ids, client_for):
    api = client_for(annotator)
    draft_id = api.post(
        f"/api/tasks/{task_ids[0]}/drafts", {"lead_time": 12.34, "result": DRAFT_A}, format="json"
    ).json()["id"]
    patched = api.patch(
        f"/api/drafts/{draft_id}", {"lead_time": 12.34, "result": DRAFT_B}, format="json"
    )
    assert patched.status_code == 200
    body = api.get(f"/api/drafts/{draft_id}/").json()
    assert body["result"] == DRAFT_B and body["annotation"] is None and body["lead_time"] == 12.34
    put = api.put(
        f"/api/drafts/{draft_id}/", {"result": DRAFT_A, "was_postponed": True}, format="json"
    )
    assert put.status_code == 200 and put.json()["was_postponed"] is True


def test_draft_of_an_existing_annotation(annotator, task_ids, client_for):
    api = client_for(annotator)
    task = task_ids[0]
    annotation = api.post(
        f"/api/tasks/{task}/annotations",
        {"lead_time": 34.56, "result": choice("Negative")},
        format="json",
    ).json()["id"]
    created = api.post(
        f"/api/tasks/{task}/annotations/{annotation}/drafts",
        {"lead_time": 56.78, "result": DRAFT_A},
        format="json",
    )
    assert created.status_code == 201
    draft_id = created.json()["id"]
    api.patch(f"/api/drafts/{draft_id}", {"lead_time": 99.99, "result": DRAFT_B}, format="json")
    body = api.get(f"/api/drafts/{draft_id}").json()
    assert (body["task"], body["annotation"], body["lead_time"]) == (task, annotation, 99.99)
    assert body["result"] == DRAFT_B and body["user"] == "annotator@example.com"
    # the annotation's draft and the task's draft are two drafts
    task_draft = api.post(f"/api/tasks/{task}/drafts", {"result": DRAFT_A}, format="json").json()
    assert task_draft["id"] != draft_id
    # another task's annotation is not this task's
    assert (
        api.post(
            f"/api/tasks/{task_ids[1]}/annotations/{annotation}/drafts",
            {"result": DRAFT_A},
            format="json",
        ).status_code
        == 404
    )


def test_updating_an_annotation_removes_every_draft_of_it(annotator, owner, task_ids, client_for):
    """Label Studio's remove_other_users_draft_on_annotation_create: a new result of an
    annotation supersedes other users' drafts of it."""
    task = Task.objects.get(pk=task_ids[0])
    annotation = annotation_create(task=task, user=annotator, result=choice("Positive"))
    admin = client_for(owner)
    draft = admin.post(
        f"/api/tasks/{task.pk}/annotations/{annotation.pk}/drafts",
        {"result": DRAFT_A},
        format="json",
    ).json()["id"]
    assert [d["id"] for d in admin.get(f"/api/tasks/{task.pk}/drafts").json()] == [draft]
    api = client_for(annotator)
    assert api.get(f"/api/tasks/{task.pk}/drafts").json() == []  # not theirs
    api.patch(f"/api/annotations/{annotation.pk}", {"result": choice("Negative")}, format="json")
    assert admin.get(f"/api/tasks/{task.pk}/drafts").json() == []
    # marking ground truth is not a new result: a draft made after it stays
    admin.post(
        f"/api/tasks/{task.pk}/annotations/{annotation.pk}/drafts",
        {"result": DRAFT_A},
        format="json",
    )
    admin.patch(f"/api/annotations/{annotation.pk}/", {"ground_truth": True}, format="json")
    assert AnnotationDraft.objects.filter(annotation=annotation).count() == 1


def test_another_users_draft_id_is_refused_and_nothing_written(annotator, task_ids, client_for):
    """Label Studio's draft_permission: a draft of another task in draft_id is a 403."""
    api = client_for(annotator)
    draft_id = api.post(
        f"/api/tasks/{task_ids[1]}/drafts", {"lead_time": 12.34, "result": DRAFT_A}, format="json"
    ).json()["id"]
    refused = api.post(
        f"/api/tasks/{task_ids[0]}/annotations",
        {"draft_id": str(draft_id), "lead_time": 91.01, "result": choice("Positive")},
        format="json",
    )
    assert refused.status_code == 403
    assert api.get(f"/api/drafts/{draft_id}/").status_code == 200
    assert not Annotation.objects.exists()


def test_drafts_are_private_to_their_author(
    annotator, other, reviewer, owner, outsider, task_ids, client_for
):
    mine = client_for(annotator)
    draft = mine.post(f"/api/tasks/{task_ids[0]}/drafts", {"result": DRAFT_A}, format="json")
    draft_id = draft.json()["id"]
    url = f"/api/drafts/{draft_id}/"
    theirs = client_for(other)
    assert theirs.get(url).status_code == 404
    assert theirs.patch(url, {"result": DRAFT_B}, format="json").status_code == 404
    assert theirs.delete(url).status_code == 404
    assert theirs.get(f"/api/tasks/{task_ids[0]}/drafts").json() == []
    # admins and reviewers read every draft of their projects, and change none: they see
    # it, so a change is 403 (object_for_user's rule), not the 404 of a hidden draft
    for user in (reviewer, owner):
        api = client_for(user)
        assert api.get(url).status_code == 200
        assert [d["id"] for d in api.get(f"/api/tasks/{task_ids[0]}/drafts").json()] == [draft_id]
        assert api.patch(url, {"result": DRAFT_B}, format="json").status_code == 403
        assert api.delete(url).status_code == 403
    # a reviewer does not annotate, so makes no drafts
    assert (
        client_for(reviewer)
        .post(f"/api/tasks/{task_ids[0]}/drafts", {"result": DRAFT_A}, format="json")
        .status_code
        == 403
    )
    stranger = client_for(outsider)
    assert stranger.get(url).status_code == 404
    assert stranger.get(f"/api/tasks/{task_ids[0]}/drafts").status_code == 404
    assert (
        stranger.post(
            f"/api/tasks/{task_ids[0]}/drafts", {"result": DRAFT_A}, format="json"
        ).status_code
        == 404
    )
    assert client_for(None).get(url).status_code in (401, 403)
    assert AnnotationDraft.objects.get().result == DRAFT_A
    assert mine.delete(url).status_code == 204
    assert not AnnotationDraft.objects.exists()


def test_annotators_cannot_draft_another_users_annotation(annotator, other, task_ids, client_for):
    task = Task.objects.get(pk=task_ids[0])
    annotation = annotation_create(task=task, user=annotator, result=choice("Positive"))
    response = client_for(other).post(
        f"/api/tasks/{task.pk}/annotations/{annotation.pk}/drafts",
        {"result": DRAFT_A},
        format="json",
    )
    assert response.status_code == 404
    assert not AnnotationDraft.objects.exists()


def test_one_draft_per_user_and_task(annotator, task_ids, client_for):
    api = client_for(annotator)
    first = api.post(f"/api/tasks/{task_ids[0]}/drafts", {"result": DRAFT_A}, format="json")
    again = api.post(
        f"/api/tasks/{task_ids[0]}/drafts", {"result": DRAFT_B, "lead_time": 3}, format="json"
    )
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    draft = AnnotationDraft.objects.get()
    assert (draft.result, draft.lead_time) == (DRAFT_B, 3)


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "result"),
        ({"result": "nope"}, "result"),
        ({"result": [1, 2]}, "result"),
        ({"result": [], "lead_time": -1}, "lead_time"),
        ({"result": [], "was_postponed": "maybe"}, "was_postponed"),
    ],
)
def test_bad_draft_is_a_400_naming_the_field(annotator, task_ids, client_for, body, field):
    response = client_for(annotator).post(f"/api/tasks/{task_ids[0]}/drafts", body, format="json")
    assert response.status_code == 400
    assert field in response.content.decode()
    assert not AnnotationDraft.objects.exists()


def test_unknown_ids_are_404(annotator, task_ids, client_for):
    api = client_for(annotator)
    assert api.get("/api/drafts/999999/").status_code == 404
    assert api.get("/api/drafts/99999999999999999999/").status_code == 404
    assert api.get("/api/tasks/999999/drafts").status_code == 404
    assert (
        api.post(
            f"/api/tasks/{task_ids[0]}/annotations/999999/drafts", {"result": []}, format="json"
        ).status_code
        == 404
    )


def test_task_api_shows_only_the_callers_drafts(annotator, other, owner, task_ids, client_for):
    api, api_other = client_for(annotator), client_for(other)
    mine = api.post(f"/api/tasks/{task_ids[0]}/drafts", {"result": DRAFT_A}, format="json").json()
    api_other.post(f"/api/tasks/{task_ids[0]}/drafts", {"result": DRAFT_B}, format="json")
    body = api.get(f"/api/tasks/{task_ids[0]}/").json()
    assert [d["id"] for d in body["drafts"]] == [mine["id"]]
    assert body["drafts"][0]["result"] == DRAFT_A
    # as in Label Studio, the task's field is the caller's own, admins included
    assert client_for(owner).get(f"/api/tasks/{task_ids[0]}/").json()["drafts"] == []


def test_next_task_carries_the_draft_and_comes_back_after_the_lock(
    project, annotator, task_ids, client_for
):
    api = client_for(annotator)
    first = api.get(f"/api/projects/{project.pk}/next/").json()
    assert first["id"] == task_ids[0] and first["drafts"] == []
    api.post(f"/api/tasks/{task_ids[0]}/drafts", {"result": DRAFT_A}, format="json")
    TaskLock.objects.all().delete()  # the tab was closed long ago: the lock expired
    # the drafted task comes back first, whatever the sampling would give
    project.sampling = "uniform"
    project.save()
    again = api.get(f"/api/projects/{project.pk}/next/").json()
    assert again["id"] == task_ids[0]
    assert [d["result"] for d in again["drafts"]] == [DRAFT_A]


def test_a_postponed_draft_comes_last(project, annotator, task_ids, client_for):
    api = client_for(annotator)
    api.post(
        f"/api/tasks/{task_ids[0]}/drafts",
        {"result": DRAFT_A, "was_postponed": True},
        format="json",
    )
    handed = []
    for _ in range(3):
        task = api.get(f"/api/projects/{project.pk}/next/").json()["id"]
        handed.append(task)
        api.post(f"/api/tasks/{task}/annotations/", {"result": choice("Positive")}, format="json")
    assert handed == [task_ids[1], task_ids[2], task_ids[0]]
    assert api.get(f"/api/projects/{project.pk}/next/").status_code == 404


def test_convert_to_draft(project, annotator, other, task_ids, client_for):
    task = Task.objects.get(pk=task_ids[0])
    annotation = annotation_create(
        task=task, user=annotator, result=choice("Positive"), lead_time=7.5
    )
    assert (
        client_for(other).post(f"/api/annotations/{annotation.pk}/convert-to-draft").status_code
        == 404
    )
    response = client_for(annotator).post(f"/api/annotations/{annotation.pk}/convert-to-draft")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["task"], body["annotation"], body["result"], body["lead_time"]) == (
        task.pk,
        None,
        choice("Positive"),
        7.5,
    )
    assert not Annotation.objects.exists()
    task.refresh_from_db()
    assert task.total_annotations == 0 and not task.is_labeled


def test_project_delete_takes_drafts_and_history(project, annotator, owner, task_ids, client_for):
    api = client_for(annotator)
    api.get(f"/api/projects/{project.pk}/next/")
    api.post(f"/api/tasks/{task_ids[0]}/drafts", {"result": DRAFT_A}, format="json")
    assert client_for(owner).delete(f"/api/projects/{project.pk}/").status_code == 204
    assert not AnnotationDraft.objects.exists()


def test_draft_timestamps_move(annotator, task_ids, client_for):
    api = client_for(annotator)
    draft = api.post(f"/api/tasks/{task_ids[0]}/drafts", {"result": DRAFT_A}, format="json").json()
    before = timezone.now()
    api.patch(f"/api/drafts/{draft['id']}/", {"result": DRAFT_B}, format="json")
    assert AnnotationDraft.objects.get().updated_at >= before
