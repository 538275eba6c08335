"""The import service: one streaming pass that validates and writes, all or nothing.

``records_import`` reads records one at a time, validates each against the labeling
config, and hands batches to a bulk writer (COPY on PostgreSQL, bulk_create elsewhere),
inside the caller's transaction. After the first bad record nothing more is written, but
validation goes on so that the 400 can count every error and list the first 100; the
transaction then rolls back, so nothing was written at all.
"""

import gc
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import orjson
from django.conf import settings
from django.db import transaction

from annotations.counters import tasks_predictions_added
from annotations.models import Prediction
from importers.bulk import writer_for
from importers.bulk.base import IdRanges
from importers.records import RecordChecker, TaskRow
from importers.sources import (
    ImportContext,
    ImportFile,
    iter_records,
    work_dir,
    work_dir_remove,
)
from labelhub.errors import MAX_ERRORS, ApiError
from projects.label_config import ParsedConfig
from projects.models import Project
from projects.results import format_result_error, validate_result
from tasks.models import Task


@dataclass
class ImportResult:
    task_count: int = 0
    annotation_count: int = 0
    prediction_count: int = 0
    skipped_count: int = 0
    duration: float = 0.0
    ids: IdRanges = field(default_factory=IdRanges)
    # Media files the import stored (keys in the media storage), in order.
    media_keys: list[str] = field(default_factory=list)

    @property
    def task_ids(self) -> list[int]:
        return list(self.ids)

    def as_dict(self, *, with_task_ids: bool = False) -> dict:
        body: dict = {
            "task_count": self.task_count,
            "annotation_count": self.annotation_count,
            "prediction_count": self.prediction_count,
            "duration": round(self.duration, 3),
        }
        if self.skipped_count:
            body["skipped_count"] = self.skipped_count
        if with_task_ids:
            body["task_ids"] = self.task_ids
        return body


def parsed_config(project: Project) -> ParsedConfig:
    return ParsedConfig.from_dict(project.parsed_config)


def _summary(errors: list[dict], count: int) -> str:
    first = errors[0]
    where = f"record {first['record']}" + (f", {first['field']}" if first.get("field") else "")
    if first.get("file"):
        where = (
            f"{first['file']}"
            + (f", line {first['line']}" if first.get("line") else "")
            + f", {where}"
        )
    more = f" (and {count - 1} more errors)" if count > 1 else ""
    return f"Import failed, nothing was imported: {where}: {first['message']}{more}"


def records_import(
    *,
    project: Project,
    records: Iterable,
    user,
    ctx: ImportContext | None = None,
    progress: Callable[[int], None] | None = None,
    allow_empty: bool = False,
    file_upload_id: int | None = None,
) -> ImportResult:
    """Validate and insert ``records`` in one pass; call inside ``transaction.atomic``.

    ``progress(records_read)`` is called after each batch. Raises ApiError (400) naming
    the records, fields and reasons, after which the caller's transaction must roll back.
    The tasks get ``file_upload_id`` (the upload they were made of).
    """
    started = time.monotonic()
    checker = RecordChecker(parsed_config(project) if ctx is None else ctx.parsed)
    writer = writer_for(project=project, user=user, file_upload_id=file_upload_id)
    batch_size = settings.LABELHUB_IMPORT_BATCH_SIZE
    pause = settings.LABELHUB_IMPORT_BATCH_PAUSE
    errors: list[dict] = []
    error_count = 0
    batch: list[TaskRow] = []
    first_index = count = 0
    # Parsing makes millions of short-lived, acyclic dicts, which reference counting frees;
    # the cyclic collector would only rescan them (1M tasks: normalizing took 14.5 s with
    # it and 5.2 s without, measured on this machine).
    collecting = gc.isenabled()
    gc.disable()
    try:
        for index, record in enumerate(records):
            count = index + 1
            row, record_errors = checker.normalize(index, record)
            if record_errors:
                error_count += len(record_errors)
                if len(errors) < MAX_ERRORS:
                    where = ctx.where() if ctx is not None else {}
                    errors.extend({**error, **where} for error in record_errors)
                continue
            if error_count:
                continue
            assert row is not None  # no errors, so normalize gave a row
            batch.append(row)
            if len(batch) >= batch_size:
                writer.write(batch, first_index=first_index)
                first_index, batch = index + 1, []
                if progress is not None:
                    progress(count)
                if pause:
                    time.sleep(pause)
        if errors:
            raise ApiError(_summary(errors, error_count), errors[:MAX_ERRORS])
        if batch:
            writer.write(batch, first_index=first_index)
        if writer.stats.tasks == 0 and not allow_empty:
            raise ApiError("Import failed: no tasks found in the input.")
        writer.finish()
        if writer.stats.predictions and not project.model_version:
            _model_version_take_last(project)
        if progress is not None:
            progress(count)
    finally:
        writer.close()
        if collecting:
            gc.enable()
    stats = writer.stats
    return ImportResult(
        task_count=stats.tasks,
        annotation_count=stats.annotations,
        prediction_count=stats.predictions,
        skipped_count=ctx.skipped if ctx is not None else 0,
        duration=time.monotonic() - started,
        ids=writer.ids,
    )


