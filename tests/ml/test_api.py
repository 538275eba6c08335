"""/api/ml/ end to end with built-in models: create, fit checks, train (in-process
Celery), jobs, versions, predictions written, predict for new samples, permissions."""

import pytest

from annotations.models import Prediction
from ml.models import MLBackend, PredictionJob, TrainingJob
from ml.sampling import in_random_lane
from tasks.models import Task
from tests.factories import IMAGE_CHOICES_CONFIG

pytestmark = pytest.mark.django_db


def builtin(api, project, model="text-classifier"):
    return api.post(
        "/api/ml/",
        {"project": project.pk, "kind": "builtin", "model": model, "url": None},
        format="json",
    )


def test_models_list_says_what_fits(api, project):
    body = api.get(f"/api/ml/models?project={project.pk}").json()
    by_name = {m["model"]: m for m in body}
    assert set(by_name) == {"text-classifier", "image-classifier", "ner"}
    assert by_name["text-classifier"]["fits"] is True
    assert by_name["ner"]["fits"] is False and "Labels" in by_name["ner"]["why"]
    assert set(by_name["image-classifier"]) == {"model", "title", "fits", "why"}


def test_a_model_that_does_not_fit_is_a_400_naming_the_need(api, project):
    response = builtin(api, project, "ner")
    assert response.status_code == 400
    body = response.json()
    assert "Labels" in body["detail"] and body["errors"][0]["field"] == "model"
    assert builtin(api, project, "no-such-model").status_code == 400
    assert not MLBackend.objects.exists()


def test_create_list_get_patch_delete(api, project):
    created = builtin(api, project)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["url"] is None and body["kind"] == "builtin" and body["model"] == "text-classifier"
    assert builtin(api, project).status_code == 400  # one per model per project
    assert [b["id"] for b in api.get(f"/api/ml?project={project.pk}").json()] == [body["id"]]
    assert api.get(f"/api/ml/{body['id']}").json()["title"]
    patched = api.patch(f"/api/ml/{body['id']}", {"title": "Mine"}, format="json")
    assert patched.status_code == 200 and patched.json()["title"] == "Mine"
    assert api.delete(f"/api/ml/{body['id']}").status_code == 204
    assert api.get(f"/api/ml/{body['id']}").status_code == 404


def test_training_needs_the_minimum(api, project):
    backend = builtin(api, project).json()
    response = api.post(f"/api/ml/{backend['id']}/train")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "min_annotations_to_start_training"
    assert not TrainingJob.objects.exists()


