"""Imports set Task.prediction_score (the mean score) as they write, so the Data Manager's
score column and filters and the score samplers are right at once."""

import pytest

from importers.services import tasks_import
from tasks.models import Task
from tests.factories import choice

pytestmark = pytest.mark.django_db


def test_import_sets_the_mean_prediction_score(project, owner):
    ids = tasks_import(
        project=project,
        user=owner,
        records=[
            {
                "data": {"text": "two"},
                "predictions": [
                    {"result": choice("Positive"), "score": 0.2},
                    {"result": choice("Negative"), "score": 0.6},
                ],
            },
            {"data": {"text": "unscored"}, "predictions": [{"result": choice("Positive")}]},
            {"data": {"text": "none"}},
        ],
    ).task_ids
    scores = dict(Task.objects.filter(pk__in=ids).values_list("pk", "prediction_score"))
    assert scores[ids[0]] == pytest.approx(0.4)
    assert scores[ids[1]] is None and scores[ids[2]] is None
