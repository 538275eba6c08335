"""Checks and edits of a task's own fields. Creating and deleting tasks moves counters, so
those live in ``annotations.services``; bulk imports go through ``importers.services``."""

from django.db import transaction
from django.utils import timezone

from labelhub.errors import ApiError
from projects.label_config import ParsedConfig
from projects.models import Project
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
def task_update(*, task: Task, data: dict | None = None, meta: dict | None = None) -> Task:
    task_data_check(project=task.project, data=task.data if data is None else data, meta=meta)
    if data is not None:
        task.data = data
    if meta is not None:
        task.meta = meta
    task.updated_at = timezone.now()
    task.save(update_fields=["data", "meta", "updated_at"])
    return task
