"""Issue #24, row 3: the JSON nesting limit holds for every body type, not only JSON.

A form-encoded or multipart field that a serializer reads as JSON was handed to
Python's ``json`` unchecked: a 200 KB ``[[[...`` was a RecursionError (a 500) on eight
endpoints, an annotator's annotation POST among them, and a 300-deep result could be
stored (after which JSON exports broke mid-stream)."""

import pytest

from annotations.models import Annotation
from tasks.models import Task

pytestmark = pytest.mark.django_db

DEEP = "[" * 100_000 + "]" * 100_000
MIDDLE = "[" * 300 + "]" * 300  # under Python's recursion limit, over ours


@pytest.fixture
def task(project):
    return Task.objects.create(project=project, data={"text": "hello"})


@pytest.fixture
def objects(project, task, annotator, owner):
    from annotations.models import AnnotationDraft
    from annotations.services import annotation_create
    from datamanager.models import View

    annotation = annotation_create(task=task, user=annotator, result=[])
    draft = AnnotationDraft.objects.create(task=task, project=project, user=annotator, result=[])
    view = View.objects.create(project=project, user=owner, data={})
    return {
        "project": project.pk,
        "task": task.pk,
        "annotation": annotation.pk,
        "draft": draft.pk,
        "view": view.pk,
    }


# (method, path, JSON field, who): every endpoint whose serializer reads a JSON field,
# the eight of the report among them.
CASES = [
    ("post", "/api/tasks/{task}/annotations/", "result", "annotator"),
    ("patch", "/api/annotations/{annotation}/", "result", "annotator"),
    ("post", "/api/tasks/{task}/drafts/", "result", "annotator"),
    ("patch", "/api/drafts/{draft}/", "result", "annotator"),
    ("post", "/api/predictions/", "result", "owner"),
    ("post", "/api/tasks/", "data", "owner"),
    ("patch", "/api/tasks/{task}/", "data", "owner"),
    ("patch", "/api/tasks/{task}/", "meta", "owner"),
    ("post", "/api/dm/views/", "data", "owner"),
    ("patch", "/api/dm/views/{view}/", "data", "owner"),
    ("post", "/api/ml/", "extra_params", "owner"),
    ("post", "/api/projects/{project}/ground-truth/sample/", "filters", "owner"),
    ("post", "/api/projects/{project}/ground-truth/preview/", "filters", "owner"),
]


@pytest.mark.parametrize("fmt", ["form", "multipart"])
@pytest.mark.parametrize("method,path,field,who", CASES)
def test_a_deep_form_field_is_a_400_naming_it(
    client_for, owner, annotator, objects, fmt, method, path, field, who
):
    from urllib.parse import urlencode

    client = client_for(owner if who == "owner" else annotator)
    url = path.format(**objects)
    body = {field: DEEP, "project": objects["project"], "task": objects["task"]}
    if fmt == "form":
        response = getattr(client, method)(
            url, urlencode(body), content_type="application/x-www-form-urlencoded"
        )
    else:
        response = getattr(client, method)(url, body, format="multipart")
    assert response.status_code == 400, response.content[:300]
    assert field in response.content.decode(), response.content[:300]


def test_nan_in_a_form_field_is_a_400(client_for, annotator, task):
    response = client_for(annotator).post(f"/api/tasks/{task.pk}/annotations/", {"result": "[NaN]"})
    assert response.status_code == 400, response.content


def test_a_deep_token_payload_is_a_401(client):
    import base64

    payload = base64.urlsafe_b64encode(b"[" * 3000).decode().rstrip("=")
    response = client.get("/api/projects/", HTTP_AUTHORIZATION=f"Bearer e30.{payload}.x")
    assert response.status_code == 401


@pytest.mark.parametrize("fmt", ["form", "multipart"])
def test_an_annotators_deep_result_is_a_400_naming_the_field(client_for, annotator, task, fmt):
    client = client_for(annotator)
    for value in (DEEP, MIDDLE):
        if fmt == "form":
            response = client.post(f"/api/tasks/{task.pk}/annotations/", {"result": value})
        else:
            response = client.post(
                f"/api/tasks/{task.pk}/annotations/", {"result": value}, format="multipart"
            )
        assert response.status_code == 400, response.content
        assert "result" in response.content.decode()
        assert "nested deeper" in response.content.decode()
    assert not Annotation.objects.exists()


def test_a_deep_task_data_by_form_is_refused(api, project):
    response = api.post("/api/tasks/", {"project": project.pk, "data": '{"text": ' + MIDDLE + "}"})
    assert response.status_code == 400, response.content
    assert not Task.objects.filter(project=project).exists()
