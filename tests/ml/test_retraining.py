"""Retraining in the background every ``retrain_every`` annotations (Celery, after the
annotation commits), on in active-learning sampling."""

import pytest

from ml.models import TrainingJob
from ml.services import backend_create
from tasks.models import Task
from tests.factories import sentiment_choice

pytestmark = pytest.mark.django_db


def test_retrains_every_k_annotations(
    api, project, text_tasks, jobs_inline, django_capture_on_commit_callbacks
):
    backend = backend_create(project=project, kind="builtin", model="text-classifier")
    project.sampling = "active-learning"
    project.retrain_every = 3
    project.save()
    open_tasks = list(Task.objects.filter(project=project, is_labeled=False).order_by("id"))

    def annotate(task):
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post(
                f"/api/tasks/{task.pk}/annotations/",
                {"result": sentiment_choice(text_tasks[task.pk])},
                format="json",
            )
        assert response.status_code == 201, response.content

    # 30 annotations and no model yet: the first submit trains version 1.
    annotate(open_tasks[0])
    assert list(TrainingJob.objects.values_list("model_version", "status")) == [(1, "completed")]
    annotate(open_tasks[1])
    annotate(open_tasks[2])
    assert TrainingJob.objects.count() == 1  # 2 new annotations < retrain_every
    annotate(open_tasks[3])
    assert TrainingJob.objects.filter(status="completed").count() == 2
    backend.refresh_from_db()
    assert backend.model_version == "text-classifier-v2"
    assert TrainingJob.objects.get(model_version=2).annotations_used == 34

    # Sequential sampling without start_training_on_annotation_update: no retraining.
    project.sampling = "sequential"
    project.save()
    for task in open_tasks[4:8]:
        annotate(task)
    assert TrainingJob.objects.count() == 2
