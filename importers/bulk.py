"""Bulk writers: validated rows in, tasks, annotations and predictions out.

Three writers with one interface (``write(rows)``, ``finish()``), both used inside the
caller's ``transaction.atomic`` so an import lands whole or not at all:

- ``SqliteWriter`` (SQLite): ``executemany`` of plain tuples in batches.
- ``OrmWriter`` (the fallback where COPY can't fill a table): ``bulk_create`` in batches.
- ``CopyWriter`` (PostgreSQL): ``COPY ... FROM STDIN`` in text format. Task ids are
  reserved from the table's own identity sequence on a side connection (sequences are
  not transactional, so the reservation is concurrency-safe and costs one round trip
  per batch), which lets one pass write tasks and the rows that point at them. The
  COPY runs in a writer thread on the same database connection while the main thread
  parses and encodes the next batch, so Python and the PostgreSQL backend use both
  cores. Measured here (2 cores, shared, load average about 4), 101k text tasks with
  one prediction each from a JSON file: ``bulk_create`` 16.5 s wall and 8.1 s of Python
  CPU, COPY 4.4 s wall and 1.0 s of Python CPU; for 1M, see bench/import_bench.py.
"""

import datetime
import io
import json
import queue
import threading
from collections.abc import Iterable
from typing import Any

import orjson
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.db.models.fields import NOT_PROVIDED
from django.utils import timezone

from annotations.counters import is_labeled, project_counters_add, skips_count
from annotations.models import Annotation, Prediction
from annotations.result_index import result_index_fill
from importers.records import TaskRow
from labelhub import events
from labelhub.errors import ApiError
from projects.models import Project
from tasks.models import Task
from tasks.services import task_data_keys_add

ORM_BATCH = 2000
# The columns the writers fill (the rest get their defaults), in the order of their values:
# what an INSERT or COPY writes, not a JSON shape (those are tasks.representations' and
# annotations.representations').
TASK_INSERT_COLUMNS = [
    "id",
    "project_id",
    "data",
    "meta",
    "is_labeled",
    "total_annotations",
    "cancelled_annotations",
    "total_predictions",
    "prediction_score",
    "created_at",
    "updated_at",
]
ANNOTATION_INSERT_COLUMNS = [
    "task_id",
    "project_id",
    "completed_by_id",
    "result",
    "was_cancelled",
    "ground_truth",
    "lead_time",
    "created_at",
    "updated_at",
]
PREDICTION_INSERT_COLUMNS = [
    "task_id",
    "project_id",
    "model_version",
    "score",
    "result",
    "created_at",
    "updated_at",
]
_active = threading.local()


def connection_idle() -> None:
    """Call before querying the default connection during an import: while a COPY
    writer of this thread has batches in flight, wait until its thread has sent them
    (two threads must never talk to the server over one connection at once)."""
    writer = getattr(_active, "writer", None)
    if writer is not None:
        writer.quiesce()


class IdRanges:
    """Task ids as sorted ``[first, last]`` ranges: 1M contiguous ids cost one pair."""

    def __init__(self) -> None:
        self.ranges: list[list[int]] = []
        self.count = 0

    def add(self, first: int, last: int) -> None:
        if self.ranges and self.ranges[-1][1] + 1 == first:
            self.ranges[-1][1] = last
        else:
            self.ranges.append([first, last])
        self.count += last - first + 1

    def extend(self, ids: Iterable[int]) -> None:
        for pk in ids:
            self.add(pk, pk)

    def __iter__(self):
        for first, last in self.ranges:
            yield from range(first, last + 1)


class _Stats:
    def __init__(self) -> None:
        self.tasks = self.annotations = self.predictions = 0
        self.labeled = self.ground_truth = self.skipped = 0


