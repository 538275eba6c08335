"""Fixtures for the ML tests: projects for each built-in model, labeled tasks, and
background jobs run in-process (Celery's eager mode)."""

import random

import pytest
from django.db import connection

from annotations.services import annotation_create
from projects.models import ProjectMember
from projects.services import member_set, project_create
from tasks.models import Task

NER_CONFIG = """<View>
  <Labels name="label" toName="text"><Label value="PER"/><Label value="ORG"/></Labels>
  <Text name="text" value="$text"/>
</View>"""
IMAGE_CHOICES_CONFIG = """<View>
  <Image name="image" value="$image"/>
  <Choices name="digit" toName="image">
    <Choice value="0"/><Choice value="1"/><Choice value="2"/>
  </Choices>
</View>"""
MULTI_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="topics" toName="text" choice="multiple">
    <Choice value="sport"/><Choice value="money"/><Choice value="food"/>
  </Choices>
</View>"""

POSITIVE = ["great", "lovely", "excellent", "happy", "wonderful", "good", "superb", "nice"]
NEGATIVE = ["awful", "terrible", "bad", "sad", "horrible", "poor", "dreadful", "nasty"]
FILLER = ["the", "film", "was", "really", "quite", "a", "day", "food", "service", "it"]


def sentiment_text(rng: random.Random, label: str) -> str:
    words = rng.sample(FILLER, 4) + rng.sample(POSITIVE if label == "Positive" else NEGATIVE, 2)
    rng.shuffle(words)
    return " ".join(words)


def sentiment_choice(label: str) -> list[dict]:
    return [
        {
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [label]},
        }
    ]


@pytest.fixture
def jobs_inline():
    from labelhub.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LABELHUB_ML_BATCH_SIZE = 50


@pytest.fixture
def pg(db):
    assert connection.vendor == "postgresql", "this test needs DATABASE_URL to point at PostgreSQL"


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
