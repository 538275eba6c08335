"""Issue #24, rows 9 and 10: numbers are range-checked on the way in, and the last
known 500s answer 400s that name the field."""

import pytest

from annotations.models import Annotation
from ml.models import MLBackend
from tasks.models import Task
from tests.factories import choice

pytestmark = pytest.mark.django_db


@pytest.fixture
def task(project):
    return Task.objects.create(project=project, data={"text": "hello"})


def _field(response) -> str:
    body = response.json()
    names = [str(e.get("field")) for e in body.get("errors") or []]
    return " ".join(names) + " " + str(body.get("detail", "")) + " " + str(body)


@pytest.mark.parametrize("lead_time", [1e308, 1.7e308, 1e300])
def test_a_huge_lead_time_is_a_400_and_quality_still_answers(
    client_for, annotator, owner, project, task, lead_time
):
    client = client_for(annotator)
    for _ in range(2):
        response = client.post(
            f"/api/tasks/{task.pk}/annotations/",
            {"result": choice("Positive"), "lead_time": lead_time},
            format="json",
        )
        assert response.status_code == 400, response.content
        assert "lead_time" in _field(response)
    assert not Annotation.objects.exists()
    assert client_for(owner).get(f"/api/projects/{project.pk}/quality/").status_code == 200


def test_a_huge_lead_time_in_an_import_is_a_400(api, project):
    response = api.post(
        f"/api/projects/{project.pk}/import",
        [{"data": {"text": "x"}, "annotations": [{"result": [], "lead_time": 1e308}]}],
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "lead_time" in _field(response)
    assert api.get(f"/api/projects/{project.pk}/quality/").status_code == 200


def test_a_huge_lead_time_in_a_draft_is_a_400(client_for, annotator, task):
    response = client_for(annotator).post(
        f"/api/tasks/{task.pk}/drafts",
        {"result": choice("Positive"), "lead_time": 1e308},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "lead_time" in _field(response)


def test_a_form_encoded_1e309_is_a_400(client_for, annotator, task):
    response = client_for(annotator).post(
        f"/api/tasks/{task.pk}/annotations/",
        {"result": "[]", "lead_time": "1e309"},
    )
    assert response.status_code == 400, response.content
    assert "lead_time" in _field(response)


@pytest.mark.parametrize("path", ["quality/", "quality/agreement-matrix/"])
def test_a_huge_user_id_is_a_400(api, project, path):
    response = api.get(f"/api/projects/{project.pk}/{path}?user=99999999999999999999")
    assert response.status_code == 400, response.content
    assert "user" in _field(response)


def test_a_huge_benchmark_first_is_a_400(api, project):
    for body in ({"benchmark_first": 10**30}, {"benchmark_rate": 1e308}):
        response = api.post(f"/api/projects/{project.pk}/quality/settings/", body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert next(iter(body)) in _field(response)
        response = api.patch(f"/api/projects/{project.pk}/", body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert next(iter(body)) in _field(response)


@pytest.fixture
def builtin_backend(project):
    return MLBackend.objects.create(
        project=project, kind=MLBackend.Kind.BUILTIN, model="text-classifier", title="b"
    )


@pytest.mark.parametrize(
    "body", [[1, 2], "text", 7, {"task": [1]}, {"task": {"id": 1}}, {"task": "x"}, {"task": 10**30}]
)
def test_interactive_annotating_bodies_are_400s(client_for, annotator, builtin_backend, task, body):
    response = client_for(annotator).post(
        f"/api/ml/{builtin_backend.pk}/interactive-annotating/", body, format="json"
    )
    assert response.status_code == 400, response.content
    if isinstance(body, dict):
        assert "task" in _field(response)


@pytest.mark.parametrize("body", [{"task": []}, {"task": {}}, {"task": "1x"}, [1]])
def test_predict_test_bodies_are_400s(api, builtin_backend, task, body):
    response = api.post(f"/api/ml/{builtin_backend.pk}/predict/test/", body, format="json")
    assert response.status_code == 400, response.content


def test_convert_with_a_list_export_type_is_a_400(api, project, task):
    snapshot = api.post(f"/api/projects/{project.pk}/exports/", {}, format="json").json()
    for body in ({"export_type": ["CSV"]}, {"export_type": {"a": 1}}, {"export_type": "NOPE"}):
        response = api.post(
            f"/api/projects/{project.pk}/exports/{snapshot['id']}/convert", body, format="json"
        )
        assert response.status_code == 400, (body, response.content)
        assert "export_type" in _field(response)
