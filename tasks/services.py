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
        task_data_keys_add(project_id=task.project_id, keys=data)
    if meta is not None:
        task.meta = meta
    task.updated_at = timezone.now()
    task.save(update_fields=["data", "meta", "updated_at"])
    return task


# A project whose tasks carry hundreds of distinct keys (one per record, say) would
# otherwise grow a column list nobody can use; beyond this the rest are left out.
MAX_DATA_KEYS = 200
DATA_KEYS_SAMPLE = 1000


def task_data_keys_add(*, project_id: int, keys) -> list[str]:
    """Add the task data ``keys`` to the project's column list; call in the writer's
    transaction. Reads first without a lock (the usual case adds nothing), then, when
    something is new, locks the project row so concurrent imports merge, never overwrite."""
    wanted = [key for key in dict.fromkeys(keys) if isinstance(key, str)]
    current = Project.objects.filter(pk=project_id).values_list("task_data_keys", flat=True).first()
    if current is None or not set(wanted) - set(current):
        return list(current or [])
    with transaction.atomic():
        current = (
            Project.objects.select_for_update()
            .filter(pk=project_id)
            .values_list("task_data_keys", flat=True)
            .first()
        ) or []
        merged = list(current)
        for key in wanted:
            if len(merged) >= MAX_DATA_KEYS:
                break
            if key not in merged:
                merged.append(key)
        if merged != current:
            Project.objects.filter(pk=project_id).update(task_data_keys=merged)
    return merged


def task_data_keys_sample(*, project_id: int, size: int = DATA_KEYS_SAMPLE) -> list[str]:
    """The data keys of a sample of the project's tasks: the first and the last ``size``
    by id (two index walks, whatever the project's size). For projects whose tasks came
    before the key list was kept."""
    keys: dict[str, None] = {}
    tasks = Task.objects.filter(project_id=project_id)
    for order in ("id", "-id"):
        for data in tasks.order_by(order).values_list("data", flat=True)[:size]:
            if isinstance(data, dict):
                keys.update(dict.fromkeys(data))
    return list(keys)
