"""Prediction jobs: predict with one model version for the tasks that have no prediction
from it, in batches of ``LABELHUB_ML_BATCH_SIZE`` tasks walked by id.

Each batch commits on its own (predictions, the tasks' counters and mean scores, the
project's counter), with progress on the job row, so a million tasks never sit in one
transaction and a re-run after a killed worker carries on where it stopped. On
PostgreSQL the rows go in with ``COPY`` (see ``_copy_predictions``). Results that break
the labeling config are dropped and counted, never written. A backend that fails
(timeout, HTTP 500, garbage) fails the job, and the job's predictions written so far are
deleted again: no partial predictions.

At the end the active-learning order is refreshed (``al_priorities_write``): each open
task outside the random lane gets a priority from ``ml.strategy.Ranker`` (by default its
margin uncertainty under the new model; a strategy with clusters ranks within clusters
of similar tasks, taken in turn), so the next picks are the ones the model is least sure
of.
"""

import io
import logging

import numpy as np
import orjson
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from annotations.counters import tasks_predictions_added
from annotations.models import Prediction
from labelhub import jobs
from labelhub.errors import MAX_ERRORS
from ml import remote
from ml.modelfiles import model_load
from ml.models import MLBackend, PredictionJob, TrainingJob
from ml.sampling import in_random_lane
from ml.strategy import Ranker
from projects.label_config import ParsedConfig
from projects.models import Project
from projects.results import format_result_error, validate_result
from tasks.models import Task
from tasks.representations import task_dict

logger = logging.getLogger(__name__)


def _load_model(backend: MLBackend):
    job = TrainingJob.objects.filter(pk=backend.current_job_id).first()
    if job is None or not job.model_file:
        raise RuntimeError("the backend has no trained model yet")
    return model_load(job)


class Predictor:
    """Predictions for a batch of tasks, given as (id, data) rows: (results or None,
    scores, probabilities, features, versions). ``versions`` is None for a built-in
    model (the job's version names them all); for a remote backend it holds each
    prediction's own ``model_version`` from the ``/predict`` answer, as Label Studio
    stores it (``r.get("model_version", backend.model_version)``)."""

    def __init__(self, backend: MLBackend, project: Project) -> None:
        self.backend, self.project = backend, project
        self.model = _load_model(backend) if backend.kind == MLBackend.Kind.BUILTIN else None

    def __call__(self, rows: list[tuple[int, dict]]):
        if self.model is not None:
            inputs = self.model.inputs([data for _task_id, data in rows])
            return (*self.model.predict_with_features(inputs), None)
        # A remote backend gets Label Studio's whole task shape.
        tasks = Task.objects.in_bulk([task_id for task_id, _data in rows])
        payload = [
            task_dict(tasks[task_id], annotations=[], predictions=[]) for task_id, _data in rows
        ]
        answers = remote.predict(self.backend, self.project, payload)
        results = [a["result"] if a else None for a in answers]
        scores = [_number(a.get("score")) if a else None for a in answers]
        versions = [_version(a.get("model_version")) if a else None for a in answers]
        return results, scores, None, None, versions


def _version(value) -> str | None:
    """A prediction's own model version as stored (at most the column's 255 characters),
    or None to take the job's."""
    if value is None or isinstance(value, (dict, list)) or str(value) == "":
        return None
    return str(value)[:255]


def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _copy_predictions(rows: list[tuple]) -> None:
    """PostgreSQL ``COPY ... FROM STDIN`` (text format) of (task, project, version,
    score, result) rows. orjson escapes every control character inside JSON strings, so
    a result needs only its backslashes doubled. Measured in bench/ml_bench.py: COPY
    writes a batch several times faster than ``bulk_create`` (see bench/README.md)."""
    now = timezone.now().isoformat()
    buffer = io.StringIO()
    for task_id, project_id, version, score, result in rows:
        score_text = "\\N" if score is None else repr(float(score))
        result_text = orjson.dumps(result).decode().replace("\\", "\\\\")
        buffer.write(
            f"{task_id}\t{project_id}\t{_escape(version)}\t{score_text}\t{result_text}\t{now}\t{now}\n"
        )
    buffer.seek(0)
    table = Prediction._meta.db_table
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {table} (task_id, project_id, model_version, score, result, created_at,"
            " updated_at) FROM STDIN",
            buffer,
        )