class _Authors:
    """Map the ``completed_by`` values in the input to members of the project.

    An exported id or email is kept when it names a member (so an export re-imported on
    the same server keeps its authors); anything else becomes the importing user. Looked
    up once per distinct value, one query per batch that brings new values.
    """

    def __init__(self, project: Project, default_id: int) -> None:
        self.project = project
        self.default_id = default_id
        self.known: dict = {}
        self.asked: set = set()

    @staticmethod
    def _who(annotation: dict):
        who = annotation.get("completed_by")
        if isinstance(who, dict):
            who = who.get("email") or who.get("id")
        if isinstance(who, str):
            return who.lower()
        if isinstance(who, int) and not isinstance(who, bool):
            return who
        return None

    def pending(self, rows: list[TaskRow]) -> set:
        """Author values in these rows not looked up yet."""
        return {
            who
            for row in rows
            for annotation in row.annotations
            if (who := self._who(annotation)) is not None and who not in self.asked
        }

    def prepare(self, rows: list[TaskRow]) -> None:
        wanted = self.pending(rows)
        if not wanted:
            return
        self.asked |= wanted
        members = get_user_model().objects.filter(memberships__project=self.project).distinct()
        ids = [w for w in wanted if isinstance(w, int)]
        emails = [w for w in wanted if isinstance(w, str)]
        for pk in members.filter(pk__in=ids).values_list("pk", flat=True):
            self.known[pk] = pk
        for pk, email in members.filter(email__in=emails).values_list("pk", "email"):
            self.known[email.lower()] = pk

    def author(self, annotation: dict) -> int:
        return self.known.get(self._who(annotation), self.default_id)


