"""Writes for the ML app: backends, training and prediction jobs, predictions on demand,
and the reaction to annotation events (webhooks and retraining)."""

import logging

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from annotations.models import Annotation
from labelhub import jobs
from labelhub.errors import ApiError
from ml import remote
from ml.models import MLBackend, PredictionJob, TrainingJob
from ml.selectors import training_annotation_count
from projects.api import project_dict
from projects.label_config import ParsedConfig
from projects.models import Project
from projects.results import validate_result
from tasks.models import Task
from tasks.representations import task_dict

logger = logging.getLogger(__name__)

BACKEND_FIELDS = {
    "title",
    "description",
    "url",
    "is_interactive",
    "auth_method",
    "basic_auth_user",
    "basic_auth_pass",
    "extra_params",
    "timeout",
    "model_version",
}


def _error(field: str, message: str, status: int = 400) -> ApiError:
    return ApiError(message, [{"field": field, "message": message}], status_code=status)


def _api_error(exc: remote.BackendError, field: str = "url") -> ApiError:
    return _error(field, str(exc), exc.status)


def builtin_check(*, project: Project, model: str) -> None:
    """400 naming what the model needs when it does not fit the config."""
    from ml.builtin import MODELS  # NumPy and Pillow: not needed at start

    model_class = MODELS.get(model)
    if model_class is None:
        raise _error("model", f"model must be one of {', '.join(MODELS)}; got {model!r}")
    fits, why = model_class.fit_check(ParsedConfig.from_dict(project.parsed_config))
    if not fits:
        raise _error(
            "model", f"{model} does not fit this project's labeling config: it needs {why}"
        )


def builtin_title(model: str) -> str:
    from ml.builtin import MODELS

    return MODELS[model].title


def remote_connect(backend: MLBackend) -> None:
    """Health and setup of a remote backend, or a 400 naming the problem (refused URL,
    unreachable, an error or garbage for an answer)."""
    try:
        remote.health(backend)
        answer = remote.setup(backend, backend.project)
    except remote.BackendError as exc:
        status = 400 if exc.status in (400, 502, 504) else exc.status
        raise _error("url", str(exc), status) from None
    version = answer.get("model_version")
    if version and not backend.model_version:
        backend.model_version = str(version)
    backend.state = MLBackend.State.CONNECTED
    backend.error_message = ""


@transaction.atomic
def backend_create(
    *, project: Project, kind: str = "remote", model: str = "", **fields
) -> MLBackend:
    unknown = set(fields) - BACKEND_FIELDS
    if unknown:
        raise _error(sorted(unknown)[0], f"Unknown fields: {', '.join(sorted(unknown))}")
    if kind == MLBackend.Kind.BUILTIN:
        builtin_check(project=project, model=model)
        if MLBackend.objects.filter(project=project, kind=kind, model=model).exists():
            raise _error("model", f"this project already has a {model} backend")
        fields.pop("url", None)
        backend = MLBackend(
            project=project,
            kind=kind,
            model=model,
            url="",
            title=fields.pop("title", "") or builtin_title(model),
            state=MLBackend.State.CONNECTED,
            **fields,
        )
    elif kind == MLBackend.Kind.REMOTE:
        if not fields.get("url"):
            raise _error("url", "url is required for a remote ML backend")
        try:
            fields["url"] = remote.check_url(fields["url"])
        except remote.BackendError as exc:
            raise _api_error(exc) from None
        backend = MLBackend(project=project, kind=kind, **fields)
        remote_connect(backend)
    else:
        raise _error("kind", "kind must be builtin or remote")
    backend.save()
    return backend


