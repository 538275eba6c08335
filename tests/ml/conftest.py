"""Fixtures for the ML tests: projects for each built-in model, labeled tasks, and
background jobs run in-process (Celery's eager mode)."""

import random

import pytest

from annotations.services import annotation_create
from projects.models import ProjectMember
from projects.services import member_set, project_create
from tasks.models import Task
from tests.factories import NER_CONFIG, sentiment_choice, sentiment_text


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LABELHUB_ML_BATCH_SIZE = 50


@pytest.fixture
def text_tasks(project):
    """60 sentiment tasks; the first 30 labeled by the owner with the true label."""
    rng = random.Random(7)
    truth = {}
    for i in range(60):
        label = "Positive" if i % 2 else "Negative"
        task = Task.objects.create(project=project, data={"text": sentiment_text(rng, label)})
        truth[task.pk] = label
    Task.objects.filter(project=project)
    project.task_number = 60
    project.save(update_fields=["task_number"])
    for task_id in list(truth)[:30]:
        task = Task.objects.get(pk=task_id)
        annotation_create(
            task=task, user=project.created_by, result=sentiment_choice(truth[task_id])
        )
    project.refresh_from_db()
    return truth


@pytest.fixture
def ner_project(owner, annotator):
    project = project_create(user=owner, title="NER", label_config=NER_CONFIG)
    member_set(project=project, user=annotator, role=ProjectMember.Role.ANNOTATOR)
    return project