class _Writer:
    def __init__(self, *, project: Project, user) -> None:
        self.project = project
        self.maximum = project.maximum_annotations
        self.skips_count = skips_count(project)
        self.authors = _Authors(project, user.pk)
        self.now = timezone.now()
        self.stats = _Stats()
        self.ids = IdRanges()
        self.data_keys: dict[str, None] = {}

    def _seen(self, data: dict) -> None:
        """Note the row's data keys (a C-level subset test per row; a new key is rare)."""
        if not self.data_keys.keys() >= data.keys():
            self.data_keys.update(dict.fromkeys(data))

    def _task_counts(self, row: TaskRow) -> tuple[int, int, bool]:
        """(completed, cancelled, is_labeled) of a row's annotations; notes its data keys
        and whether it is labeled. The row-at-a-time writers share this and the two below
        (``CopyWriter`` keeps its loop inline: it is the 1M-task path)."""
        self._seen(row.data)
        done = sum(1 for a in row.annotations if not a.get("was_cancelled"))
        self.stats.labeled += done > 0
        skipped = len(row.annotations) - done
        labeled = is_labeled(done, self.maximum, cancelled=skipped if self.skips_count else 0)
        return done, skipped, labeled

    def _annotation(self, item: dict) -> tuple[int, Any, bool, bool, Any]:
        """(author id, result, was_cancelled, ground_truth, lead_time) of an imported
        annotation; counts the skipped and ground-truth ones."""
        cancelled = bool(item.get("was_cancelled", False))
        ground_truth = bool(item.get("ground_truth", False))
        self.stats.ground_truth += ground_truth
        self.stats.skipped += cancelled
        author = self.authors.author(item)
        return author, item.get("result") or [], cancelled, ground_truth, item.get("lead_time")

    @staticmethod
    def _prediction(item: dict) -> tuple[str, Any, Any]:
        """(model_version, score, result) of an imported prediction."""
        return str(item.get("model_version") or ""), item.get("score"), item.get("result") or []

    def finish(self) -> None:
        """Move the project's counters and its data-key list once and index the results
        (one INSERT ... SELECT per table and range of new task ids), in the import's
        transaction."""
        stats = self.stats
        task_data_keys_add(project_id=self.project.pk, keys=self.data_keys)
        if stats.annotations or stats.predictions:
            result_index_fill(project_id=self.project.pk, task_ranges=self.ids.ranges)
        for first, last in self.ids.ranges:
            events.publish(
                events.TASKS_CREATED, project_id=self.project.pk, ids=range(first, last + 1)
            )
        project_counters_add(
            project_id=self.project.pk,
            tasks=stats.tasks,
            tasks_with_annotations=stats.labeled,
            annotations=stats.annotations - stats.skipped,
            skipped=stats.skipped,
            ground_truth=stats.ground_truth,
            predictions=stats.predictions,
        )

    def write(self, rows: list[TaskRow], *, first_index: int = 0) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release threads and side connections (also after an error)."""


class OrmWriter(_Writer):
    """``bulk_create`` in batches: the fallback where COPY can't fill a table (SQLite has
    ``SqliteWriter``, the same rows as tuples)."""

    def write(self, rows: list[TaskRow], *, first_index: int = 0) -> None:
        self.authors.prepare(rows)
        now, stats = self.now, self.stats
        for start in range(0, len(rows), ORM_BATCH):
            batch = rows[start : start + ORM_BATCH]
            tasks = []
            for row in batch:
                done, cancelled, labeled = self._task_counts(row)
                tasks.append(
                    Task(
                        project=self.project,
                        data=row.data,
                        meta=row.meta,
                        total_annotations=done,
                        cancelled_annotations=cancelled,
                        total_predictions=len(row.predictions),
                        prediction_score=mean_score(row.predictions),
                        is_labeled=labeled,
                        created_at=now,
                        updated_at=now,
                    )
                )
            Task.objects.bulk_create(tasks, batch_size=ORM_BATCH)
            annotations, predictions = [], []
            for task, row in zip(tasks, batch, strict=True):
                for item in row.annotations:
                    author, result, was_cancelled, ground_truth, lead_time = self._annotation(item)
                    annotations.append(
                        Annotation(
                            task=task,
                            project=self.project,
                            completed_by_id=author,
                            result=result,
                            was_cancelled=was_cancelled,
                            ground_truth=ground_truth,
                            lead_time=lead_time,
                            created_at=now,
                            updated_at=now,
                        )
                    )
                for item in row.predictions:
                    model_version, score, result = self._prediction(item)
                    predictions.append(
                        Prediction(
                            task=task,
                            project=self.project,
                            result=result,
                            score=score,
                            model_version=model_version,
                            created_at=now,
                            updated_at=now,
                        )
                    )
            Annotation.objects.bulk_create(annotations, batch_size=ORM_BATCH)
            Prediction.objects.bulk_create(predictions, batch_size=ORM_BATCH)
            stats.tasks += len(tasks)
            stats.annotations += len(annotations)
            stats.predictions += len(predictions)
            self.ids.extend(task.pk for task in tasks)


class SqliteWriter(_Writer):
    """``executemany`` of plain tuples: the SQLite path.

    ``bulk_create`` built a model instance per row and prepared every field through the
    ORM: of a 10k-task import with one prediction each (1.3-1.5 s in process), about 1 s
    was that machinery. Here each row is one tuple, the JSON columns are encoded as
    Django's JSONField encodes them (``json.dumps``, so the stored text is the same), and
    the columns this writer doesn't fill get their default once. bench/api_bench.py
    --client (10k tasks, SQLite): see bench/README.md.

    Task ids: the import's transaction holds SQLite's write lock (IMMEDIATE), so no other
    connection inserts between our rows and each new rowid is the largest one plus one:
    the tasks of one ``executemany`` get consecutive ids ending at ``last_insert_rowid()``
    (tests/importers check the ids against the rows).
    """

    def __init__(self, *, project: Project, user) -> None:
        super().__init__(project=project, user=user)
        if not connection.in_atomic_block:
            raise RuntimeError("SqliteWriter must run inside transaction.atomic")
        self.stamp = connection.ops.adapt_datetimefield_value(self.now)
        without_id = [c for c in TASK_INSERT_COLUMNS if c != "id"]  # SQLite picks the ids
        self.task_sql, self.task_extra = _insert(Task, without_id)
        self.annotation_sql, self.annotation_extra = _insert(Annotation, ANNOTATION_INSERT_COLUMNS)
        self.prediction_sql, self.prediction_extra = _insert(Prediction, PREDICTION_INSERT_COLUMNS)

    def write(self, rows: list[TaskRow], *, first_index: int = 0) -> None:
        self.authors.prepare(rows)
        stamp, stats, pid, dumps = self.stamp, self.stats, self.project.pk, json.dumps
        with connection.cursor() as cursor:
            for start in range(0, len(rows), ORM_BATCH):
                batch = rows[start : start + ORM_BATCH]
                tasks = []
                for row in batch:
                    done, cancelled, labeled = self._task_counts(row)
                    tasks.append(
                        (
                            pid,
                            dumps(row.data),
                            dumps(row.meta),
                            labeled,
                            done,
                            cancelled,
                            len(row.predictions),
                            mean_score(row.predictions),
                            stamp,
                            stamp,
                            *self.task_extra,
                        )
                    )
                cursor.executemany(self.task_sql, tasks)
                cursor.execute("SELECT last_insert_rowid()")
                last = cursor.fetchone()[0]
                first = last - len(tasks) + 1
                annotations, predictions = [], []
                for task_id, row in zip(range(first, last + 1), batch, strict=True):
                    for item in row.annotations:
                        author, result, was_cancelled, ground_truth, lead_time = self._annotation(
                            item
                        )
                        annotations.append(
                            (
                                task_id,
                                pid,
                                author,
                                dumps(result),
                                was_cancelled,
                                ground_truth,
                                lead_time,
                                stamp,
                                stamp,
                                *self.annotation_extra,
                            )
                        )
                    for item in row.predictions:
                        model_version, score, result = self._prediction(item)
                        predictions.append(
                            (
                                task_id,
                                pid,
                                model_version,
                                score,
                                dumps(result),
                                stamp,
                                stamp,
                                *self.prediction_extra,
                            )
                        )
                if annotations:
                    cursor.executemany(self.annotation_sql, annotations)
                if predictions:
                    cursor.executemany(self.prediction_sql, predictions)
                stats.tasks += len(tasks)
                stats.annotations += len(annotations)
                stats.predictions += len(predictions)
                self.ids.add(first, last)


def _defaulted(model, known: list[str], *, with_pk: bool) -> list:
    """The model's columns a writer leaves to their Python default: not in ``known``, not
    the primary key (unless ``with_pk``), not filled by the database itself."""
    return [
        field
        for field in model._meta.concrete_fields
        if field.column not in known
        and not (field.primary_key and not with_pk)
        and getattr(field, "db_default", NOT_PROVIDED) is NOT_PROVIDED
    ]


def _insert(model, known: list[str]) -> tuple[str, tuple]:
    """An INSERT of ``known`` columns then every other column (but the primary key) at
    its default, and those defaults as database values."""
    fields = _defaulted(model, known, with_pk=False)
    names = [*known, *(field.column for field in fields)]
    defaults = tuple(field.get_db_prep_save(field.get_default(), connection) for field in fields)
    columns = ", ".join(f'"{name}"' for name in names)
    marks = ", ".join(["%s"] * len(names))
    return f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({marks})", defaults


# --------------------------------------------------------------------------- COPY

NULL = b"\\N"
_TEXT_ESCAPES = ((b"\\", b"\\\\"), (b"\t", b"\\t"), (b"\n", b"\\n"), (b"\r", b"\\r"))


def _text(value: str) -> bytes:
    raw = value.encode()
    for old, new in _TEXT_ESCAPES:
        raw = raw.replace(old, new)
    return raw


def _float(value) -> bytes:
    if value is None:
        return NULL
    return b"%r" % value if type(value) is float else repr(float(value)).encode()


def mean_score(predictions: list[dict]) -> float | None:
    """Task.prediction_score: the mean of the predictions' scores (AVG: nulls ignored)."""
    scores = [p["score"] for p in predictions if p.get("score") is not None]
    return sum(scores) / len(scores) if scores else None


