"""Reads for the ML app: which built-in models fit a project, training examples, jobs,
and the learning curve."""

from collections.abc import Iterator

from django.db.models import Min, Q, QuerySet

from annotations.models import Annotation, Prediction
from labelhub.prepared import Prepared
from ml.models import MLBackend, PredictionJob, TrainingJob
from ml.sampling import random_lane
from projects.label_config import ParsedConfig
from projects.models import Project

# "Has the project an ML backend?", asked after every annotation write (ml.events):
# compiled once (labelhub.prepared), the SQL of ``.exists()``.
_PROJECT_BACKENDS = Prepared(
    lambda m: MLBackend.objects.filter(project_id=m.int("project")).values_list("pk", flat=True)[:1]
)


def backends_exist(*, project_id: int) -> bool:
    return bool(_PROJECT_BACKENDS.run(project=project_id))


def backend_knows_version(*, project: Project, version: str) -> bool:
    """An ML backend of the project goes by ``version`` (its model version or title), or
    a training run of a built-in model does (``<model>-v<n>``, the name its predictions
    carry)."""
    backends = MLBackend.objects.filter(project=project)
    if backends.filter(Q(model_version=version) | Q(title=version)).exists():
        return True
    model, _, number = version.rpartition("-v")
    return (
        number.isdigit()
        and TrainingJob.objects.filter(
            backend__project=project, backend__model=model, model_version=int(number)
        ).exists()
    )


def models_for_project(*, project: Project) -> list[dict]:
    """Every built-in model with ``fits`` and ``why`` for this project's config."""
    from ml.builtin import MODELS  # NumPy and Pillow: not needed at start

    parsed = ParsedConfig.from_dict(project.parsed_config)
    out = []
    for name, model in MODELS.items():
        fits, why = model.fit_check(parsed)
        out.append({"model": name, "title": model.title, "fits": fits, "why": why})
    return out


def training_tasks_agreeing(*, project: Project, annotations: QuerySet) -> QuerySet:
    """The annotations whose task may enter training (the one place training asks).

    A task with overlap enters only when its annotators' agreement (``Task.agreement``,
    kept by annotations.quality) reaches the project's ``agreement_threshold``; a task
    with one annotation has no agreement (NULL) and enters. Benchmark QA tasks never
    enter: they score annotators and are not production data.
    """
    return annotations.filter(task__is_benchmark=False).filter(
        Q(task__agreement__isnull=True) | Q(task__agreement__gte=project.agreement_threshold)
    )


def training_annotations(*, project: Project) -> QuerySet:
    """Non-cancelled annotations of tasks that may enter training."""
    annotations = Annotation.objects.filter(project=project, was_cancelled=False)
    return training_tasks_agreeing(project=project, annotations=annotations)


def training_examples(*, project: Project) -> Iterator[tuple[int, dict, list]]:
    """(task id, task data, result) per task: its ground-truth annotation if it has
    one, else its newest. Streams in task order."""
    rows = (
        training_annotations(project=project)
        .order_by("task_id", "-ground_truth", "-updated_at", "-id")
        .values_list("task_id", "task__data", "result")
    )
    last = None
    for task_id, data, result in rows.iterator(chunk_size=2000):
        if task_id == last:
            continue
        last = task_id
        yield task_id, data, result


def labeling_order(*, project: Project) -> dict[int, int]:
    """Task id -> id of its first usable annotation: the order the tasks were labeled in
    (``ml.al_check`` replays it)."""
    rows = (
        training_annotations(project=project)
        .values("task_id")
        .annotate(first=Min("id"))
        .values_list("task_id", "first")
    )
    return dict(rows)


def training_annotation_count(*, project: Project) -> int:
    """Tasks with at least one usable annotation (what the training minimum counts)."""
    return training_annotations(project=project).values("task_id").distinct().count()


def backends_for_project(*, project: Project) -> QuerySet:
    return MLBackend.objects.filter(project=project).order_by("id")


def jobs_for_backend(*, backend: MLBackend) -> QuerySet:
    return TrainingJob.objects.filter(backend=backend).select_related("backend").order_by("-id")


def prediction_jobs_for_backend(*, backend: MLBackend) -> QuerySet:
    return PredictionJob.objects.filter(backend=backend).order_by("-id")


MIN_HELD_OUT = 30