def predictions_write(*, project: Project, version: str, rows: list[tuple]) -> None:
    """Write (task id, score, result) predictions and move the counters, in the
    caller's transaction. A row may carry a fourth item, its own model version, which
    then replaces ``version`` for that prediction."""
    if not rows:
        return
    full = [
        (row[0], project.pk, row[3] if len(row) > 3 and row[3] else version, row[1], row[2])
        for row in rows
    ]
    if connection.vendor == "postgresql":
        _copy_predictions(full)
    else:
        now = timezone.now()
        Prediction.objects.bulk_create(
            [
                Prediction(
                    task_id=t,
                    project_id=p,
                    model_version=v,
                    score=s,
                    result=r,
                    created_at=now,
                    updated_at=now,
                )
                for t, p, v, s, r in full
            ],
            batch_size=1000,
        )
    tasks_predictions_added(project_id=project.pk, task_ids=[row[0] for row in rows])


def _predictions_undo(*, job: PredictionJob, versions: set[str] = frozenset()) -> int:
    """Delete what a failed job wrote (under its version and ``versions``, those a remote
    backend named), with its counters."""
    written = Prediction.objects.filter(
        project_id=job.project_id,
        model_version__in={job.model_version, *versions},
        created_at__gte=job.started_at,
    )
    with transaction.atomic():
        task_ids = list(written.values_list("task_id", flat=True))
        if not task_ids:
            return 0
        written.delete()
        tasks_predictions_added(project_id=job.project_id, task_ids=task_ids, delta=-1)
    return len(task_ids)


def _todo(job: PredictionJob):
    done = Prediction.objects.filter(task=OuterRef("pk"), model_version=job.model_version)
    tasks = Task.objects.filter(project_id=job.project_id).filter(~Exists(done))
    if job.task_ids is not None:
        tasks = tasks.filter(pk__in=job.task_ids)
    return tasks


def prediction_job_body(job: PredictionJob) -> None:
    """Predict the tasks still to do; on any failure the predictions this run wrote are
    removed again and the backend shows the error."""
    total = _todo(job).count()
    jobs.job_progress(job, 0.0, total=total)
    versions: set[str] = set()
    try:
        _predict_all(job, total, versions)
    except Exception as exc:
        if isinstance(exc, remote.BackendError):
            message = str(exc)
        else:
            logger.exception("prediction job %s failed", job.pk)
            message = f"Predicting failed on the worker ({type(exc).__name__}: {exc})"
        undone = _predictions_undo(job=job, versions=versions)
        MLBackend.objects.filter(pk=job.backend_id).update(
            state=MLBackend.State.ERROR, error_message=message[:2000]
        )
        raise jobs.JobFailed(
            message[:2000] + (f" ({undone} predictions removed)" if undone else "")
        ) from None


def _predict_all(job: PredictionJob, total: int, versions: set[str]) -> None:
    """Predict every task still to do, a batch at a time. ``versions`` collects the
    model versions a remote backend named. When the first predictions written name one
    version other than the job's, the job takes that name (so the job and its predictions share one
    name, and a re-run after a killed worker finds the tasks already done)."""
    project, backend = job.project, job.backend
    parsed = ParsedConfig.from_dict(project.parsed_config)
    predictor = Predictor(backend, project)
    batch = settings.LABELHUB_ML_BATCH_SIZE
    ranker = Ranker(measure=project.al_uncertainty)
    previous = _previous_version(job) if predictor.model is not None else ""
    lane_share = project.al_epsilon
    scored = False  # the model gave class probabilities (a built-in classifier)
    processed = written = dropped = 0
    errors: list[dict] = []
    last = 0
    # Plain rows, not model instances (a quarter of the job's time at 50k tasks went to
    # building instances); a remote backend loads the instances it sends.
    todo = _todo(job).order_by("id").values_list("id", "data", "is_labeled")
    # A model gives few distinct results (a choice, a label set): each is checked
    # against the config once per job, not once per task.
    checked: dict[bytes, str | None] = {}
    while True:
        batch_rows = list(todo.filter(pk__gt=last)[:batch])
        if not batch_rows:
            break
        last = batch_rows[-1][0]
        results, scores, proba, features, named = predictor(
            [(t, data) for t, data, _ in batch_rows]
        )
        named = named or [None] * len(batch_rows)
        rows = []
        for (task_id, _data, _labeled), result, score, version in zip(
            batch_rows, results, scores, named, strict=True
        ):
            if result is None:
                dropped += 1
                if len(errors) < MAX_ERRORS:
                    errors.append({"task": task_id, "message": "the backend gave no prediction"})
                continue
            key = orjson.dumps(result, option=orjson.OPT_SORT_KEYS)
            if key not in checked:
                problems = validate_result(parsed, result)
                checked[key] = format_result_error(problems[0]) if problems else None
            if checked[key] is not None:
                dropped += 1
                if len(errors) < MAX_ERRORS:
                    errors.append({"task": task_id, "message": checked[key]})
                continue
            rows.append((task_id, score, result, version))
        if not versions:
            first = {version for *_, version in rows}
            if len(first) == 1 and None not in first and first != {job.model_version}:
                job.model_version = first.pop()
                PredictionJob.objects.filter(pk=job.pk).update(model_version=job.model_version)
        versions.update(version or job.model_version for *_, version in rows)
        with transaction.atomic():
            predictions_write(project=project, version=job.model_version, rows=rows)
        written += len(rows)
        processed += len(batch_rows)
        if proba is not None:
            scored = True
            # Open tasks outside the random lane (ml.sampling): the lane is only ever
            # picked at random, so its labeled tasks stay an honest sample.
            ranked = np.array(
                [not labeled and not in_random_lane(t, lane_share) for t, _d, labeled in batch_rows]
            )
            ids = np.array([task_id for task_id, _d, _l in batch_rows])[ranked]
            ranker.add(ids, proba[ranked], None if features is None else features[ranked])
            if previous and ranker.strategy.stable > 0 and len(ids):
                ranker.agree(_kept_prediction(project, previous, ids, batch_rows, results))
        jobs.job_progress(
            job,
            0.95 * processed / max(total, 1),
            processed=processed,
            written=written,
            dropped=dropped,
            dropped_errors=errors,
        )
    if job.task_ids is None and scored:
        ids, priority = ranker.priorities()
        al_priorities_write(project=project, task_ids=ids, priority=priority)


