"""Export writers. JSON is streamed task by task, so memory stays flat however big
the project is: tasks come from the database in chunks of CHUNK_SIZE with their
annotations, reviews and predictions prefetched per chunk."""

from collections.abc import Iterator

import orjson
from django.db.models import Prefetch, Q

from annotations.models import Annotation, Prediction
from labelhub.errors import ApiError
from projects.models import Project
from tasks.models import Task
from tasks.representations import task_dict

CHUNK_SIZE = 500
EXPORT_TYPES = {"JSON": "application/json", "JSON_MIN": "application/json"}


def export_queryset(*, project: Project, task_ids=None, download_all_tasks: bool = False):
    tasks = Task.objects.filter(project=project).order_by("id")
    if task_ids is not None:
        tasks = tasks.filter(pk__in=task_ids)
    if not download_all_tasks:
        tasks = tasks.filter(Q(total_annotations__gt=0) | Q(cancelled_annotations__gt=0))
    return tasks.prefetch_related(
        Prefetch(
            "annotations",
            queryset=Annotation.objects.order_by("id").prefetch_related("reviews"),
        ),
        Prefetch("predictions", queryset=Prediction.objects.order_by("id")),
    )


def _json_min(task: Task) -> dict:
    """One flat row per task: data plus each control's values (Label Studio's JSON_MIN)."""
    row = {"id": task.pk, **task.data}
    annotations = [a for a in task.annotations.all() if not a.was_cancelled]
    if annotations:
        latest = annotations[-1]
        for item in latest.result:
            value = item.get("value") or {}
            kind = item.get("type")
            row.setdefault(item.get("from_name"), []).append(value.get(kind, value))
        row["annotator"] = latest.completed_by_id
        row["lead_time"] = latest.lead_time
    return row


def export_stream(
    *, project: Project, export_type: str = "JSON", task_ids=None, download_all_tasks: bool = False
) -> Iterator[bytes]:
    if export_type not in EXPORT_TYPES:
        raise ApiError(
            f"exportType must be one of {', '.join(EXPORT_TYPES)}",
            [{"field": "exportType", "message": f"unknown export type {export_type!r}"}],
        )
    tasks = export_queryset(
        project=project, task_ids=task_ids, download_all_tasks=download_all_tasks
    )

    def rows() -> Iterator[bytes]:
        yield b"["
        first = True
        for task in tasks.iterator(chunk_size=CHUNK_SIZE):
            if export_type == "JSON_MIN":
                body = _json_min(task)
            else:
                body = task_dict(
                    task, annotations=task.annotations.all(), predictions=task.predictions.all()
                )
            yield (b"" if first else b",\n") + orjson.dumps(body)
            first = False
        yield b"]\n"

    return rows()