def _model_version_take_last(project: Project) -> None:
    """A project with no chosen model version takes its last imported prediction's, as
    Label Studio's import does (the Label Stream then shows that version's
    predictions). One indexed read and one conditional UPDATE."""
    last = (
        Prediction.objects.filter(project=project)
        .order_by("-id")
        .values_list("model_version", flat=True)
        .first()
    )
    if last:
        Project.objects.filter(pk=project.pk, model_version="").update(model_version=last)
        project.model_version = last


def tasks_import(
    *, project: Project, records, user, file_upload_id: int | None = None
) -> ImportResult:
    """Validate all records, then insert them all, or raise a 400 and write nothing."""
    with transaction.atomic():
        return records_import(
            project=project, records=records, user=user, file_upload_id=file_upload_id
        )


def preannotated(records, fields: list[str], parsed: ParsedConfig):
    """Label Studio's ``preannotated_from_fields``: each named field of a flat task
    becomes a prediction (``model_version`` "preannotated", score 1) of the control of
    that name, a dict value used as the region's ``value`` as it is, a plain value put
    under the control type's key (``{"choices": [v]}``, ``{"rating": v}``). The field
    stays in the data, as in Label Studio. A record without the field is a 400 naming
    it, and the predictions are checked against the config like any imported one."""
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            yield record  # a media file: nothing to take predictions from
            continue
        data = record["data"] if isinstance(record.get("data"), dict) else record
        predictions = []
        for name in fields:
            if name not in data:
                raise ApiError(
                    f"Import failed: record {index} has no field {name!r} named in "
                    "preannotated_from_fields",
                    [{"record": index, "field": name, "message": "preannotated field not found"}],
                )
            value = data[name]
            if value is None:
                continue
            control = parsed.controls.get(name) or {}
            kind = str(control.get("type") or "choices").lower()
            to_name = (control.get("to_name") or ["text"])[0]
            if not isinstance(value, dict):
                key = "text" if kind == "textarea" else kind
                wrap = kind in ("rating", "number", "datetime") or isinstance(value, list)
                value = {key: value if wrap else [value]}
            predictions.append(
                {
                    "result": [
                        {"from_name": name, "to_name": to_name, "type": kind, "value": value}
                    ],
                    "score": 1.0,
                    "model_version": "preannotated",
                }
            )
        yield {"data": data, "predictions": predictions}


def files_import(
    *,
    project: Project,
    files: list[ImportFile],
    user,
    options: dict | None = None,
    folder=None,
    progress: Callable[[ImportContext, int], None] | None = None,
    file_upload_id: int | None = None,
    allow_empty: bool = False,
) -> ImportResult:
    """Import files (task files, archives, media) in one transaction. The tasks get
    ``file_upload_id``; ``allow_empty``: no tasks is no error (the caller checks)."""
    options = options or {}
    own_folder = folder is None
    ctx = ImportContext(
        project=project,
        parsed=parsed_config(project),
        work_dir=folder or work_dir(),
        skip_duplicate_urls=bool(options.get("skip_duplicate_urls")),
    )
    failed = True
    try:
        with transaction.atomic():
            records = iter_records(files, ctx)
            if options.get("preannotated_from_fields"):
                records = preannotated(records, options["preannotated_from_fields"], ctx.parsed)
            result = records_import(
                project=project,
                records=records,
                user=user,
                ctx=ctx,
                progress=(lambda n: progress(ctx, n)) if progress else None,
                allow_empty=True,
                file_upload_id=file_upload_id,
            )
            if result.task_count == 0 and not ctx.skipped and not allow_empty:
                raise ApiError("Import failed: no tasks found in the input.")
            result.media_keys = list(ctx.media.written) if ctx.media is not None else []
        failed = False
    finally:
        ctx.cleanup(failed=failed)
        if own_folder:
            work_dir_remove(ctx.work_dir)
    return result


