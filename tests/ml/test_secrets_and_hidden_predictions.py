"""ML backend secrets are write-only for everyone, and ``show_predictions_to_annotators:
false`` holds on every path (issue #24 row 12)."""

import pytest

from annotations.services import prediction_create
from ml import remote
from ml.models import MLBackend
from tasks.models import Task
from tests.factories import choice

pytestmark = pytest.mark.django_db

SECRET = "sk-live-123456"


@pytest.fixture
def backend(project):
    return MLBackend.objects.create(
        project=project,
        kind=MLBackend.Kind.REMOTE,
        url="http://ml.example.com",
        auth_method=MLBackend.AuthMethod.BASIC_AUTH,
        basic_auth_user="ml-user-name",
        basic_auth_pass="ml-pass",
        extra_params={"api_key": SECRET, "threshold": 0.5},
        state=MLBackend.State.CONNECTED,
    )


def test_secrets_are_write_only_for_everyone(client_for, owner, annotator, project, backend):
    for user in (owner, annotator):
        client = client_for(user)
        for url in (f"/api/ml/?project={project.pk}", f"/api/ml/{backend.pk}"):
            body = client.get(url).content.decode()
            assert SECRET not in body and "ml-user-name" not in body and "ml-pass" not in body
    shown = client_for(owner).get(f"/api/ml/{backend.pk}").json()
    assert shown["basic_auth_pass_is_set"] is True
    assert set(shown["extra_params"]) == {"api_key", "threshold"}
    # A GET-then-PATCH round trip keeps the stored secrets; a new value replaces one.
    patched = client_for(owner).patch(
        f"/api/ml/{backend.pk}",
        {
            "basic_auth_user": shown["basic_auth_user"],
            "extra_params": {**shown["extra_params"], "threshold": 0.7},
        },
        format="json",
    )
    assert patched.status_code == 200, patched.content
    backend.refresh_from_db()
    assert backend.basic_auth_user == "ml-user-name"
    assert backend.extra_params == {"api_key": SECRET, "threshold": 0.7}


def test_hidden_predictions_stay_hidden_on_every_path(
    client_for, owner, annotator, project, backend, monkeypatch
):
    project.show_predictions_to_annotators = False
    project.save()
    calls = []

    def fake_predict(backend, project, tasks, *, timeout=None):
        calls.append(len(tasks))
        return [{"result": choice("Positive"), "score": 0.9, "model_version": "v"} for _ in tasks]

    monkeypatch.setattr(remote, "predict", fake_predict)
    task = Task.objects.create(project=project, data={"text": "a"})
    prediction_create(task=task, result=choice("Negative"), score=0.7, model_version="v")
    client = client_for(annotator)

    predicted = client.post(
        f"/api/projects/{project.pk}/predict", {"tasks": [{"data": {"text": "x"}}]}, format="json"
    )
    assert predicted.status_code == 403, predicted.content
    interactive = client.post(
        f"/api/ml/{backend.pk}/interactive-annotating", {"task": task.pk}, format="json"
    )
    assert interactive.status_code == 403, interactive.content
    assert calls == []
    for fields in ("", "&fields=all"):
        [row] = client.get(f"/api/tasks/?project={project.pk}{fields}").json()["tasks"]
        assert row["predictions_score"] is None and row["total_predictions"] == 0
        assert row.get("predictions", []) == []
    detail = client.get(f"/api/tasks/{task.pk}/").json()
    assert detail["predictions"] == [] and detail["total_predictions"] == 0
    served = client.get(f"/api/projects/{project.pk}/next/").json()
    assert served["predictions"] == [] and served["total_predictions"] == 0
    assert client.get(f"/api/predictions/?task={task.pk}").json() == []

    # Admins, and annotators once the project shows predictions, get them.
    admin = client_for(owner).post(
        f"/api/projects/{project.pk}/predict", {"tasks": [{"data": {"text": "x"}}]}, format="json"
    )
    assert admin.status_code == 200, admin.content
    project.show_predictions_to_annotators = True
    project.save()
    assert (
        client.post(
            f"/api/ml/{backend.pk}/interactive-annotating", {"task": task.pk}, format="json"
        ).status_code
        == 200
    )
    [row] = client.get(f"/api/tasks/?project={project.pk}").json()["tasks"]
    assert row["predictions_score"] == 0.7
