"""``labelhub train PROJECT_ID``: trains in this process with a progress bar."""

import pytest

from annotations.models import Prediction
from labelhub.cli import main
from ml.models import MLBackend, TrainingJob

pytestmark = pytest.mark.django_db(transaction=True)


def test_train_from_the_command_line(project, text_tasks, capsys):
    assert main(["train", str(project.pk), "--here"]) == 0
    out = capsys.readouterr()
    backend = MLBackend.objects.get(project=project)
    assert backend.model == "text-classifier"
    job = TrainingJob.objects.get(backend=backend)
    assert job.status == "completed" and job.annotations_used == 30
    assert "training: 100%" in out.err and "predicting: 100%" in out.err
    assert "Predictions: 60 written" in out.out
    assert (
        Prediction.objects.filter(project=project, model_version="text-classifier-v1").count() == 60
    )


def test_train_refuses_below_the_minimum(project, capsys):
    with pytest.raises(SystemExit, match="min_annotations_to_start_training"):
        main(["train", str(project.pk), "--here", "--no-progress"])
    with pytest.raises(SystemExit, match="No project"):
        main(["train", "999999", "--here"])
