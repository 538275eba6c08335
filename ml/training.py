"""Running a training job (on a Celery worker), the body of ``ml.jobs.TRAINING``.

Idempotent: the job framework (``labelhub.jobs``) runs a job only under its lock and
only while it is not finished, so a redelivered message does nothing for a finished job
and restarts an abandoned one. The
model file is written under a new name in media storage *before* the job is marked
``completed`` and the backend pointed at it, in one transaction: a worker killed at any
moment leaves at most an orphan file nobody uses, never a half-written model in use, and
the previous version keeps serving. ``labelhub.jobs.job_check_alive`` (the status API, a
starting worker) turns a ``running`` job whose lock is free into ``failed``.
"""

import io
import logging
import time
import uuid

import joblib
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from labelhub import jobs
from ml import remote
from ml.al_check import active_vs_random
from ml.builtin import MODELS, NotFit
from ml.builtin.base import held_out
from ml.models import MLBackend, TrainingJob
from ml.selectors import labeling_order, training_examples
from ml.services import prediction_job_create
from projects.api import project_dict
from projects.label_config import ParsedConfig
from projects.models import Project

logger = logging.getLogger(__name__)
Status = TrainingJob.Status


class TrainingError(Exception):
    """A training run that cannot go on; the message is shown on the job."""


def _progress(job: TrainingJob, value: float) -> None:
    jobs.job_progress(job, value)
    if settings.LABELHUB_ML_PROGRESS_PAUSE:  # a throttle, and for the killed-worker test
        time.sleep(settings.LABELHUB_ML_PROGRESS_PAUSE)


def _train_builtin(job: TrainingJob) -> dict:
    backend, project = job.backend, job.project
    model_class = MODELS.get(backend.model)
    if model_class is None:
        raise TrainingError(f"unknown built-in model {backend.model!r}")
    parsed = ParsedConfig.from_dict(project.parsed_config)
    try:
        spec = model_class.spec_for(parsed)
    except NotFit as exc:
        raise TrainingError(f"{backend.model} does not fit this project: it needs {exc}") from None

    model = model_class(spec)
    task_ids, datas, targets = [], [], []
    for task_id, data, result in training_examples(project=project):
        target = model.target(result)
        if target is None:
            continue
        task_ids.append(task_id)
        datas.append(data)
        targets.append(target)
    minimum = max(project.min_annotations_to_start_training, 2)
    if len(targets) < minimum:
        raise TrainingError(
            f"{len(targets)} annotated tasks can train {backend.model}; "
            f"min_annotations_to_start_training is {minimum}"
        )
    if model_class.metric == "accuracy" and len(set(targets)) < 2:
        raise TrainingError("every training annotation has the same answer; need two or more")
    _progress(job, 0.1)
    inputs = model.inputs(datas)
    _progress(job, 0.3)

    # Held-out metrics from a split fixed by task id, then the final model on everything.
    test = [i for i, task_id in enumerate(task_ids) if held_out(task_id)]
    train = [i for i, task_id in enumerate(task_ids) if not held_out(task_id)]

    def pick(values, rows):
        return values[rows] if hasattr(values, "shape") else [values[i] for i in rows]

    metrics: dict = {"held_out": len(test), "trained_on": len(targets)}
    train_targets = pick(targets, train)
    if (
        test
        and len(train) >= 2
        and (model_class.metric != "accuracy" or len(set(train_targets)) > 1)
    ):
        probe = model_class(spec)
        probe.fit(pick(inputs, train), train_targets)
        metrics.update(probe.evaluate(pick(inputs, test), pick(targets, test)))
    _progress(job, 0.6)
    model.fit(inputs, targets)
    if model_class.metric not in metrics:  # too few to hold any out: training-set figure
        metrics.update(model.evaluate(inputs, targets))
        metrics["on_training_set"] = True
    if (
        project.sampling == Project.Sampling.ACTIVE_LEARNING
        and project.al_epsilon > 0
        and model_class.metric == "accuracy"
    ):
        metrics["al_check"] = active_vs_random(
            model_class=model_class,
            spec=spec,
            inputs=inputs,
            targets=targets,
            task_ids=task_ids,
            order=labeling_order(project=project),
            share=project.al_epsilon,
        )
    _progress(job, 0.85)

    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    name = (
        f"ml/project-{project.pk}/backend-{backend.pk}/"
        f"v{job.model_version}-{uuid.uuid4().hex[:12]}.joblib"
    )
    stored = default_storage.save(name, ContentFile(buffer.getvalue()))
    return {"metrics": metrics, "annotations_used": len(targets), "model_file": stored}


def _train_remote(job: TrainingJob) -> dict:
    """Label Studio >= 1.4.1 trains a remote backend with the START_TRAINING webhook."""
    backend, project = job.backend, job.project
    count = sum(1 for _ in training_examples(project=project))
    try:
        answer = remote.webhook(backend, "START_TRAINING", {"project": project_dict(project)})
    except remote.BackendError as exc:
        raise TrainingError(str(exc)) from None
    metrics = answer if isinstance(answer, dict) else {"answer": answer}
    return {"metrics": metrics, "annotations_used": count, "model_file": ""}


def training_job_body(job: TrainingJob) -> None:
    """Train, then point the backend at the new version and queue its predictions, in
    the transaction that completes the job. A ``TrainingError`` is shown as it is."""
    MLBackend.objects.filter(pk=job.backend_id).update(state=MLBackend.State.TRAINING)
    try:
        if job.backend.kind == MLBackend.Kind.BUILTIN:
            outcome = _train_builtin(job)
        else:
            outcome = _train_remote(job)
    except TrainingError as exc:
        raise jobs.JobFailed(str(exc)) from None
    _complete(job, outcome)


def _complete(job: TrainingJob, outcome: dict) -> None:
    backend = job.backend
    with transaction.atomic():
        jobs.job_complete(job, **outcome)
        if backend.kind == MLBackend.Kind.BUILTIN:
            MLBackend.objects.filter(pk=backend.pk).update(
                current_job=job,
                model_version=job.version_name,
                state=MLBackend.State.CONNECTED,
                error_message="",
                updated_at=timezone.now(),
            )
            backend.refresh_from_db()
            prediction_job_create(backend=backend)
        else:
            MLBackend.objects.filter(pk=backend.pk).update(
                state=MLBackend.State.CONNECTED, error_message="", updated_at=timezone.now()
            )