class _NulInJson(Exception):
    pass


def _json(value) -> bytes:
    """orjson text for a COPY field: JSON escapes every control character, so only
    the backslash needs doubling. PostgreSQL's jsonb cannot hold ``\\u0000``."""
    if not value:
        return b"{}" if type(value) is dict else b"[]"
    try:
        blob = orjson.dumps(value)
    except orjson.JSONEncodeError:  # deeper than orjson's 254 levels: the slow encoder
        try:
            blob = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        except (RecursionError, ValueError, TypeError) as exc:
            raise orjson.JSONEncodeError(str(exc)) from None
    if b"\\" not in blob:
        return blob
    if b"\\u0000" in blob:
        raise _NulInJson
    return blob.replace(b"\\", b"\\\\")


def _constant(field, conn) -> bytes:
    """COPY text of a column's Python default, for columns this writer doesn't fill."""
    value = field.get_db_prep_save(field.get_default(), conn)
    if value is None:
        return NULL
    if isinstance(value, bool):
        return b"t" if value else b"f"
    if isinstance(value, (int, float)):
        return str(value).encode()
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat().encode()
    if hasattr(value, "dumps"):  # psycopg2 Json adapter from JSONField
        value = value.dumps(value.adapted)
    return _text(str(value))


class CopyUnsupported(Exception):
    """A table has a required column this writer cannot fill; use OrmWriter."""


