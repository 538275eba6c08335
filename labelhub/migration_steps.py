"""The plug-in point of the Label Studio migration (``importers.lsmigrate``).

The migration copies users, projects, tasks, annotations and predictions itself. Every
other kind of object (Data Manager tabs, ML backends, drafts, labels, storages,
webhooks) is a *step*: a plain function that the app owning the model registers here,
in its ``AppConfig.ready`` (or at import of its module), so that ``importers`` never
imports ``ml``, ``webhooks`` or ``io_storages`` and an app that lands later plugs in
without touching the migration.

A step is called once per migrated project, inside that project's transaction, as
``run(ctx, ls_project, project)`` and returns how many objects it copied. ``ctx`` is the
migration's context (duck-typed so that no app imports ``importers``):

- ``ctx.get(path, **params)``: GET a Label Studio API path, parsed JSON;
- ``ctx.known(kind, ls_id)``: ``(labelhub_id, ls_updated)`` of an object copied before,
  or None; ``ctx.remember(kind, ls_id, lh_id, ls_updated, ls_project=...)`` records a copy.
  A kind's Label Studio ids are per project unless the step lists the kind in
  ``shared_kinds`` (labels: one label serves several projects);
- ``ctx.user(ls_user_id)``: the LabelHub user for a Label Studio user id (or None);
- ``ctx.task_id(ls_task_id)`` / ``ctx.annotation_id(ls_id)``: LabelHub ids of copied
  tasks and annotations;
- ``ctx.copies(kind)``: every record of ``kind`` for the project, ``{ls_id: (lh_id,
  ls_updated)}``;
- ``ctx.copied_task_ids``: LabelHub ids of the project's tasks this run created;
  ``ctx.read_task_ids``: of the tasks it read from Label Studio (all on a first run,
  the changed ones and those holding drafts on a re-run);
- ``ctx.cache``: a dict that lives for the whole run (a list read once for all projects);
- ``ctx.note(text)``: a line for the admin's to-do list printed at the end
  (for example a storage whose secret key must be entered again);
- ``ctx.dry_run``: True when nothing will be kept (the transaction is rolled back).
"""

from collections.abc import Callable
from dataclasses import dataclass

from labelhub import registrations


@dataclass(frozen=True)
class Step:
    name: str  # also the mapping-table kind, and the counter name in the report
    run: Callable  # run(ctx, ls_project: dict, project) -> int (objects copied)
    order: int = 100  # lower runs first; tasks and annotations are copied before all steps
    # count(project) -> int: how many the project holds, for the closing check (drafts)
    count: Callable | None = None
    # kinds whose Label Studio ids are instance-wide, not per project (labels)
    shared_kinds: tuple[str, ...] = ()


_steps: dict[str, Step] = {}


def register(step: Step) -> None:
    _steps[step.name] = step


def shared_kinds() -> set[str]:
    registrations.load()
    return {kind for step in _steps.values() for kind in step.shared_kinds}


def steps() -> list[Step]:
    registrations.load()
    return sorted(_steps.values(), key=lambda step: (step.order, step.name))