PREDICTION_BATCH = 1000


def predictions_import(*, project: Project, items) -> int:
    """Label Studio's ``import/predictions``: add predictions ``[{"task", "result",
    "score"?, "model_version"?}]`` to existing tasks of ``project``, all or nothing.

    Every item is checked first (a task of this project, a result the labeling config
    accepts, a numeric score), and the 400 lists each bad item with its index; nothing
    is written then. The checks read the task ids a batch at a time, results are
    validated once per distinct result, and the writes are one ``bulk_create`` per
    batch with the counters, scores and result index moved once per task set. Returns
    how many predictions were created.
    """
    if not isinstance(items, list):
        raise ApiError(
            "Expected a list of predictions", [{"field": "predictions", "message": "not a list"}]
        )
    parsed = parsed_config(project)
    errors: list[dict] = []
    error_count = 0
    checked: dict[str, str | None] = {}
    rows: list[Prediction] = []
    for start in range(0, len(items), PREDICTION_BATCH):
        batch = items[start : start + PREDICTION_BATCH]
        wanted: set[int] = {
            item["task"]
            for item in batch
            if isinstance(item, dict) and type(item.get("task")) is int and 0 < item["task"] < 2**63
        }
        known = set(
            Task.objects.filter(project=project, pk__in=wanted).values_list("pk", flat=True)
        )
        for index, item in enumerate(batch, start=start):
            problems = _prediction_problems(item, known, parsed, checked)
            if problems:
                error_count += len(problems)
                errors.extend({"record": index, **p} for p in problems[: MAX_ERRORS - len(errors)])
                continue
            if error_count:
                continue
            rows.append(
                Prediction(
                    task_id=item["task"],
                    project_id=project.pk,
                    result=item["result"],
                    score=None if item.get("score") is None else float(item["score"]),
                    model_version=str(item.get("model_version", "undefined"))[:255],
                )
            )
    if errors:
        first = errors[0]
        more = f" (and {error_count - 1} more errors)" if error_count > 1 else ""
        raise ApiError(
            f"Import failed, nothing was imported: prediction {first['record']}, "
            f"{first['field']}: {first['message']}{more}",
            errors,
        )
    with transaction.atomic():
        Prediction.objects.bulk_create(rows, batch_size=PREDICTION_BATCH)
        remaining = Counter(row.task_id for row in rows)
        while remaining:  # one round per prediction a task gained, usually one
            tasks_predictions_added(project_id=project.pk, task_ids=list(remaining))
            remaining = Counter({pk: n - 1 for pk, n in remaining.items() if n > 1})
    return len(rows)


def _prediction_problems(item, known: set[int], parsed: ParsedConfig, checked: dict) -> list:
    if not isinstance(item, dict):
        return [{"field": "prediction", "message": "must be a JSON object"}]
    problems = []
    task = item.get("task")
    if type(task) is not int or task not in known:
        problems.append(
            {"field": "task", "message": f"task {task!r} is not a task of this project"}
        )
    score = item.get("score")
    if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)):
        problems.append({"field": "score", "message": "score must be a number"})
    version = item.get("model_version")
    if version is not None and not isinstance(version, str | int | float):
        problems.append({"field": "model_version", "message": "must be a string"})
    result = item.get("result")
    try:
        key = orjson.dumps(result, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:  # e.g. an integer past 64 bits: checked on its own
        key = None
    if key is None or key not in checked:
        found = validate_result(parsed, result)
        message = format_result_error(found[0]) if found else None
        if key is not None:
            checked[key] = message
    else:
        message = checked[key]
    if message is not None:
        problems.append({"field": "result", "message": message})
    return problems
