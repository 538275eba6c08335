"""The training and prediction jobs, as kinds of the one job framework
(``labelhub.jobs``); registered in ``MlConfig.ready``. Their bodies are in
``ml.training`` and ``ml.predicting``, imported when a job runs: they load scikit-learn
and joblib, which the web process never needs at start."""

from django.conf import settings
from django.utils import timezone

from labelhub import jobs
from ml.models import MLBackend, PredictionJob, TrainingJob

TRAINING_LOST = "The worker stopped during training; the previous model stays in use."
PREDICTION_LOST = "The worker stopped while predicting; run the predictions again to finish."
QUEUE_DOWN = "The job queue could not be reached ({error})"


def _queue(model):
    def queue(job_id: int) -> str | None:
        """A job for a remote backend calls an outside server, possibly for its whole
        timeout: it goes to ``LABELHUB_OUTBOUND_QUEUE`` (a worker of its own), so a slow
        backend never holds the slots imports, snapshots and built-in training need.
        Built-in models run on ``LABELHUB_ML_QUEUE`` (the default queue when empty)."""
        remote = model.objects.filter(pk=job_id, backend__kind=MLBackend.Kind.REMOTE).exists()
        if remote and settings.LABELHUB_OUTBOUND_QUEUE:
            return settings.LABELHUB_OUTBOUND_QUEUE
        return settings.LABELHUB_ML_QUEUE or None

    return queue


def _train(job: TrainingJob) -> None:
    from ml import training  # scikit-learn and joblib: loaded by the worker, on use

    training.training_job_body(job)


def _training_failed(job: TrainingJob) -> None:
    """The backend shows the failed run's error."""
    MLBackend.objects.filter(pk=job.backend_id).update(
        state=MLBackend.State.ERROR, error_message=job.error, updated_at=timezone.now()
    )


def _training_lost(job: TrainingJob) -> None:
    """A dead worker's run: the backend keeps its previous version, connected."""
    MLBackend.objects.filter(pk=job.backend_id, state=MLBackend.State.TRAINING).update(
        state=MLBackend.State.CONNECTED
    )


def _predict(job: PredictionJob) -> None:
    from ml import predicting  # scikit-learn and numpy: loaded by the worker, on use

    predicting.prediction_job_body(job)


TRAINING = jobs.Kind(
    name="training",
    model=TrainingJob,
    lock_namespace=0x4D4C,  # "ML"
    body=_train,
    worker_lost=TRAINING_LOST,
    queue_down=QUEUE_DOWN,
    crashed="Training failed on the worker ({error}: {message})",
    queue=_queue(TrainingJob),
    select_related=("backend", "project"),
    failed=_training_failed,
    lost=_training_lost,
)

PREDICTION = jobs.Kind(
    name="prediction",
    model=PredictionJob,
    lock_namespace=0x4D50,  # "MP"
    body=_predict,
    worker_lost=PREDICTION_LOST,
    queue_down=QUEUE_DOWN,
    crashed="Predicting failed on the worker ({error}: {message})",
    queue=_queue(PredictionJob),
    select_related=("backend", "project"),
)
