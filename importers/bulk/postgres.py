"""``CopyWriter``: the PostgreSQL path of the bulk writers (``importers.bulk``), COPY in
text format pipelined with a writer thread (see the package's docstring for what it
gained), and the COPY text encoders."""

import datetime
import io
import json
import queue
import threading

import orjson
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction

from annotations.counters import is_labeled
from annotations.models import Annotation, Prediction
from importers.bulk.base import (
    ANNOTATION_INSERT_COLUMNS,
    PREDICTION_INSERT_COLUMNS,
    TASK_INSERT_COLUMNS,
    Writer,
    defaulted_fields,
    mean_score,
)
from importers.records import TaskRow
from labelhub.errors import ApiError
from projects.models import Project
from tasks.models import Task

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


def _constant(field, conn, overrides: dict | None = None) -> bytes:
    """COPY text of a column's Python default (or its value in ``overrides``), for
    columns this writer doesn't fill."""
    overrides = overrides or {}
    value = field.get_db_prep_save(overrides.get(field.column, field.get_default()), conn)
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


def _columns(
    model, known: list[str], conn, *, with_pk: bool, overrides: dict | None = None
) -> tuple[str, bytes]:
    """The COPY column list: ``known`` first, then every other column at its default."""
    extra_names, extra_values = [], []
    for field in defaulted_fields(model, known, with_pk=with_pk):
        if not field.has_default() and not field.null:
            raise CopyUnsupported(f"{model._meta.db_table}.{field.column} has no default")
        if field.is_relation and field.get_default() is not None:
            raise CopyUnsupported(f"{model._meta.db_table}.{field.column} defaults to a reference")
        extra_names.append(field.column)
        extra_values.append(_constant(field, conn, overrides))
    names = ", ".join(f'"{name}"' for name in [*known, *extra_names])
    suffix = b"".join(b"\t" + value for value in extra_values)
    return f"COPY {model._meta.db_table} ({names}) FROM STDIN", suffix


class CopyWriter(Writer):
    """PostgreSQL COPY, pipelined with a writer thread (see the module docstring)."""

    RESERVE = 20_000

    def __init__(self, *, project: Project, user, file_upload_id: int | None = None) -> None:
        super().__init__(project=project, user=user, file_upload_id=file_upload_id)
        connection.ensure_connection()
        self.task_sql, self.task_suffix = _columns(
            Task, TASK_INSERT_COLUMNS, connection, with_pk=True, overrides=self.task_overrides
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
        self._activate()
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
        self._deactivate()
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
