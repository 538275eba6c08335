"""Reads for the ML app: which built-in models fit a project, training examples, jobs,
and the learning curve."""

from collections.abc import Iterator

from django.db.models import Q, QuerySet

from annotations.models import Annotation
from ml.builtin import MODELS
from ml.models import MLBackend, PredictionJob, TrainingJob
from projects.label_config import ParsedConfig
from projects.models import Project


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
