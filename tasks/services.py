"""Writes for single tasks. Bulk imports go through importers.services."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from labelhub.errors import ApiError
from projects.label_config import ParsedConfig
from projects.models import Project
from projects.services import project_counters_refresh
from tasks.models import Task


def task_data_check(*, project: Project, data, meta=None) -> None:
    errors = []
    if not isinstance(data, dict):
        errors.append({"field": "data", "message": "data must be a JSON object"})
    else:
        for key in ParsedConfig.from_dict(project.parsed_config).data_keys:
            if key not in data:
                errors.append(
                    {
                        "field": f"data.{key}",
                        "message": f'the labeling config needs data key "{key}"',
                    }
                )
    if meta is not None and not isinstance(meta, dict):
        errors.append({"field": "meta", "message": "meta must be a JSON object"})
    if errors:
        raise ApiError(f"Invalid task: {errors[0]['field']}: {errors[0]['message']}", errors)


@transaction.atomic
def task_create(*, project: Project, data: dict, meta: dict | None = None) -> Task:
    task_data_check(project=project, data=data, meta=meta)
    task = Task.objects.create(project=project, data=data, meta=meta or {})
    Project.objects.filter(pk=project.pk).update(task_number=F("task_number") + 1)
    return task


@transaction.atomic
def task_update(*, task: Task, data: dict | None = None, meta: dict | None = None) -> Task:
    task_data_check(project=task.project, data=task.data if data is None else data, meta=meta)
    if data is not None:
        task.data = data
    if meta is not None:
        task.meta = meta
    task.updated_at = timezone.now()
    task.save(update_fields=["data", "meta", "updated_at"])
    return task


@transaction.atomic
def tasks_delete(*, project: Project, task_ids) -> int:
    """Delete tasks (with their annotations and predictions) and recount the project."""
    deleted = Task.objects.filter(project=project, pk__in=task_ids).delete()[1].get("tasks.Task", 0)
    project_counters_refresh(project_id=project.pk)
    return deleted
