"""The tasks of one project (``TaskCopy``): new ones through the importers' bulk writer,
then their Label Studio ids, timestamps and parent links; new or changed annotations
and predictions of tasks copied before through the ORM."""

import datetime
import hashlib
from collections import Counter, defaultdict
from pathlib import Path

import ijson
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from annotations.counters import tasks_counters_recount
from annotations.models import Annotation, Prediction
from importers.lsmigrate.client import MigrationError
from importers.lsmigrate.delta import newest
from importers.lsmigrate.report import digest
from importers.media import media_key_for, stored_name
from importers.records import RecordChecker
from importers.services import ImportResult, parsed_config, records_import
from labelhub.errors import ApiError
from tasks.models import Task

TASK, ANNOTATION, PREDICTION = "task", "annotation", "prediction"
POST_BATCH = 2000  # tasks per batch of the id-mapping and timestamp pass
UPLOAD_PREFIX = "/data/upload/"


def _stamp(value) -> str:
    return str(value or "")[:64]


def _when(value):
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, datetime.UTC)
    return parsed


class TaskCopy:
    """The tasks of one project: new ones through the bulk writer, then their ids,
    timestamps and parent links; changes to tasks copied before through the ORM."""

    def __init__(self, migration, ls_project, project, report, predictions) -> None:
        self.m = migration
        self.ls_project = ls_project
        self.project = project
        self.report = report
        self.predictions = predictions
        self.where = migration._where(ls_project)
        self.side: list[tuple] = []  # per new task: (ls id, created_at, stamp, anns, preds)
        self.files: dict[str, str] = {}  # Label Studio upload path -> LabelHub URL
        self.new_annotations: list[tuple[int, dict]] = []  # (LabelHub task id, LS annotation)
        self.changed_annotations: list[tuple[int, dict]] = []  # (LabelHub annotation id, ...)
        self.new_predictions: list[tuple[int, dict]] = []
        self.changed_tasks: list[tuple[int, dict, str]] = []
        self.touched: set[int] = set()
        self.ls_counts: Counter = Counter()
        self.read_task_ids: list[int] = []  # Label Studio ids of every task read
        self.newest = ""  # the newest task updated_at read (delta.SEEN)
        self.ls_results: list[str] = []
        self.checker = RecordChecker(parsed_config(project))

    # -------------------------------------------------------------- files
    def _upload_path(self, value: str) -> str | None:
        base = self.m.client.url
        if value.startswith(base + UPLOAD_PREFIX):
            value = value[len(base) :]
        if value.startswith(UPLOAD_PREFIX) and ".." not in value:
            return value
        return None

    def _file(self, path: str) -> str:
        """Download an uploaded file from Label Studio into LabelHub's media storage
        (once per path); its LabelHub URL."""
        if path in self.files:
            return self.files[path]
        self.report.copied["files"] += 1
        if self.m.dry_run:
            self.files[path] = path
            return path
        target = self.m.client.temp_download(path.split("?", 1)[0])
        try:
            name = stored_name(path.split("?", 1)[0].rsplit("/", 1)[-1])
            with open(target, "rb") as handle:
                key = default_storage.save(media_key_for(self.project.pk, name), File(handle))
        finally:
            Path(target).unlink(missing_ok=True)
        self.m.written_files.append(key)
        url = f"/data/upload/{self.project.pk}/{key.rsplit('/', 1)[-1]}"
        self.files[path] = url
        return url

    def _data(self, data: dict) -> dict:
        if not isinstance(data, dict):
            return data
        out = {}
        for key, value in data.items():
            if isinstance(value, str) and (path := self._upload_path(value)):
                value = self._file(path)
            elif isinstance(value, list):
                value = [
                    self._file(p) if isinstance(v, str) and (p := self._upload_path(v)) else v
                    for v in value
                ]
            out[key] = value
        return out

    # -------------------------------------------------------------- records
    def _annotation(self, item: dict) -> dict:
        return {
            "result": item.get("result") or [],
            "was_cancelled": bool(item.get("was_cancelled")),
            "ground_truth": bool(item.get("ground_truth")),
            "lead_time": item.get("lead_time"),
            "completed_by": self.m.user_id(item.get("completed_by")) or self.m.user.pk,
        }

    @staticmethod
    def _prediction(item: dict) -> dict:
        return {
            "result": item.get("result") or [],
            "score": item.get("score"),
            "model_version": item.get("model_version") or "",
        }

    def _records(self, exports: list[Path]):
        for export in exports:
            yield from self._records_of(export)

    def _records_of(self, export: Path):
        with open(export, "rb") as handle:
            for task in ijson.items(handle, "item", use_float=True):
                self._count(task)
                ls_id = task["id"]
                known = self.m.known(TASK, ls_id)
                if known is not None:
                    self._existing(known[0], task)
                    continue
                annotations = task.get("annotations") or []
                predictions = self.predictions.get(ls_id, [])
                self.side.append(
                    (
                        ls_id,
                        task.get("created_at"),
                        digest([task.get("data"), task.get("meta")]),
                        [
                            (
                                a["id"],
                                a.get("created_at"),
                                a.get("updated_at"),
                                a.get("parent_prediction"),
                                a.get("parent_annotation"),
                            )
                            for a in annotations
                        ],
                        [(p["id"], p.get("created_at"), p.get("updated_at")) for p in predictions],
                        task.get("drafts") or [],
                    )
                )
                yield {
                    "data": self._data(task.get("data") or {}),
                    "meta": task.get("meta") or {},
                    "annotations": [self._annotation(a) for a in annotations],
                    "predictions": [self._prediction(p) for p in predictions],
                }

    def _count(self, task: dict) -> None:
        counts = self.ls_counts
        counts["tasks"] += 1
        annotations = task.get("annotations") or []
        counts["annotations"] += len(annotations)
        counts["drafts"] += len(task.get("drafts") or [])
        self.read_task_ids.append(task["id"])
        self.newest = newest(self.newest, task.get("updated_at") or "")
        self.ls_results.extend(digest(a.get("result") or []) for a in annotations)
        state = self.m.state
        state["tasks_done"] = counts["tasks"]
        if counts["tasks"] % 1000 == 0:
            self.m.progress(state)

    def _existing(self, task_id: int, task: dict) -> None:
        """A task copied before: note new and changed annotations and predictions."""
        stamp = digest([task.get("data"), task.get("meta")])
        if self.m.known(TASK, task["id"])[1] != stamp:
            self.changed_tasks.append((task_id, task, stamp))
        for item in task.get("annotations") or []:
            found = self.m.known(ANNOTATION, item["id"])
            if found is None:
                self.new_annotations.append((task_id, item))
            elif found[1] != _stamp(item.get("updated_at")):
                self.changed_annotations.append((found[0], item))
        for item in self.predictions.get(task["id"], []):
            found = self.m.known(PREDICTION, item["id"])
            if found is None:
                self.new_predictions.append((task_id, item))
        for draft in task.get("drafts") or []:
            self.m.project_drafts.append((task_id, draft))

    # -------------------------------------------------------------- run
    def run(self, exports: list[Path], *, full: bool) -> None:
        """Copy the tasks of ``exports`` (Label Studio JSON exports: the whole project
        when ``full``, else the tasks that changed since the last run)."""
        result = ImportResult()
        if exports:
            try:
                result = records_import(
                    project=self.project,
                    records=self._records(exports),
                    user=self.m.user,
                    allow_empty=True,
                    progress=None,
                )
            except ApiError as exc:
                raise MigrationError(self._located(exc)) from None
        self.report.copied["tasks"] += result.task_count
        self.report.copied["annotations"] += result.annotation_count
        self.report.copied["predictions"] += result.prediction_count
        ids = result.task_ids
        self.m.copied_task_ids.extend(ids)
        self._map_new(ids)
        self._apply_changes()
        ls = self.report.ls_counts
        if full:
            ls["tasks"] = self.ls_counts["tasks"]
            ls["annotations"] = self.ls_counts["annotations"]
            ls["predictions"] = sum(len(v) for v in self.predictions.values())
            ls["drafts"] = self.ls_counts["drafts"]
            ls["result checksum"] = hashlib.sha256(
                "".join(sorted(self.ls_results)).encode()
            ).hexdigest()[:16]
        else:
            ls["tasks"] = self.ls_project.get("task_number")
            ls["annotations"] = (self.ls_project.get("total_annotations_number") or 0) + (
                self.ls_project.get("skipped_annotations_number") or 0
            )
            ls["predictions"] = self.ls_project.get("total_predictions_number")
            ls["drafts"] = self.ls_counts["drafts"]  # every task holding a draft was read
            if self.ls_counts["tasks"]:
                ls["result checksum (tasks read again)"] = hashlib.sha256(
                    "".join(sorted(self.ls_results)).encode()
                ).hexdigest()[:16]

    def _located(self, exc: ApiError) -> str:
        """The import's error, naming Label Studio's task id instead of a record index."""
        new_ids = [entry[0] for entry in self.side]
        details = []
        for error in (exc.errors or [])[:5]:
            index = error.get("record")
            task = new_ids[index] if isinstance(index, int) and index < len(new_ids) else "?"
            details.append(
                f"task {task}"
                + (f", {error['field']}" if error.get("field") else "")
                + f": {error.get('message')}"
            )
        more = f" (and {len(exc.errors) - 5} more)" if len(exc.errors or []) > 5 else ""
        return f"{self.where}: " + ("; ".join(details) or str(exc.detail)) + more

    def _map_new(self, task_ids: list[int]) -> None:
        """Pair the new rows with their Label Studio ids (the writer inserts a task's
        annotations and predictions in input order, so ids ascend with it), set Label
        Studio's timestamps, then the parent links."""
        m = self.m
        parents: list[tuple[int, int | None, int | None]] = []
        for start in range(0, len(task_ids), POST_BATCH):
            ids = task_ids[start : start + POST_BATCH]
            side = self.side[start : start + POST_BATCH]
            annotations = defaultdict(list)
            for pk, task_id in (
                Annotation.objects.filter(task_id__in=ids)
                .order_by("task_id", "id")
                .values_list("id", "task_id")
            ):
                annotations[task_id].append(pk)
            predictions = defaultdict(list)
            for pk, task_id in (
                Prediction.objects.filter(task_id__in=ids)
                .order_by("task_id", "id")
                .values_list("id", "task_id")
            ):
                predictions[task_id].append(pk)
            task_rows, annotation_rows, prediction_rows = [], [], []
            for task_id, (ls_id, created, stamp, anns, preds, drafts) in zip(
                ids, side, strict=True
            ):
                m.remember(TASK, ls_id, task_id, stamp)
                if created:
                    task_rows.append((task_id, _when(created)))
                for pk, (ls_aid, a_created, a_updated, parent_p, parent_a) in zip(
                    annotations[task_id], anns, strict=True
                ):
                    m.remember(ANNOTATION, ls_aid, pk, _stamp(a_updated))
                    annotation_rows.append((pk, _when(a_created), _when(a_updated)))
                    if parent_p or parent_a:
                        parents.append((pk, parent_p, parent_a))
                for pk, (ls_pid, p_created, p_updated) in zip(
                    predictions[task_id], preds, strict=True
                ):
                    m.remember(PREDICTION, ls_pid, pk, _stamp(p_updated))
                    prediction_rows.append((pk, _when(p_created), _when(p_updated)))
                for draft in drafts:
                    m.project_drafts.append((task_id, draft))
            _bulk_set(Task, ["created_at"], [r for r in task_rows if r[1]])
            _bulk_set(
                Annotation,
                ["created_at", "updated_at"],
                [r for r in annotation_rows if r[1] and r[2]],
            )
            _bulk_set(
                Prediction,
                ["created_at", "updated_at"],
                [r for r in prediction_rows if r[1] and r[2]],
            )
        self._parents(parents)

    def _parents(self, parents: list[tuple[int, int | None, int | None]]) -> None:
        rows = []
        for pk, ls_prediction, ls_annotation in parents:
            prediction = self.m.known(PREDICTION, ls_prediction) if ls_prediction else None
            annotation = self.m.known(ANNOTATION, ls_annotation) if ls_annotation else None
            rows.append(
                (pk, prediction[0] if prediction else None, annotation[0] if annotation else None)
            )
        _bulk_set(Annotation, ["parent_prediction_id", "parent_annotation_id"], rows)

    def _apply_changes(self) -> None:
        """New or changed annotations and predictions of tasks copied before (few, on a
        re-run): validated, written through the ORM, then their tasks recounted."""
        m = self.m
        for task_id, task, stamp in self.changed_tasks:
            data = self._data(task.get("data") or {})
            Task.objects.filter(pk=task_id).update(data=data, meta=task.get("meta") or {})
            m.remember(TASK, task["id"], task_id, stamp)
            self.report.copied["changed tasks"] += 1
        for _task_id, item in self.new_annotations + [(0, i) for _, i in self.changed_annotations]:
            errors = self.checker.result_errors(0, "annotation", item.get("result") or [])
            if errors and not (item.get("was_cancelled") and not item.get("result")):
                raise MigrationError(
                    f"{self.where}: task {item.get('task')}, annotation {item['id']}: "
                    f"{errors[0]['message']}"
                )
        created = []
        for task_id, item in self.new_annotations:
            fields = self._annotation(item)
            annotation = Annotation(
                task_id=task_id,
                project=self.project,
                completed_by_id=fields["completed_by"],
                result=fields["result"],
                was_cancelled=fields["was_cancelled"],
                ground_truth=fields["ground_truth"],
                lead_time=fields["lead_time"],
                created_at=_when(item.get("created_at")) or timezone.now(),
                updated_at=_when(item.get("updated_at")) or timezone.now(),
            )
            created.append((annotation, item))
            self.touched.add(task_id)
        Annotation.objects.bulk_create([a for a, _ in created], batch_size=1000)
        for annotation, item in created:
            m.remember(ANNOTATION, item["id"], annotation.pk, _stamp(item.get("updated_at")))
        self.report.copied["annotations"] += len(created)
        for pk, item in self.changed_annotations:
            fields = self._annotation(item)
            Annotation.objects.filter(pk=pk).update(
                result=fields["result"],
                was_cancelled=fields["was_cancelled"],
                ground_truth=fields["ground_truth"],
                lead_time=fields["lead_time"],
                completed_by_id=fields["completed_by"],
                updated_at=_when(item.get("updated_at")) or timezone.now(),
            )
            m.remember(ANNOTATION, item["id"], pk, _stamp(item.get("updated_at")))
            self.touched.add(Annotation.objects.filter(pk=pk).values_list("task_id", flat=True)[0])
        self.report.copied["changed annotations"] += len(self.changed_annotations)
        new_predictions = []
        for task_id, item in self.new_predictions:
            fields = self._prediction(item)
            new_predictions.append(
                (
                    Prediction(
                        task_id=task_id,
                        project=self.project,
                        created_at=_when(item.get("created_at")) or timezone.now(),
                        updated_at=_when(item.get("updated_at")) or timezone.now(),
                        **fields,
                    ),
                    item,
                )
            )
            self.touched.add(task_id)
        Prediction.objects.bulk_create([p for p, _ in new_predictions], batch_size=1000)
        for prediction, item in new_predictions:
            m.remember(PREDICTION, item["id"], prediction.pk, _stamp(item.get("updated_at")))
        self.report.copied["predictions"] += len(new_predictions)
        self._parents(
            [
                (annotation.pk, item.get("parent_prediction"), item.get("parent_annotation"))
                for annotation, item in created
                if item.get("parent_prediction") or item.get("parent_annotation")
            ]
        )
        if self.touched:
            tasks_counters_recount(project=self.project, task_ids=sorted(self.touched))