def test_train_predict_and_versions(
    api, project, text_tasks, jobs_inline, django_capture_on_commit_callbacks
):
    backend = builtin(api, project).json()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/ml/{backend['id']}/train")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "queued" and isinstance(body["job"], int)

    job = api.get(f"/api/ml/{backend['id']}/jobs/{body['job']}/").json()
    assert set(job) >= {
        "status",
        "progress",
        "model_version",
        "metrics",
        "annotations_used",
        "error",
    }
    assert job["status"] == "completed", job
    # One name per model version: the job's is the one its predictions carry.
    assert job["progress"] == 1.0 and job["model_version"] == "text-classifier-v1"
    assert job["number"] == 1
    assert job["annotations_used"] == 30
    assert job["metrics"]["accuracy"] >= 0.8 and job["metrics"]["held_out"] > 0
    assert [j["id"] for j in api.get(f"/api/ml/{backend['id']}/jobs/").json()] == [body["job"]]

    # The prediction job wrote one prediction per task, in batches, with counters.
    prediction_job = PredictionJob.objects.get()
    assert prediction_job.status == "completed" and prediction_job.written == 60
    assert (
        Prediction.objects.filter(project=project, model_version="text-classifier-v1").count() == 60
    )
    project.refresh_from_db()
    assert project.total_predictions_number == 60
    assert not Task.objects.filter(project=project, total_predictions=0).exists()
    assert not Task.objects.filter(project=project, prediction_score__isnull=True).exists()
    # Open tasks got an active-learning priority, except the random lane's (only ever
    # picked at random); labeled ones did not.
    unranked = Task.objects.filter(project=project, is_labeled=False, al_priority__isnull=True)
    assert all(
        in_random_lane(pk, project.al_epsilon) for pk in unranked.values_list("pk", flat=True)
    )
    assert unranked.count() < Task.objects.filter(project=project, is_labeled=False).count()
    assert (
        Task.objects.filter(project=project, is_labeled=True, al_priority__isnull=False).count()
        == 0
    )
    # The model is right on most of the unlabeled tasks.
    right = sum(
        p.result[0]["value"]["choices"][0] == text_tasks[p.task_id]
        for p in Prediction.objects.filter(project=project)
    )
    assert right >= 50

    versions = api.get(f"/api/ml/{backend['id']}/versions").json()
    assert versions["versions"] == ["text-classifier-v1"]
    assert versions["details"][0]["metrics"]["accuracy"] == job["metrics"]["accuracy"]
    # The held-out size beside the metric, and a warning: 30 labels hold out fewer than 30.
    detail = versions["details"][0]
    assert detail["metric"] == "accuracy" and detail["value"] == job["metrics"]["accuracy"]
    assert detail["held_out"] == job["metrics"]["held_out"] < 30
    assert f"only {detail['held_out']} held-out tasks" in detail["warning"]
    assert job["metric"]["warning"] == detail["warning"]

    # Training again: version 2, and the prediction job predicts only with the new one.
    with django_capture_on_commit_callbacks(execute=True):
        second = api.post(f"/api/ml/{backend['id']}/train").json()
    second_job = api.get(f"/api/ml/{backend['id']}/jobs/{second['job']}/").json()
    assert second_job["model_version"] == "text-classifier-v2" and second_job["number"] == 2
    assert Prediction.objects.filter(model_version="text-classifier-v2").count() == 60
    assert api.get(f"/api/ml/{backend['id']}").json()["model_version"] == "text-classifier-v2"
    curve = api.get(f"/api/projects/{project.pk}/learning-curve").json()
    assert [point["model_version"] for point in curve] == [
        "text-classifier-v1",
        "text-classifier-v2",
    ]
    assert [point["number"] for point in curve] == [1, 2]
    filtered = api.get(f"/api/predictions/?project={project.pk}").json()
    assert {p["model_version"] for p in filtered} >= {second_job["model_version"]}

    # New samples: predictions from the current model, and no task is created.
    before = Task.objects.count()
    answer = api.post(
        f"/api/projects/{project.pk}/predict",
        {
            "tasks": [
                {"data": {"text": "a lovely wonderful day"}},
                {"data": {"text": "awful and horrible"}},
            ]
        },
        format="json",
    )
    assert answer.status_code == 200, answer.content
    predictions = answer.json()["predictions"]
    assert [p["result"][0]["value"]["choices"] for p in predictions] == [["Positive"], ["Negative"]]
    assert all(
        0 < p["score"] <= 1 and p["model_version"] == "text-classifier-v2" for p in predictions
    )
    assert Task.objects.count() == before

    test = api.post(f"/api/ml/{backend['id']}/predict/test", {}, format="json")
    assert test.status_code == 200 and test.json()["prediction"]["result"]
    interactive = api.post(
        f"/api/ml/{backend['id']}/interactive-annotating",
        {"task": Task.objects.first().pk, "context": {}},
        format="json",
    )
    assert interactive.status_code == 200 and interactive.json()["data"]["result"]


def test_predict_without_a_model_is_a_400(api, project):
    response = api.post(
        f"/api/projects/{project.pk}/predict", {"tasks": [{"data": {"text": "x"}}]}, format="json"
    )
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "backend"
    assert (
        api.post(f"/api/projects/{project.pk}/predict", {"tasks": []}, format="json").status_code
        == 400
    )


