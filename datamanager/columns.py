"""The allow-list: every column the Data Manager can filter or order by.

Column ids are Label Studio's, so saved LS queries work. Each column has hand-written
builders; the query never names a model field. A builder turns one validated filter item
into a ``Cond``:

- ``scope="task"``: ``q`` is a condition on the task row;
- ``scope="annotation"`` / ``"prediction"``: ``q`` is a condition on one of the task's
  annotations / predictions, and ``negate`` says "no annotation matches". The engine puts
  all positive annotation conditions of a query into ONE ``EXISTS``, so that
  "class Cat AND annotator X" means one completion with both, as Label Studio's single
  ``filter()`` call does.

Columns also say how to read them at the level of a single completion, for the Ground
Truth Manager (``annotation`` builders), and which expression orders them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import (
    Avg,
    Case,
    Count,
    Exists,
    F,
    Min,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import (
    GreaterThan,
    GreaterThanOrEqual,
    In,
    IsNull,
    LessThan,
    LessThanOrEqual,
)

from annotations.models import Annotation, ResultLabel, Review
from annotations.result_index import indexable
from datamanager import query as query_format
from datamanager.compare import (
    BOOL_OPS,
    LIST_OPS,
    NEGATIVE,
    NUMBER_OPS,
    POSITIVE_OF,
    TEXT_OPS,
    _unsupported,
    compare,
)
from datamanager.sql import (
    JsonKeyEmpty,
    JsonKeyEquals,
    JsonKeyNumber,
    JsonKeyText,
    JsonText,
    Regex,
    ResultHasLabel,
)
from labelhub.validation import MAX_ID
from projects import label_config_tags as tags
from projects.label_config import ParsedConfig

ALL_LABEL_KEYS = sorted(
    {shape.label_key for shape in tags.RESULT_SHAPES.values() if shape.label_key}
)


@dataclass
class ProjectContext:
    """What builders need to know about the project."""

    project: Any
    label_keys: list[str]
    labels: list[str]

    @classmethod
    def for_project(cls, project) -> ProjectContext:
        keys: set[str] = {"labels"}
        labels: list[str] = []
        try:
            parsed = ParsedConfig.from_dict(project.parsed_config or {})
        except (ValueError, KeyError):
            parsed = None
        for control in parsed.controls.values() if parsed else []:
            kind = control["type"].lower()
            shape = tags.RESULT_SHAPES.get(kind) or tags.RESULT_SHAPES.get(kind + "labels")
            if shape and shape.label_key:
                keys.add(shape.label_key)
            for label in [
                *control.get("labels", []),
                *(a.get("value") for a in control.get("labels_attrs", {}).values()),
            ]:
                if label and label not in labels:
                    labels.append(label)
        if parsed is None or any(c.get("dynamic") for c in parsed.controls.values()):
            keys.update(ALL_LABEL_KEYS)
        return cls(project=project, label_keys=sorted(keys), labels=labels)


@dataclass(frozen=True)
class Cond:
    scope: str  # "task" | "annotation" | "prediction"
    q: Any
    negate: bool = False
    # Task ids that the positive ``q`` implies (a queryset of ``task_id``: the result-label
    # index's tasks with a label): the engine may AND ``pk IN`` it, so that the database
    # can start from the label's tasks instead of probing every task.
    task_hint: Any = None


Builder = Callable[[query_format.FilterItem, ProjectContext], Cond]


@dataclass(frozen=True)
class Column:
    id: str
    title: str
    type: str  # Label Studio's filter type: Number, Datetime, Boolean, String, List
    task: Builder
    annotation: Builder | None = None  # None: the task's condition applies to its completions
    order: Callable[[ProjectContext], Any] | None = None


def field_builder(name: str, kind: str, ops=NUMBER_OPS) -> Builder:
    def build(item, ctx):
        if item.operator not in ops:
            raise _unsupported(item, ops)
        return Cond("task", compare(F(name), item, kind))

    return build


def boolean_builder(scope: str, positive: Callable[[ProjectContext], Any]) -> Builder:
    """``equal true`` / ``not_equal false``: some row in ``scope`` matches ``positive``."""

    def build(item, ctx):
        if item.operator not in BOOL_OPS:
            raise _unsupported(item, BOOL_OPS)
        wanted = query_format.as_bool(item.value, f"{item.where}.value") == (
            item.operator == "equal"
        )
        if scope == "task":
            return Cond(scope, positive(ctx) if wanted else ~positive(ctx))
        return Cond(scope, positive(ctx), negate=not wanted)

    return build


def annotation_boolean(expr: Callable[[ProjectContext], Any]) -> Builder:
    """At the completion level: a yes/no property of the completion itself."""

    def build(item, ctx):
        if item.operator not in BOOL_OPS:
            raise _unsupported(item, BOOL_OPS)
        wanted = query_format.as_bool(item.value, f"{item.where}.value") == (
            item.operator == "equal"
        )
        q = Q(expr(ctx))
        return Cond("annotation", q if wanted else ~q)

    return build


# ------------------------------------------------------------------------- expressions


def completed_at(ctx: ProjectContext):
    """When the task was completed: its newest annotation's time, once it is labeled
    (``is_labeled``: the project's overlap met), else nothing, as in Label Studio
    (``base_annotate_completed_at``). A task still short of its overlap is not shown as
    completed (issue #26)."""
    newest = Annotation.objects.filter(task=OuterRef("pk")).order_by("-id").values("created_at")
    return Case(When(is_labeled=True, then=Subquery(newest[:1])), default=None)


def predictions_score(ctx: ProjectContext):
    """The mean score of the task's predictions: ``Task.prediction_score``, which the
    prediction services keep (the Label Stream's score samplers read the same column)."""
    return F("prediction_score")


def avg_lead_time(ctx: ProjectContext):
    return Subquery(
        Annotation.objects.filter(task=OuterRef("pk"), was_cancelled=False)
        .order_by()
        .values("task")
        .annotate(a=Avg("lead_time"))
        .values("a")
    )


def reviews_count(accepted: bool, *, outer: str = "pk", through_task: bool = True):
    reviews = Review.objects.filter(accepted=accepted)
    if through_task:
        reviews = reviews.filter(annotation__task=OuterRef(outer)).values("annotation__task")
    else:
        reviews = reviews.filter(annotation=OuterRef(outer)).values("annotation")
    return Coalesce(Subquery(reviews.order_by().annotate(c=Count("id")).values("c")), Value(0))


def any_review(accepted: bool | None, *, through_task: bool = True):
    reviews = Review.objects.all() if accepted is None else Review.objects.filter(accepted=accepted)
    if through_task:
        return Exists(reviews.filter(annotation__task=OuterRef("pk")))
    return Exists(reviews.filter(annotation=OuterRef("pk")))


def first_annotator(ctx: ProjectContext):
    return Subquery(
        Annotation.objects.filter(task=OuterRef("pk"))
        .order_by()
        .values("task")
        .annotate(m=Min("completed_by_id"))
        .values("m")
    )


def first_annotation_id(ctx: ProjectContext):
    return Subquery(
        Annotation.objects.filter(task=OuterRef("pk"))
        .order_by()
        .values("task")
        .annotate(m=Min("id"))
        .values("m")
    )


def annotations_ids_builder(item, ctx):
    """Label Studio's ``annotations_ids`` (the task's annotation ids, skips included):
    ``empty``, and ``equal``/``contains`` (and their negations) an annotation id."""
    allowed = ("empty", "equal", "not_equal", "contains", "not_contains")
    if item.operator not in allowed:
        raise _unsupported(item, allowed)
    if item.operator == "empty":
        empty = query_format.as_bool(item.value, f"{item.where}.value")
        return Cond("annotation", Q(), negate=empty)
    try:
        value = int(query_format.as_number(item.value, f"{item.where}.value"))
    except query_format.QueryError:
        value = None  # Label Studio compares the ids' text: "123wrong" matches nothing
    match = Q(pk=value) if value is not None else Q(pk__in=[])
    return Cond("annotation", match, negate=item.operator in NEGATIVE)


def has_ground_truth(ctx: ProjectContext):
    return Exists(Annotation.objects.filter(task=OuterRef("pk"), ground_truth=True))


# ----------------------------------------------------------------------------- builders


def review_count_builder(accepted: bool, *, through_task: bool) -> Builder:
    """A count of accepted or rejected reviews. "More than 0" and "0" become EXISTS,
    which needs no count."""

    def build(item, ctx):
        if item.operator not in NUMBER_OPS:
            raise _unsupported(item, NUMBER_OPS)
        op, value = item.operator, item.value
        some = any_review(accepted, through_task=through_task)
        scope = "task" if through_task else "annotation"
        if (
            op in ("greater", "not_equal")
            and _is(value, 0)
            or op == "greater_or_equal"
            and _is(value, 1)
        ):
            return Cond(scope, Q(some))
        if op == "equal" and _is(value, 0) or op == "less" and _is(value, 1):
            return Cond(scope, ~Q(some))
        return Cond(
            scope, compare(reviews_count(accepted, through_task=through_task), item, "number")
        )

    return build


def _is(value, number) -> bool:
    try:
        return query_format.as_number(value, "") == number
    except query_format.QueryError:
        return False


def _users(item: query_format.FilterItem) -> list[int]:
    """User ids from ids, numeric strings or emails."""
    where = f"{item.where}.value"
    values = item.value if isinstance(item.value, list) else [item.value]
    if not values or len(values) > query_format.MAX_LIST:
        raise query_format.QueryError("needs user ids", field=where)
    ids, emails = [], []
    for value in values:
        if isinstance(value, dict):  # the LS frontend may send {"id": ..}
            value = value.get("id")
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            if not 0 <= value <= MAX_ID:
                raise query_format.QueryError("a user id out of range", field=where)
            ids.append(value)
        elif isinstance(value, str) and "@" in value:
            emails.append(value.strip())
        else:
            raise query_format.QueryError("a user id or email", field=where)
    if emails:
        User = get_user_model()
        q = Q()
        for email in emails:
            q |= Q(email__iexact=email)
        ids += list(User.objects.filter(q).values_list("pk", flat=True))
    return ids or [-1]


def annotators_builder(scope_field: str = "completed_by_id") -> Builder:
    def build(item, ctx):
        if item.operator not in LIST_OPS + ("in", "not_in"):
            raise _unsupported(item, LIST_OPS)
        if item.operator == "empty":
            empty = query_format.as_bool(item.value, f"{item.where}.value")
            return Cond("annotation", Q(), negate=empty)
        q = Q(In(F(scope_field), _users(item)))
        return Cond("annotation", q, negate=item.operator in NEGATIVE)

    return build


def annotators_at_annotation(item, ctx):
    cond = annotators_builder()(item, ctx)
    if item.operator == "empty":  # a completion always has its author (or lost it)
        return Cond("annotation", Q(completed_by__isnull=cond.negate))
    return Cond("annotation", ~cond.q if cond.negate else cond.q)


def _label_candidates(item: query_format.FilterItem, ctx: ProjectContext) -> list[str]:
    where = f"{item.where}.value"
    op = POSITIVE_OF.get(item.operator, item.operator)
    if op == "in_list":
        return [
            query_format.as_string(v, where)
            for v in query_format.as_list(item.value, where, lambda v, w: v)
        ]
    value = query_format.as_string(item.value, where)
    lowered = value.lower()
    if op == "equal":
        matches = [label for label in ctx.labels if label.lower() == lowered]
    else:  # contains: every configured label with that text in its name
        matches = [label for label in ctx.labels if lowered in label.lower()]
    return list(dict.fromkeys([value, *matches]))


def result_has_label(
    scope: str, column: str, ctx: ProjectContext, *, keys: list[str], labels: list[str]
) -> tuple[Q, Any]:
    """A label in the result of the annotation or prediction (``scope``) at hand, and the
    task-level hint it implies.

    With the result-label index (``annotations.result_index``): a probe of it for the
    row at hand, and as the hint the project's tasks that have the label in some row of
    that scope (an index range, see ``ResultLabel.Meta``). Measured on SQLite, 100k tasks
    (bench/result_index_bench.py): the count of a label on 0.05% of the tasks went from
    75 ms to under 1 ms, of a label on 17% of them from 60 to 33 ms (the SQL alone).
    Without the index (keys or labels too long for it, or ``RESULT_INDEX_FILTERS`` off):
    a walk through the JSON (``ResultHasLabel``) and no hint.
    """
    if settings.RESULT_INDEX_FILTERS and indexable(keys, labels):
        rows = ResultLabel.objects.filter(key__in=keys, value__in=labels)
        q = Q(Exists(rows.filter(**{scope: OuterRef("pk")})))
        tasks = rows.filter(project=ctx.project, **{f"{scope}__isnull": False})
        return q, tasks.values("task_id")
    return Q(ResultHasLabel(F(column), keys=keys, labels=labels)), None


def _annotations_empty(empty: bool) -> Cond:
    """Label Studio's ``annotations_results`` ``empty``: true for a task without
    annotations or with an empty one (a skip too); false for a task whose annotations
    all hold results. A task with an empty and a labeled annotation is "empty"."""
    of_task = Annotation.objects.filter(task=OuterRef("pk"))
    blank = Exists(of_task.filter(result=[]))
    if empty:
        return Cond("task", ~Q(Exists(of_task)) | Q(blank))
    return Cond("task", Q(Exists(of_task.exclude(result=[]))) & ~Q(blank))


def results_builder(scope: str, column: str = "result", *, own: bool = False) -> Builder:
    """A label, choice or class name in a result list (``own``: the completion itself)."""

    def build(item, ctx):
        op = item.operator
        if op not in TEXT_OPS:
            raise _unsupported(item, TEXT_OPS)
        if op == "empty":
            empty = query_format.as_bool(item.value, f"{item.where}.value")
            q = ~Q(**{column: []})
            if own:
                return Cond(scope, ~q if empty else q)
            if scope == "annotation":
                return _annotations_empty(empty)
            return Cond(scope, q, negate=empty)
        hint = None
        if op == "regex":
            q = Q(Regex(JsonText(F(column)), item.value))
        else:
            keys = ctx.label_keys + (["text"] if POSITIVE_OF.get(op, op) == "equal" else [])
            labels = _label_candidates(item, ctx)
            q, hint = result_has_label(scope, column, ctx, keys=keys, labels=labels)
        negative = op in NEGATIVE
        if own:
            return Cond(scope, ~q if negative else q)
        return Cond(scope, q, negate=negative, task_hint=None if negative else hint)

    return build


def model_versions_builder(item, ctx):
    op, where = item.operator, f"{item.where}.value"
    if op not in TEXT_OPS:
        raise _unsupported(item, TEXT_OPS)
    if op == "empty":
        return Cond("prediction", Q(), negate=query_format.as_bool(item.value, where))
    positive = POSITIVE_OF.get(op, op)
    if positive == "equal":
        q = Q(model_version=query_format.as_string(item.value, where))
    elif positive == "in_list":
        q = Q(model_version__in=query_format.as_list(item.value, where, query_format.as_string))
    elif positive == "contains":
        q = Q(model_version__icontains=query_format.as_string(item.value, where))
    else:
        q = Q(Regex(F("model_version"), item.value))
    return Cond("prediction", q, negate=op in NEGATIVE)


def json_key_builder(column: str) -> Callable[[str], Builder]:
    """``data.<key>`` / ``meta.<key>``. The filter's ``type`` says how to read the value:
    Number and Datetime compare as such, Boolean as JSON true/false, anything else as
    text (equal, contains, regex, empty)."""

    def for_key(key: str) -> Builder:
        def build(item, ctx):
            op, kind, where = item.operator, item.type, f"{item.where}.value"
            if op == "empty":
                empty = Q(JsonKeyEmpty(F(column), key))
                return Cond("task", empty if query_format.as_bool(item.value, where) else ~empty)
            if kind == "number":
                if op in ("equal", "not_equal"):
                    number = query_format.as_number(item.value, where)
                    q = Q(JsonKeyEquals(F(column), key, [number, str(item.value)]))
                    return Cond("task", ~q if op == "not_equal" else q)
                if op not in NUMBER_OPS:
                    raise _unsupported(item, NUMBER_OPS)
                return Cond("task", compare(JsonKeyNumber(F(column), key), item, "number"))
            if kind == "boolean":
                if op not in BOOL_OPS:
                    raise _unsupported(item, BOOL_OPS)
                value = query_format.as_bool(item.value, where)
                q = Q(JsonKeyEquals(F(column), key, [value, "true" if value else "false"]))
                return Cond("task", q if op == "equal" else ~q)
            text = JsonKeyText(F(column), key)
            if kind == "datetime":
                if op not in NUMBER_OPS:
                    raise _unsupported(item, NUMBER_OPS)
                return Cond("task", _text_dates(text, item))
            if op in ("equal", "not_equal", "in_list", "not_in_list"):
                values = (
                    query_format.as_list(item.value, where, query_format.as_string)
                    if "list" in op
                    else [query_format.as_string(item.value, where)]
                )
                candidates: list = []
                for value in values:
                    candidates.append(value)
                    try:
                        candidates.append(query_format.as_number(value, where))
                    except query_format.QueryError:
                        pass
                q = Q(JsonKeyEquals(F(column), key, candidates))
                return Cond("task", ~q if op in NEGATIVE else q)
            if op not in TEXT_OPS:
                raise _unsupported(item, TEXT_OPS)
            return Cond("task", compare(text, item, "text"))

        return build

    return for_key


def _text_dates(text, item: query_format.FilterItem) -> Q:
    """ISO date strings in data sort as text; compare them as text in ISO form."""
    where = f"{item.where}.value"

    def iso(value, w):
        return (
            query_format.as_datetime(value, w)
            .isoformat()
            .replace("+00:00", "")[: max(10, len(str(value)))]
        )

    converted = query_format.FilterItem(
        item.column, item.operator, "string", item.value, item.index
    )
    if item.operator in ("in", "not_in"):
        low, high = query_format.as_range(item.value, where, iso)
        cond = Q()
        if low:
            cond &= Q(GreaterThanOrEqual(text, low))
        if high:
            cond &= Q(LessThanOrEqual(text, high + ("\uffff" if len(high) == 10 else "")))
        return ~cond | Q(IsNull(text, True)) if item.operator == "not_in" else cond
    if item.operator == "empty":
        return compare(text, converted, "text")
    value = iso(item.value, where)
    lookups = {
        "less": LessThan,
        "greater": GreaterThan,
        "less_or_equal": LessThanOrEqual,
        "greater_or_equal": GreaterThanOrEqual,
    }
    if item.operator in lookups:
        return Q(lookups[item.operator](text, value))
    # "equal" on a date means any time that day: the prefix range [value, value + max char]
    q = Q(GreaterThanOrEqual(text, value)) & Q(LessThanOrEqual(text, value + "\uffff"))
    return ~q if item.operator == "not_equal" else q


# -------------------------------------------------------------------------- the list


COLUMNS: dict[str, Column] = {}


def _add(column: Column) -> None:
    COLUMNS[column.id] = column


_add(Column("id", "ID", "Number", field_builder("id", "number"), order=lambda ctx: F("id")))
_add(Column("inner_id", "ID", "Number", field_builder("id", "number"), order=lambda ctx: F("id")))
_add(
    Column(
        "completed_at",
        "Completed",
        "Datetime",
        lambda item, ctx: (
            Cond(
                "task",
                Q(total_annotations=0)
                if query_format.as_bool(item.value, item.where)
                else Q(total_annotations__gt=0),
            )
            if item.operator == "empty"
            else Cond("task", compare(completed_at(ctx), item, "datetime"))
        ),
        annotation=lambda item, ctx: Cond("annotation", compare(F("created_at"), item, "datetime")),
        order=completed_at,
    )
)
for _name, _title in (
    ("total_annotations", "Annotations"),
    ("cancelled_annotations", "Cancelled"),
    ("total_predictions", "Predictions"),
):
    _add(
        Column(
            _name, _title, "Number", field_builder(_name, "number"), order=lambda ctx, n=_name: F(n)
        )
    )
_add(
    Column(
        "annotators",
        "Annotated by",
        "List",
        annotators_builder(),
        annotation=annotators_at_annotation,
        order=first_annotator,
    )
)
_add(
    Column(
        "annotations_ids",
        "Annotation IDs",
        "String",
        annotations_ids_builder,
        order=first_annotation_id,
    )
)
_add(
    Column(
        "annotations_results",
        "Annotation results",
        "String",
        results_builder("annotation"),
        annotation=results_builder("annotation", own=True),
    )
)
_add(
    Column(
        "predictions_score",
        "Prediction score",
        "Number",
        lambda item, ctx: Cond("task", compare(predictions_score(ctx), item, "number")),
        order=predictions_score,
    )
)
# Label Studio's agreement column: Task.agreement, kept by the annotation services.
_add(
    Column(
        "agreement",
        "Agreement",
        "Number",
        field_builder("agreement", "number"),
        order=lambda ctx: F("agreement"),
    )
)
_add(Column("predictions_model_versions", "Model versions", "List", model_versions_builder))
_add(Column("predictions_results", "Prediction results", "String", results_builder("prediction")))
_add(
    Column(
        "ground_truth",
        "Ground truth",
        "Boolean",
        boolean_builder("annotation", lambda ctx: Q(ground_truth=True)),
        annotation=annotation_boolean(lambda ctx: Q(ground_truth=True)),
        order=has_ground_truth,
    )
)
# Benchmark QA copies (``Task.is_benchmark``): left out of every Data Manager query
# unless a filter names this column (``datamanager.selectors.task_queryset``).
_add(
    Column(
        "is_benchmark",
        "Benchmark",
        "Boolean",
        boolean_builder("task", lambda ctx: Q(is_benchmark=True)),
        order=lambda ctx: F("is_benchmark"),
    )
)
_add(
    Column(
        "reviewed",
        "Reviewed",
        "Boolean",
        boolean_builder("task", lambda ctx: Q(any_review(None))),
        annotation=annotation_boolean(lambda ctx: any_review(None, through_task=False)),
        order=lambda ctx: any_review(None),
    )
)
_add(
    Column(
        "reviews_accepted",
        "Accepted",
        "Number",
        review_count_builder(True, through_task=True),
        annotation=review_count_builder(True, through_task=False),
        order=lambda ctx: reviews_count(True),
    )
)
_add(
    Column(
        "reviews_rejected",
        "Rejected",
        "Number",
        review_count_builder(False, through_task=True),
        annotation=review_count_builder(False, through_task=False),
        order=lambda ctx: reviews_count(False),
    )
)
_add(
    Column(
        "avg_lead_time",
        "Lead time",
        "Number",
        lambda item, ctx: Cond("task", compare(avg_lead_time(ctx), item, "number")),
        annotation=lambda item, ctx: Cond("annotation", compare(F("lead_time"), item, "number")),
        order=avg_lead_time,
    )
)
_add(
    Column(
        "created_at",
        "Created",
        "Datetime",
        field_builder("created_at", "datetime"),
        order=lambda ctx: F("created_at"),
    )
)
_add(
    Column(
        "updated_at",
        "Updated",
        "Datetime",
        field_builder("updated_at", "datetime"),
        order=lambda ctx: F("updated_at"),
    )
)


def _nobody_builder(item, ctx):
    """A column LabelHub keeps no value for (a task's ``updated_by``): every task's is
    empty, as its rows show (``[]``)."""
    ops = ("empty", "contains", "not_contains", "equal", "not_equal")
    if item.operator not in ops:
        raise _unsupported(item, ops)
    if item.operator == "empty":
        matches = query_format.as_bool(item.value, f"{item.where}.value")
    else:
        matches = item.operator.startswith("not_")
    return Cond("task", Q() if matches else Q(pk__in=[]))


# Columns Label Studio's filters name that the Data Manager does not offer: they are
# accepted in queries and saved views, and not listed. ``annotations__completed_by`` and
# ``updated_by__active_organization`` are the two relations Label Studio allows by
# default (its DATA_MANAGER_FILTER_ALLOWLIST); the first is the annotators column, and
# the second is empty as ``updated_by`` is.
HIDDEN: dict[str, Column] = {
    "updated_by": Column("updated_by", "Updated by", "List", _nobody_builder),
    "updated_by__active_organization": Column(
        "updated_by__active_organization", "Updated by", "Number", _nobody_builder
    ),
}
HIDDEN["annotations__completed_by"] = Column(
    "annotations__completed_by",
    "Annotated by",
    "List",
    COLUMNS["annotators"].task,
    annotation=COLUMNS["annotators"].annotation,
)

KNOWN = frozenset(COLUMNS) | frozenset(HIDDEN)
ORDERABLE = frozenset(c.id for c in COLUMNS.values() if c.order is not None)
DATA_KEY = json_key_builder("data")
META_KEY = json_key_builder("meta")
# Row values of registered columns: {name: expression}, annotated on each page's rows.
ROW_VALUES: dict[str, Callable[[], Any]] = {}


def column_register(column: Column, *, row_value: Callable[[], Any] | None = None) -> None:
    """Add a column owned by an app above the Data Manager (``io_storages``' storage
    file name), from that app's ``ready()``. ``row_value`` gives the expression the
    task rows carry under the column's id."""
    global KNOWN, ORDERABLE
    COLUMNS[column.id] = column
    KNOWN = KNOWN | {column.id}
    if column.order is not None:
        ORDERABLE = ORDERABLE | {column.id}
    if row_value is not None:
        ROW_VALUES[column.id] = row_value


def builder_for(ref: query_format.ColumnRef, *, level: str) -> Builder:
    """The builder of an allow-listed column at ``level`` ("task" or "annotation")."""
    if ref.name == "data":
        return DATA_KEY(ref.key)
    if ref.name == "meta":
        return META_KEY(ref.key)
    column = COLUMNS.get(ref.name) or HIDDEN[ref.name]
    if level == "annotation" and column.annotation is not None:
        return column.annotation
    return column.task


def order_expressions(ref: query_format.ColumnRef, ctx: ProjectContext) -> list:
    """The sort keys of a column. A data or meta key sorts as Label Studio's does: its
    numbers (numeric strings too) by value first, then the rest as text."""
    if ref.name in ("data", "meta"):
        return [JsonKeyNumber(F(ref.name), ref.key), JsonKeyText(F(ref.name), ref.key)]
    return [COLUMNS[ref.name].order(ctx)]