@transaction.atomic
def backend_update(*, backend: MLBackend, **fields) -> MLBackend:
    unknown = set(fields) - BACKEND_FIELDS
    if unknown:
        raise _error(sorted(unknown)[0], f"Unknown fields: {', '.join(sorted(unknown))}")
    if backend.kind == MLBackend.Kind.BUILTIN and fields.get("url"):
        raise _error("url", "a built-in model has no url")
    for name, value in fields.items():
        setattr(backend, name, value)
    if backend.kind == MLBackend.Kind.REMOTE and set(fields) & {
        "url",
        "auth_method",
        "basic_auth_user",
        "basic_auth_pass",
    }:
        try:
            backend.url = remote.check_url(backend.url)
        except remote.BackendError as exc:
            raise _api_error(exc) from None
        remote_connect(backend)
    backend.updated_at = timezone.now()
    backend.save()
    return backend


def backend_delete(*, backend: MLBackend) -> None:
    backend.delete()


def backend_health(*, backend: MLBackend) -> dict:
    """Ask a remote backend for /health now (short timeout); store and return the state."""
    if backend.kind == MLBackend.Kind.BUILTIN:
        return {"status": "UP", "state": backend.state}
    try:
        answer = remote.health(backend, timeout=3.0)
        state, message = MLBackend.State.CONNECTED, ""
    except remote.BackendError as exc:
        answer, state, message = {"status": "DOWN"}, MLBackend.State.ERROR, str(exc)
    MLBackend.objects.filter(pk=backend.pk).update(state=state, error_message=message)
    backend.state, backend.error_message = state, message
    return {**answer, "state": state, "error": message}


@transaction.atomic
def training_job_create(
    *, backend: MLBackend, user=None, check_minimum: bool = True, queue: bool = True
) -> TrainingJob:
    """Record a training run and queue it for the workers (``queue=False``: the caller
    runs it, as ``labelhub train --here`` does); 400 when the model does not fit the
    config or there are fewer annotations than the project's minimum."""
    backend = MLBackend.objects.select_for_update().select_related("project").get(pk=backend.pk)
    project = backend.project
    if backend.kind == MLBackend.Kind.BUILTIN:
        builtin_check(project=project, model=backend.model)
    count = training_annotation_count(project=project)
    if check_minimum and count < project.min_annotations_to_start_training:
        raise _error(
            "min_annotations_to_start_training",
            f"{count} annotated tasks; training starts at min_annotations_to_start_training="
            f"{project.min_annotations_to_start_training}",
        )
    number = (
        TrainingJob.objects.filter(backend=backend).aggregate(n=Max("model_version"))["n"] or 0
    ) + 1
    job = TrainingJob.objects.create(
        backend=backend, project=project, created_by=user, model_version=number
    )
    MLBackend.objects.filter(pk=backend.pk).update(
        annotations_at_last_train=project.total_annotations_number
    )
    if queue:
        jobs.job_enqueue_on_commit(job)
    return job


def prediction_job_create(*, backend: MLBackend, task_ids: list[int] | None = None):
    """Record a prediction job and enqueue it once the surrounding transaction commits
    (``task_ids``: only these tasks; None: every task without a prediction of the
    backend's version)."""
    job = PredictionJob.objects.create(
        backend=backend,
        project_id=backend.project_id,
        model_version=backend.model_version,
        task_ids=task_ids,
    )
    jobs.job_enqueue_on_commit(job)
    return job


def predictions_for_data(*, backend: MLBackend, datas: list[dict], timeout: float | None = None):
    """Predictions in Label Studio's format for task data that are not tasks (nothing is
    written): ``[{"result", "score", "model_version"}]``."""
    project = backend.project
    tasks = [Task(id=-(i + 1), project=project, data=data, meta={}) for i, data in enumerate(datas)]
    if backend.kind == MLBackend.Kind.BUILTIN:
        if backend.current_job_id is None:
            raise _error("model", "the model is not trained yet; train it first", 400)
        from ml.predicting import Predictor  # NumPy: loaded by the first prediction

        try:
            results, scores, _, _, _ = Predictor(backend, project)([(t.id, t.data) for t in tasks])
        except ValueError as exc:  # e.g. an image that cannot be read
            raise _error("tasks", str(exc)) from None
        answers = [
            {"result": r, "score": s, "model_version": backend.model_version}
            for r, s in zip(results, scores, strict=True)
        ]
    else:
        payload = [task_dict(task, annotations=[], predictions=[]) for task in tasks]
        try:
            answers = remote.predict(backend, project, payload, timeout=timeout)
        except remote.BackendError as exc:
            raise _api_error(exc, "backend") from None
    parsed = ParsedConfig.from_dict(project.parsed_config)
    # A prediction that breaks the config is dropped (None), as the jobs drop it.
    return [
        None if not answer or validate_result(parsed, answer["result"]) else answer
        for answer in answers
    ]


