"""Every endpoint against every role: admin (project owner), staff, reviewer,
annotator, a user from outside the project, and nobody."""

import pytest

from annotations.services import annotation_create, prediction_create
from importers.services import tasks_import
from tasks.models import Task
from tests.factories import choice

pytestmark = pytest.mark.django_db

ROLES = ["staff", "owner", "reviewer", "annotator", "outsider", "anonymous"]


@pytest.fixture
def world(project, owner, annotator, make_user):
    from projects.services import member_set

    other = make_user("other-annotator@example.com")
    member_set(project=project, user=other, role="annotator")
    ids = tasks_import(project=project, records=[{"text": "a"}, {"text": "b"}], user=owner).task_ids
    task = Task.objects.get(pk=ids[0])
    mine = annotation_create(task=task, user=annotator, result=choice("Positive"))
    theirs = annotation_create(task=task, user=other, result=choice("Negative"))
    prediction = prediction_create(task=task, result=choice("Neutral"), score=0.5)
    return {
        "project": project,
        "task": task,
        "fresh": ids[1],  # no annotation yet: one submit per annotator and task
        "mine": mine,
        "theirs": theirs,
        "prediction": prediction,
    }


@pytest.fixture
def as_role(request, client_for, staff, owner, reviewer, annotator, outsider):
    users = {
        "staff": staff,
        "owner": owner,
        "reviewer": reviewer,
        "annotator": annotator,
        "outsider": outsider,
        "anonymous": None,
    }
    return lambda role: client_for(users[role])


def _expect(role, table):
    return table[ROLES.index(role)]


# (method, path template, body, expected statuses in ROLES order)
CASES = [
    ("get", "/api/projects/{p}/", None, [200, 200, 200, 200, 404, 401]),
    ("patch", "/api/projects/{p}/", {"title": "x"}, [200, 200, 403, 403, 404, 401]),
    ("get", "/api/projects/{p}/members/", None, [200, 200, 403, 403, 404, 401]),
    (
        "post",
        "/api/projects/{p}/members/",
        {"user": 1, "role": "annotator"},
        [None, None, 403, 403, 404, 401],
    ),
    ("post", "/api/projects/{p}/import", [{"text": "n"}], [201, 201, 403, 403, 404, 401]),
    ("get", "/api/projects/{p}/export?exportType=JSON", None, [200, 200, 403, 403, 404, 401]),
    ("get", "/api/tasks/?project={p}", None, [200, 200, 200, 200, 404, 401]),
    (
        "post",
        "/api/tasks/",
        {"project": "{p}", "data": {"text": "n"}},
        [201, 201, 403, 403, 404, 401],
    ),
    ("get", "/api/tasks/{t}/", None, [200, 200, 200, 200, 404, 401]),
    ("patch", "/api/tasks/{t}/", {"data": {"text": "z"}}, [200, 200, 403, 403, 404, 401]),
    ("get", "/api/tasks/{t}/annotations/", None, [200, 200, 200, 200, 404, 401]),
    (
        "post",
        "/api/tasks/{fresh}/annotations/",
        {"result": choice("Positive")},
        [201, 201, 403, 201, 404, 401],
    ),
    ("get", "/api/annotations/{mine}/", None, [200, 200, 200, 200, 404, 401]),
    ("get", "/api/annotations/{theirs}/", None, [200, 200, 200, 404, 404, 401]),
    (
        "patch",
        "/api/annotations/{mine}/",
        {"result": choice("Neutral")},
        [200, 200, 403, 200, 404, 401],
    ),
    ("patch", "/api/annotations/{mine}/", {"ground_truth": True}, [200, 200, 200, 403, 404, 401]),
    ("delete", "/api/annotations/{theirs}/", None, [204, 204, 403, 404, 404, 401]),
    (
        "post",
        "/api/annotations/{mine}/reviews/",
        {"accepted": True},
        [201, 201, 201, 403, 404, 401],
    ),
    ("get", "/api/predictions/?project={p}", None, [200, 200, 200, 200, 404, 401]),
    (
        "post",
        "/api/predictions/",
        {"task": "{t}", "result": choice("Positive")},
        [201, 201, 403, 403, 404, 401],
    ),
    ("get", "/api/predictions/{pred}/", None, [200, 200, 200, 200, 404, 401]),
    ("patch", "/api/predictions/{pred}/", {"score": 0.2}, [200, 200, 403, 403, 404, 401]),
    ("delete", "/api/predictions/{pred}/", None, [204, 204, 403, 403, 404, 401]),
    ("delete", "/api/tasks/{t}/", None, [204, 204, 403, 403, 404, 401]),
    ("delete", "/api/projects/{p}/", None, [204, 204, 403, 403, 404, 401]),
]


def _fill(value, ids):
    if isinstance(value, str):
        filled = value.format(**ids)
        return int(filled) if filled.isdigit() and value.startswith("{") else filled
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


# None: the case is covered elsewhere (adding a member by id: test_members_api).
MATRIX = [
    (role, method, path, body, _expect(role, expected))
    for method, path, body, expected in CASES
    for role in ROLES
    if _expect(role, expected) is not None
]


@pytest.mark.parametrize(
    "role, method, path, body, want", MATRIX, ids=[f"{m[0]} {m[1]} {m[2]}" for m in MATRIX]
)
def test_matrix(world, as_role, role, method, path, body, want):
    ids = {
        "p": world["project"].pk,
        "t": world["task"].pk,
        "fresh": world["fresh"],
        "mine": world["mine"].pk,
        "theirs": world["theirs"].pk,
        "pred": world["prediction"].pk,
    }
    client = as_role(role)
    kwargs = {"format": "json"} if body is not None else {}
    response = getattr(client, method)(_fill(path, ids), _fill(body, ids), **kwargs)
    assert response.status_code == want, (role, method, path, response.content[:300])


def test_users_see_only_their_projects(client_for, project, outsider, staff, annotator):
    assert client_for(outsider).get("/api/projects/").json()["count"] == 0
    assert client_for(annotator).get("/api/projects/").json()["count"] == 1
    assert client_for(staff).get("/api/projects/").json()["count"] == 1


def test_annotator_sees_only_own_annotations_nested(client_for, world, annotator):
    task = client_for(annotator).get(f"/api/tasks/{world['task'].pk}/").json()
    assert [a["completed_by"] for a in task["annotations"]] == [annotator.pk]
    listed = client_for(annotator).get(f"/api/tasks/{world['task'].pk}/annotations/").json()
    assert [a["id"] for a in listed] == [world["mine"].pk]