def _bulk_set(model, columns: list[str], rows: list[tuple]) -> None:
    """Set ``columns`` of many rows by id: one ``UPDATE ... FROM (VALUES ...)`` per 1000
    rows on PostgreSQL, ``executemany`` on SQLite (both far faster than ``bulk_update``'s
    CASE per column)."""
    if not rows:
        return
    table = model._meta.db_table
    fields = [model._meta.get_field(c.removesuffix("_id")) for c in columns]
    prepared = [
        (pk, *(f.get_db_prep_save(v, connection) for f, v in zip(fields, values, strict=True)))
        for pk, *values in rows
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from psycopg2.extras import execute_values

            types = [f.db_type(connection) if not f.is_relation else "bigint" for f in fields]
            sets = ", ".join(f'"{c}" = v."{c}"::{t}' for c, t in zip(columns, types, strict=True))
            names = ", ".join(f'"{c}"' for c in columns)
            execute_values(
                cursor.cursor if hasattr(cursor, "cursor") else cursor,
                f"UPDATE {table} AS t SET {sets} FROM (VALUES %s) AS v(id, {names}) "
                "WHERE t.id = v.id",
                prepared,
                page_size=1000,
            )
        else:
            sets = ", ".join(f'"{c}" = %s' for c in columns)
            cursor.executemany(
                f"UPDATE {table} SET {sets} WHERE id = %s",
                [(*values, pk) for pk, *values in prepared],
            )