def annotation_event_handle(*, project_id: int, action: str, annotation_id: int, task_id: int):
    """After an annotation is created, updated or deleted (Celery, never in the request):
    send the webhook to every remote backend, and retrain built-in models when the
    project asks for it and ``retrain_every`` new annotations came in."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return
    backends = list(MLBackend.objects.filter(project=project))
    if not backends:
        return
    annotation = Annotation.objects.filter(pk=annotation_id).first()
    task = Task.objects.filter(pk=task_id).first()
    payload = {
        "project": project_dict(project),
        "task": task_dict(task, annotations=[], predictions=[]) if task else {"id": task_id},
        "annotation": _annotation_dict(annotation) if annotation else {"id": annotation_id},
    }
    for backend in backends:
        if backend.kind == MLBackend.Kind.REMOTE:
            try:
                remote.webhook(backend, action, payload)
            except remote.BackendError as exc:
                logger.warning("webhook %s to backend %s failed: %s", action, backend.pk, exc)
        elif _retrain_due(project, backend):
            try:
                training_job_create(backend=backend)
            except ApiError:
                pass  # below the minimum, or no longer fits: nothing to do


def _retrain_due(project: Project, backend: MLBackend) -> bool:
    if not (
        project.start_training_on_annotation_update
        or project.sampling == Project.Sampling.ACTIVE_LEARNING
    ):
        return False
    if project.retrain_every <= 0:
        return False
    if TrainingJob.objects.filter(backend=backend, status__in=["queued", "running"]).exists():
        return False
    new = project.total_annotations_number - backend.annotations_at_last_train
    return new >= project.retrain_every or (
        backend.current_job_id is None
        and project.total_annotations_number >= project.min_annotations_to_start_training
    )


def _annotation_dict(annotation: Annotation) -> dict:
    return {
        "id": annotation.pk,
        "result": annotation.result,
        "was_cancelled": annotation.was_cancelled,
        "ground_truth": annotation.ground_truth,
        "completed_by": annotation.completed_by_id,
        "task": annotation.task_id,
        "project": annotation.project_id,
        "lead_time": annotation.lead_time,
        "created_at": annotation.created_at.isoformat(),
        "updated_at": annotation.updated_at.isoformat(),
    }


def predicting_backend(*, project: Project, backend_id: int | None = None) -> MLBackend:
    """The backend that answers predictions for new samples: the one asked for, else the
    one whose version the project pre-fills with, else the newest trained built-in
    model, else the first remote backend. 400 when there is none."""
    backends = MLBackend.objects.filter(project=project).select_related("project")
    if backend_id is not None:
        backend = backends.filter(pk=backend_id).first()
        if backend is None:
            raise _error("backend", f"backend {backend_id} is not in this project")
        return backend
    if project.model_version:
        backend = backends.filter(model_version=project.model_version).first()
        if backend is not None:
            return backend
    backend = (
        backends.filter(kind=MLBackend.Kind.BUILTIN, current_job__isnull=False)
        .order_by("-current_job__finished_at")
        .first()
    ) or backends.filter(kind=MLBackend.Kind.REMOTE).order_by("id").first()
    if backend is None:
        raise _error("backend", "the project has no trained model or ML backend to predict with")
    return backend