def test_permissions(client_for, project, annotator, reviewer, outsider, api):
    backend = builtin(api, project).json()
    assert client_for(outsider).get(f"/api/ml/{backend['id']}").status_code == 404
    assert client_for(outsider).get(f"/api/ml/?project={project.pk}").status_code == 404
    assert client_for(annotator).post(f"/api/ml/{backend['id']}/train").status_code == 403
    assert client_for(reviewer).delete(f"/api/ml/{backend['id']}").status_code == 403
    assert (
        client_for(annotator)
        .patch(f"/api/ml/{backend['id']}", {"title": "x"}, format="json")
        .status_code
        == 403
    )
    assert client_for(None).get(f"/api/ml/?project={project.pk}").status_code in (401, 403)
    assert (
        client_for(annotator)
        .post(
            "/api/ml/",
            {"project": project.pk, "kind": "builtin", "model": "text-classifier"},
            format="json",
        )
        .status_code
        == 403
    )
    assert "basic_auth_pass" not in api.get(f"/api/ml/{backend['id']}").json()


def test_image_project_trains_on_uploaded_pngs(
    api, owner, jobs_inline, django_capture_on_commit_callbacks, settings, tmp_path
):
    import random

    from projects.services import project_create
    from tests.ml.test_builtin_models import _digit_image

    project = project_create(
        user=owner,
        title="Digits",
        label_config=IMAGE_CHOICES_CONFIG,
        min_annotations_to_start_training=10,
    )
    folder = settings.MEDIA_ROOT / "upload" / str(project.pk)
    folder.mkdir(parents=True)
    rng = random.Random(5)
    from annotations.services import annotation_create

    for i in range(45):
        _digit_image(i % 3, rng).save(folder / f"d{i}.png")
        task = Task.objects.create(
            project=project, data={"image": f"/data/upload/{project.pk}/d{i}.png"}
        )
        if i < 30:
            annotation_create(
                task=task,
                user=owner,
                result=[
                    {
                        "from_name": "digit",
                        "to_name": "image",
                        "type": "choices",
                        "value": {"choices": [str(i % 3)]},
                    }
                ],
            )
    backend = builtin(api, project, "image-classifier").json()
    with django_capture_on_commit_callbacks(execute=True):
        job = api.post(f"/api/ml/{backend['id']}/train").json()
    body = api.get(f"/api/ml/{backend['id']}/jobs/{job['job']}").json()
    assert body["status"] == "completed", body
    assert body["metrics"]["accuracy"] >= 0.8
    assert Prediction.objects.filter(project=project).count() == 45


def test_ner_project_trains_and_reports_f1(
    api, ner_project, owner, jobs_inline, django_capture_on_commit_callbacks
):
    import random

    from annotations.services import annotation_create
    from tests.ml.test_builtin_models import _ner_example

    rng = random.Random(6)
    for i in range(40):
        text, spans = _ner_example(rng)
        task = Task.objects.create(project=ner_project, data={"text": text})
        if i < 30:
            result = [
                {
                    "id": f"s{j}",
                    "from_name": "label",
                    "to_name": "text",
                    "type": "labels",
                    "value": {"start": a, "end": b, "text": text[a:b], "labels": [label]},
                }
                for j, (a, b, label) in enumerate(spans)
            ]
            annotation_create(task=task, user=owner, result=result)
    backend = builtin(api, ner_project, "ner").json()
    with django_capture_on_commit_callbacks(execute=True):
        job = api.post(f"/api/ml/{backend['id']}/train").json()
    body = api.get(f"/api/ml/{backend['id']}/jobs/{job['job']}").json()
    assert body["status"] == "completed", body
    assert body["metrics"]["f1"] >= 0.8
    prediction = Prediction.objects.filter(project=ner_project).first()
    assert {r["type"] for r in prediction.result} == {"labels"}


def test_backend_put_is_patch(api, project):
    backend = builtin(api, project).json()
    changed = api.put(f"/api/ml/{backend['id']}", {"title": "renamed"}, format="json")
    assert changed.status_code == 200 and changed.json()["title"] == "renamed"
