"""The cheap re-run: which of a project's tasks to read again from Label Studio.

A copy records, per project, a mark (kind ``tasks_seen`` in the mapping table): Label
Studio's own clock (the ``Date`` of its answer) when the copy began to read the
project's tasks, so that whatever changed later is newer than the mark (without a
``Date``: the newest task ``updated_at`` read). Label Studio moves a task's
``updated_at`` whenever one of its annotations or predictions is created, changed or
deleted (``Annotation.update_task`` / ``Prediction.update_task``), and a new task is
newer than the mark. So a later run asks the Data Manager's task list for the tasks
updated since the mark, adds the tasks that hold drafts (a draft does not touch its
task), and exports only those (``/api/projects/{id}/export?ids[]=...``). Nothing
changed: no export at all.

It falls back to the full export when there is no record (first run, or the run
that was interrupted), when Label Studio's list cannot be filtered so, when Label
Studio holds tasks the mapping has never seen although none is newer than the mark,
or when more than half the tasks changed (one export is then cheaper than many).

Measured (bench/lsmigrate_bench.py, 10k tasks with an annotation and a prediction
each, LabelHub on PostgreSQL, a loaded 2-core machine): a re-run that copies nothing
took 89.7 s reading everything again and takes 1.9 s this way; after one more
annotation, 3.0 s (bench/README.md, "Migration from Label Studio").
"""

import datetime
import json

from django.utils.dateparse import parse_datetime

from importers.lsmigrate.client import MigrationError

SEEN = "tasks_seen"  # mapping-table kind: ls_id = Label Studio project id
DM_PAGE = 1000  # ids per Data Manager list page
EXPORT_CHUNK = 300  # task ids per export request (kept well under URL length limits)
MAX_SHARE = 0.5  # above this share of changed tasks, one full export is cheaper
MARGIN = datetime.timedelta(microseconds=1)  # a change at the very instant of the mark


def _parsed(value) -> datetime.datetime | None:
    parsed = parse_datetime(value) if isinstance(value, str) and value else None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed


def newest(a: str, b: str) -> str:
    """The later of two Label Studio timestamps (either may be blank)."""
    pa, pb = _parsed(a), _parsed(b)
    if pa is None:
        return b or ""
    if pb is None:
        return a or ""
    return a if pa >= pb else b


def _dm_ids(client, pid: int, item: dict, limit: int, times: list[str]) -> list[int] | None:
    """Ids of the project's tasks that match one Data Manager filter item, or None when
    there are more than ``limit``; ``times`` gets Label Studio's clock of each answer."""
    query = json.dumps({"filters": {"conjunction": "and", "items": [item]}, "ordering": []})
    ids: list[int] = []
    page = 1
    while True:
        body = client.get("/api/tasks/", project=pid, page=page, page_size=DM_PAGE, query=query)
        times.append(clock(client))
        total = body.get("total") or 0
        if total > limit:
            return None
        ids.extend(task["id"] for task in body.get("tasks") or [])
        if len(ids) >= total or not body.get("tasks"):
            return ids
        page += 1


def clock(client) -> str:
    """Label Studio's time of its last answer (``Date``, whole seconds), or ''."""
    when = client.server_time
    return when.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z") if when else ""


def changed_task_ids(ctx, ls_project: dict, *, mapped_tasks: int) -> tuple[list[int] | None, str]:
    """Label Studio ids of the tasks to read again (None: read all by a full export), and
    Label Studio's clock when the first list answered (the next mark)."""
    seen = ctx.known(SEEN, ls_project["id"])
    mark = _parsed(seen[1]) if seen else None
    total = ls_project.get("task_number")
    counters = (
        "total_annotations_number",
        "skipped_annotations_number",
        "total_predictions_number",
    )
    if not isinstance(total, int) or mark is None:
        return None, ""
    if not all(isinstance(ls_project.get(name), int) for name in counters):
        return None, ""  # the counts the closing check compares
    limit = max(1, int(total * MAX_SHARE))
    times: list[str] = []
    since = (mark - MARGIN).astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    try:
        updated = _dm_ids(
            ctx.client,
            ls_project["id"],
            {
                "filter": "filter:tasks:updated_at",
                "operator": "greater",
                "type": "Datetime",
                "value": since,
            },
            limit,
            times,
        )
        if updated is None:
            return None, ""
        drafted = _dm_ids(
            ctx.client,
            ls_project["id"],
            {
                "filter": "filter:tasks:draft_exists",
                "operator": "equal",
                "type": "Boolean",
                "value": True,
            },
            limit,
            times,
        )
    except MigrationError:
        return None, ""  # a Label Studio whose list does not filter so: read it all
    if drafted is None:
        return None, ""
    ids = sorted(set(updated) | set(drafted))
    fresh = len(set(updated) - ctx.known_ids("task", updated))
    if total > mapped_tasks + fresh or len(ids) > limit:
        return None, ""  # tasks the mapping never saw and the list did not show: read all
    return ids, times[0]


def chunks(ids: list[int]):
    for start in range(0, len(ids), EXPORT_CHUNK):
        yield ids[start : start + EXPORT_CHUNK]