def _columns(model, known: list[str], conn, *, with_pk: bool) -> tuple[str, bytes]:
    """The COPY column list: ``known`` first, then every other column at its default."""
    extra_names, extra_values = [], []
    for field in _defaulted(model, known, with_pk=with_pk):
        if not field.has_default() and not field.null:
            raise CopyUnsupported(f"{model._meta.db_table}.{field.column} has no default")
        if field.is_relation and field.get_default() is not None:
            raise CopyUnsupported(f"{model._meta.db_table}.{field.column} defaults to a reference")
        extra_names.append(field.column)
        extra_values.append(_constant(field, conn))
    names = ", ".join(f'"{name}"' for name in [*known, *extra_names])
    suffix = b"".join(b"\t" + value for value in extra_values)
    return f"COPY {model._meta.db_table} ({names}) FROM STDIN", suffix


class CopyWriter(_Writer):
    """PostgreSQL COPY, pipelined with a writer thread (see the module docstring)."""

    RESERVE = 20_000

    def __init__(self, *, project: Project, user) -> None:
        super().__init__(project=project, user=user)
        connection.ensure_connection()
        self.task_sql, self.task_suffix = _columns(
            Task, TASK_INSERT_COLUMNS, connection, with_pk=True
        )
        self.annotation_sql, self.annotation_suffix = _columns(
            Annotation, ANNOTATION_INSERT_COLUMNS, connection, with_pk=False
        )
        self.prediction_sql, self.prediction_suffix = _columns(
            Prediction, PREDICTION_INSERT_COLUMNS, connection, with_pk=False
        )
        self.stamp = self.now.isoformat().encode()
        self.project_id = str(project.pk).encode()
        self.versions: dict = {}
        self.free: list[int] = []  # reserved ids not used yet
        self.raw = connection.connection
        if not connection.in_atomic_block:
            raise RuntimeError("CopyWriter must run inside transaction.atomic")
        self.replica_role = self._skip_fk_triggers()
        self.locked_users: set[int] = set()
        self._lock_users({user.pk})
        self.side = None
        self.queue: queue.Queue = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._copy_loop, name="import-copy", daemon=True)
        self.thread.start()
        _active.writer = self
        self.sequence = None

    # -------------------------------------------------------------- foreign keys
    def _skip_fk_triggers(self) -> str | None:
        r"""Skip the per-row foreign-key triggers when this role may, taking their locks
        once per referenced row instead; returns the role to restore, or None.

        PostgreSQL checks a foreign key with a trigger per inserted row (an index probe
        and a ``FOR KEY SHARE`` lock on the referenced row). For 200k tasks with one
        prediction each that was 7-9 s of a 11-13 s COPY here (psql ``\copy``, 2 cores);
        without the triggers, 4.3 s. Every reference this writer makes is to the
        project, to tasks it inserts in the same transaction, or to users: it locks the
        project and those users ``FOR KEY SHARE`` itself, which is all the triggers
        would have done for those rows, so integrity holds. Setting
        ``session_replication_role`` needs a superuser or (PostgreSQL 15+) ``GRANT SET ON
        PARAMETER session_replication_role``; without it the triggers run, checked at
        the end of each COPY so the server checks batch n while Python encodes n + 1.
        """
        with connection.cursor() as cursor:
            cursor.execute("SHOW session_replication_role")
            previous = cursor.fetchone()[0]
            try:
                with transaction.atomic():  # a savepoint: a refusal leaves the import intact
                    cursor.execute("SET LOCAL session_replication_role = replica")
            except DatabaseError:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                return None
            cursor.execute(
                f"SELECT 1 FROM {Project._meta.db_table} WHERE id = %s FOR KEY SHARE",
                [self.project.pk],
            )
        return previous

    def _lock_users(self, ids) -> None:
        new = {pk for pk in ids if pk is not None} - self.locked_users
        if not new or self.replica_role is None:
            return
        self.locked_users |= new
        table = get_user_model()._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {table} WHERE id = ANY(%s) FOR KEY SHARE", [list(new)])

    # -------------------------------------------------------------- ids
    def _side(self):
        if self.side is None:
            self.side = connection.get_new_connection(connection.get_connection_params())
            self.side.autocommit = True
        return self.side

    def _reserve(self, count: int) -> list[int]:
        """``count`` task ids from the identity sequence, in increasing order."""
        while len(self.free) < count:
            want = max(self.RESERVE, count - len(self.free))
            with self._side().cursor() as cur:
                if self.sequence is None:
                    cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [Task._meta.db_table])
                    self.sequence = cur.fetchone()[0]
                cur.execute(
                    "WITH s AS (SELECT nextval(%s) AS v FROM generate_series(1, %s)) "
                    "SELECT min(v), max(v), count(*), CASE WHEN max(v) - min(v) + 1 = count(*) "
                    "THEN NULL ELSE array_agg(v ORDER BY v) END FROM s",
                    [self.sequence, want],
                )
                low, high, _count, values = cur.fetchone()
            self.free.extend(range(low, high + 1) if values is None else values)
        ids, self.free = self.free[:count], self.free[count:]
        return ids

    # -------------------------------------------------------------- thread
    def _copy_loop(self) -> None:
        cursor = self.raw.cursor()
        while True:
            item = self.queue.get()
            if item is None:
                break
            try:
                if self.error is None:
                    for sql, buffer in item:
                        cursor.copy_expert(sql, io.BytesIO(buffer), size=1 << 20)
            except BaseException as exc:  # handed to the main thread
                self.error = exc
            finally:
                self.queue.task_done()
        self.queue.task_done()
        cursor.close()

    def _check(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    # -------------------------------------------------------------- encode
    def _version(self, value) -> bytes:
        encoded = self.versions.get(value)
        if encoded is None:
            encoded = self.versions[value] = _text(str(value or ""))
        return encoded

    def _templates(self) -> tuple[bytes, bytes, bytes]:
        """COPY line templates with the constant fields (project, timestamps, defaulted
        columns) already in place: fewer arguments to format per row."""
        if not hasattr(self, "_lines"):
            pid = self.project_id
            stamps = (self.stamp + b"\t" + self.stamp).replace(b"%", b"%%")
            self._lines = (
                b"%b\t"
                + pid
                + b"\t%b\t%b\t%b\t%d\t%d\t%d\t%b\t"
                + stamps
                + self.task_suffix.replace(b"%", b"%%")
                + b"\n",
                b"%b\t"
                + pid
                + b"\t%d\t%b\t%b\t%b\t%b\t"
                + stamps
                + self.annotation_suffix.replace(b"%", b"%%")
                + b"\n",
                b"%b\t"
                + pid
                + b"\t%b\t%b\t%b\t"
                + stamps
                + self.prediction_suffix.replace(b"%", b"%%")
                + b"\n",
            )
        return self._lines

    def write(self, rows: list[TaskRow], *, first_index: int = 0) -> None:
        self._check()
        if self.authors.pending(rows):
            self.quiesce()  # the lookup runs on the import's connection
            self.authors.prepare(rows)
            self._lock_users(self.authors.known.values())
        ids = self._reserve(len(rows))
        stats, maximum, version = self.stats, self.maximum, self._version
        skips = self.skips_count
        task_line, annotation_line, prediction_line = self._templates()
        tasks, annotations, predictions = bytearray(), bytearray(), bytearray()
        index = first_index
        try:
            for index, (pk, row) in enumerate(zip(ids, rows, strict=True), start=first_index):  # noqa: B007 - read in the except
                task_id = b"%d" % pk
                self._seen(row.data)
                done = 0
                for item in row.annotations:
                    cancelled = bool(item.get("was_cancelled", False))
                    ground_truth = bool(item.get("ground_truth", False))
                    done += not cancelled
                    stats.ground_truth += ground_truth
                    stats.skipped += cancelled
                    annotations += annotation_line % (
                        task_id,
                        self.authors.author(item),
                        _json(item.get("result") or []),
                        b"t" if cancelled else b"f",
                        b"t" if ground_truth else b"f",
                        _float(item.get("lead_time")),
                    )
                for item in row.predictions:
                    predictions += prediction_line % (
                        task_id,
                        version(item.get("model_version")),
                        _float(item.get("score")),
                        _json(item.get("result") or []),
                    )
                tasks += task_line % (
                    task_id,
                    _json(row.data),
                    _json(row.meta),
                    b"t"
                    if is_labeled(
                        done, maximum, cancelled=len(row.annotations) - done if skips else 0
                    )
                    else b"f",
                    done,
                    len(row.annotations) - done,
                    len(row.predictions),
                    _float(mean_score(row.predictions)),
                )
                stats.labeled += done > 0
                stats.annotations += len(row.annotations)
                stats.predictions += len(row.predictions)
        except _NulInJson:
            raise ApiError(
                f"Import failed, nothing was imported: record {index} contains a NUL "
                "character (\\u0000), which the database cannot store.",
                [{"record": index, "field": None, "message": "contains \\u0000"}],
            ) from None
        except orjson.JSONEncodeError as exc:  # nested deeper than 254 levels, say
            raise ApiError(
                f"Import failed, nothing was imported: record {index} cannot be stored ({exc}).",
                [{"record": index, "field": None, "message": str(exc)}],
            ) from None
        stats.tasks += len(rows)
        if ids:
            if ids[-1] - ids[0] + 1 == len(ids):
                self.ids.add(ids[0], ids[-1])
            else:
                self.ids.extend(ids)
        item = [(self.task_sql, bytes(tasks))]
        if annotations:
            item.append((self.annotation_sql, bytes(annotations)))
        if predictions:
            item.append((self.prediction_sql, bytes(predictions)))
        self.queue.put(item)

    def quiesce(self) -> None:
        """Wait until the copy thread has sent every batch handed to it."""
        if self.thread.is_alive():
            self.queue.join()
        self._check()

    def _drain(self) -> None:
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()

    def finish(self) -> None:
        self._drain()
        self._check()
        super().finish()

    def close(self) -> None:
        self._drain()
        if getattr(_active, "writer", None) is self:
            _active.writer = None
        if self.raw.closed == 0 and self.raw.get_transaction_status() == 2:  # in a transaction
            with self.raw.cursor() as cursor:
                if self.replica_role is None:
                    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                else:
                    cursor.execute(
                        "SELECT set_config('session_replication_role', %s, true)",
                        [self.replica_role],
                    )
        if self.side is not None:
            self.side.close()
            self.side = None


def writer_for(*, project: Project, user) -> _Writer:
    """COPY on PostgreSQL, executemany on SQLite, bulk_create elsewhere."""
    if connection.vendor == "postgresql":
        try:
            return CopyWriter(project=project, user=user)
        except CopyUnsupported:
            pass
    if connection.vendor == "sqlite":
        return SqliteWriter(project=project, user=user)
    return OrmWriter(project=project, user=user)