def _previous_version(job: PredictionJob) -> str:
    """The name of the version trained before the job's (its predictions tell whether
    the model has settled: ``ml.strategy.Strategy.stable``), or ""."""
    current = job.backend.current_job
    if current is None or current.model_version is None:
        return ""
    before = (
        TrainingJob.objects.filter(
            backend=job.backend,
            status=TrainingJob.Status.COMPLETED,
            model_version__lt=current.model_version,
        )
        .select_related("backend")
        .order_by("-model_version")
        .first()
    )
    return before.version_name if before else ""


def _kept_prediction(project, previous: str, ids, batch_rows, results) -> list[bool]:
    """For the ranked tasks ``ids`` of a batch that the previous version predicted too:
    whether the new prediction is the same (one query per batch)."""
    old = dict(
        Prediction.objects.filter(
            project=project, task_id__in=[int(i) for i in ids], model_version=previous
        ).values_list("task_id", "result")
    )
    new = {task_id: result for (task_id, _d, _l), result in zip(batch_rows, results, strict=True)}
    return [
        orjson.dumps(old[i], option=orjson.OPT_SORT_KEYS)
        == orjson.dumps(new[i], option=orjson.OPT_SORT_KEYS)
        for i in (int(i) for i in ids)
        if i in old
    ]


def al_priorities_write(*, project: Project, task_ids: np.ndarray, priority: np.ndarray) -> None:
    """Write ``Task.al_priority`` (lowest is picked first, ``ml.strategy``) for the
    project's open tasks, clearing the rest: tasks the model did not score (new since,
    or in the random lane) keep None, and the sampler serves them at random."""
    with transaction.atomic():
        Task.objects.filter(project=project, al_priority__isnull=False).update(al_priority=None)
        if connection.vendor == "postgresql":
            buffer = io.StringIO(
                "".join(
                    f"{int(t)}\t{float(p)!r}\n" for t, p in zip(task_ids, priority, strict=True)
                )
            )
            with connection.cursor() as cursor:
                cursor.execute("DROP TABLE IF EXISTS ml_al")
                cursor.execute(
                    "CREATE TEMP TABLE ml_al (id bigint, p double precision) ON COMMIT DROP"
                )
                cursor.cursor.copy_expert("COPY ml_al (id, p) FROM STDIN", buffer)
                cursor.execute(
                    f"UPDATE {Task._meta.db_table} t SET al_priority = ml_al.p FROM ml_al "
                    "WHERE t.id = ml_al.id AND t.project_id = %s",
                    [project.pk],
                )
        else:
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {Task._meta.db_table} SET al_priority = %s WHERE id = %s",
                    [(float(p), int(t)) for t, p in zip(task_ids, priority, strict=True)],
                )