def metric_summary(job: TrainingJob) -> dict:
    """The version's headline metric with the number of held-out tasks it comes from,
    and a warning when that number is too small to trust (under ``MIN_HELD_OUT``) or the
    figure is on the training set itself (too few labels to hold any out)."""
    name = "f1" if job.backend.model == "ner" else "accuracy"
    metrics = job.metrics or {}
    value = metrics.get(name)
    held_out = metrics.get("held_out")
    warning = None
    if value is not None and metrics.get("on_training_set"):
        warning = "measured on the training labels themselves (too few to hold any out)"
    elif value is not None and isinstance(held_out, int) and held_out < MIN_HELD_OUT:
        warning = f"from only {held_out} held-out tasks (fewer than {MIN_HELD_OUT}): not reliable"
    elif value is not None and held_out is None and job.backend.kind == MLBackend.Kind.BUILTIN:
        warning = "held-out size unknown"
    return {"metric": name, "value": value, "held_out": held_out, "warning": warning}


def learning_curve(*, project: Project) -> list[dict]:
    """Completed training runs of the project, oldest first: labels used and the held-out
    metric (with its held-out size and warning, ``metric_summary``), per backend and
    version."""
    jobs = (
        TrainingJob.objects.filter(project=project, status=TrainingJob.Status.COMPLETED)
        .select_related("backend")
        .order_by("id")
    )
    out = []
    for job in jobs:
        summary = metric_summary(job)
        out.append(
            {
                "backend": job.backend_id,
                "model_version": job.version_name,
                "number": job.model_version,
                "annotations_used": job.annotations_used,
                "metric": summary["metric"],
                "value": summary["value"],
                "held_out": summary["held_out"],
                "warning": summary["warning"],
                "finished_at": job.finished_at,
            }
        )
    return out


def al_report(*, project: Project) -> dict:
    """Whether active learning is beating random picks in this project, for the ML page
    (``ml.al_check``): the newest comparison of actively and randomly picked labels,
    its verdict, and each recent model version scored on the random lane's tasks labeled
    after it was trained (``lane_scores``)."""
    job = (
        TrainingJob.objects.filter(
            project=project, status=TrainingJob.Status.COMPLETED, metrics__has_key="al_check"
        )
        .order_by("-id")
        .first()
    )
    from ml.al_check import verdict  # NumPy: not needed at start

    check = job.metrics["al_check"] if job else None
    return {
        "sampling": project.sampling,
        "epsilon": project.al_epsilon,
        "check": check,
        "checked_version": job.version_name if job else None,
        "verdict": verdict(check),
        "versions": lane_scores(project=project),
    }


def lane_scores(*, project: Project, limit: int = 30) -> list[dict]:
    """The newest ``limit`` versions of the project's built-in classifiers, oldest first,
    each scored on the random-lane tasks first labeled after it was trained: tasks it
    never trained on, picked at random, so an honest accuracy (``n`` of them)."""
    from ml.builtin import MODELS, NotFit  # NumPy and Pillow: not needed at start

    if project.al_epsilon <= 0:
        return []
    jobs = list(
        TrainingJob.objects.filter(
            project=project,
            status=TrainingJob.Status.COMPLETED,
            backend__kind=MLBackend.Kind.BUILTIN,
            finished_at__isnull=False,
        )
        .exclude(backend__model="ner")
        .select_related("backend")
        .order_by("-id")[:limit]
    )
    if not jobs:
        return []
    since = min(job.finished_at for job in jobs if job.finished_at is not None)
    labeled: dict[int, tuple] = {}
    rows = (
        random_lane(training_annotations(project=project), project.al_epsilon, field="task_id")
        .filter(created_at__gt=since)
        .order_by("task_id", "id")
        .values_list("task_id", "created_at", "result")
    )
    for task_id, created_at, result in rows.iterator(chunk_size=2000):
        labeled.setdefault(task_id, (created_at, result))
    names = {job.version_name: job for job in jobs}
    predicted: dict[tuple[int, str], list] = {}
    if labeled:
        for task_id, version, result in Prediction.objects.filter(
            project=project, task_id__in=list(labeled), model_version__in=list(names)
        ).values_list("task_id", "model_version", "result"):
            predicted[(task_id, version)] = result
    parsed = ParsedConfig.from_dict(project.parsed_config)
    out = []
    for job in reversed(jobs):
        model_class = MODELS.get(job.backend.model)
        if model_class is None:
            continue
        try:
            model = model_class(model_class.spec_for(parsed))
        except NotFit:
            continue
        right = total = 0
        for task_id, (created_at, result) in labeled.items():
            guess = predicted.get((task_id, job.version_name))
            if job.finished_at is None or created_at <= job.finished_at or guess is None:
                continue
            truth = model.target(result)
            if truth is None:
                continue
            total += 1
            right += model.target(guess) == truth
        out.append(
            {
                "backend": job.backend_id,
                "model_version": job.version_name,
                "annotations_used": job.annotations_used,
                "lane_tasks": total,
                "accuracy": round(right / total, 4) if total else None,
            }
        )
    return out
