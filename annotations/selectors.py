"""Reads of tasks with what they nest (annotations, reviews, predictions)."""

import json
from collections.abc import Callable, Collection

from django.db import connection
from django.db.models import Prefetch, QuerySet

from annotations.models import Annotation, AnnotationDraft, LabelStreamVisit, Prediction
from labelhub import registrations
from projects.label_config import ParsedConfig
from projects.label_config_tags import RESULT_SHAPES
from projects.permissions import READ_ALL_ANNOTATIONS, VIEW, can, may_see_predictions
from projects.results import config_changed_names, config_orphans
from projects.selectors import object_for_user
from projects.services import label_config_parse
from tasks.models import Task

ORDERINGS = {
    "id": ("id",),
    "-id": ("-id",),
    # completed_at: when the task was last annotated; updated_at moves with each annotation.
    "completed_at": ("updated_at", "id"),
    "-completed_at": ("-updated_at", "-id"),
}


def task_queryset(*, project, order: str = "id") -> QuerySet:
    return Task.objects.filter(project=project).order_by(*ORDERINGS.get(order, ("id",)))


def with_nested(queryset: QuerySet, *, user, project) -> QuerySet:
    """Prefetch what a full task nests; annotators see only their own annotations."""
    annotations = (
        Annotation.objects.order_by("id").select_related("completed_by").prefetch_related("reviews")
    )
    if not can(user, project, READ_ALL_ANNOTATIONS):
        annotations = annotations.filter(completed_by=user)
    predictions = Prediction.objects.order_by("id")
    if not may_see_predictions(user, project):
        predictions = predictions.none()
    return queryset.prefetch_related(
        Prefetch("annotations", queryset=annotations),
        Prefetch("predictions", queryset=predictions),
    )


# Result types whose value lists the labels chosen, and the key they sit under
# (projects.label_config_tags.RESULT_SHAPES' label_key). Taxonomy (and nested Choices)
# hold paths, lists of labels: each label on a path counts.
_LABEL_KEYS = {
    rtype: shape.label_key for rtype, shape in RESULT_SHAPES.items() if shape.label_key is not None
}


def _usage_sql(vendor: str, probes: int) -> str:
    """One statement, two GROUP BYs: per (source, from_name, to_name, type) with a NULL
    label, then per label: strings, numbers as text (``"choices": [1]``), and each label
    on a path (Taxonomy, nested Choices). ``count(DISTINCT row)`` counts annotations (or
    predictions), not regions. With ``probes``, only rows whose result holds one of that many
    ``from_name`` values are read (on PostgreSQL ``result @> '[{"from_name": ...}]'``,
    which the result GIN index answers)."""
    label_key = "CASE ty " + " ".join(
        f"WHEN '{rtype}' THEN '{key}'" for rtype, key in _LABEL_KEYS.items()
    )
    label_types = ", ".join(f"'{rtype}'" for rtype in _LABEL_KEYS)
    tables = [
        ("annotations", Annotation._meta.db_table),
        ("predictions", Prediction._meta.db_table),
        ("drafts", AnnotationDraft._meta.db_table),
    ]
    if vendor == "postgresql":
        probe = " AND (" + " OR ".join(["x.result @> %s::jsonb"] * probes) + ")" if probes else ""
        items = " UNION ALL ".join(
            f"SELECT '{source}' AS source, x.id AS row_id, r.item FROM {table} x "
            f"CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(x.result) = "
            f"'array' THEN x.result ELSE '[]'::jsonb END) AS r(item) WHERE x.project_id = %s"
            f"{probe}"
            for source, table in tables
        )
        typed = (
            "SELECT source, row_id, item, item->>'from_name' AS f, item->>'to_name' AS t, "
            "lower(item->>'type') AS ty FROM items WHERE jsonb_typeof(item) = 'object'"
        )
        labels = (
            f"CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(item->'value'->"
            f"({label_key} END)) = 'array' THEN item->'value'->({label_key} END) ELSE "
            "'[]'::jsonb END) AS l0(el) CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN "
            "jsonb_typeof(l0.el) = 'array' THEN l0.el ELSE jsonb_build_array(l0.el) END) "
            "AS l(label) WHERE jsonb_typeof(l.label) IN ('string', 'number')"
        )
        label_text = "l.label #>> '{}'"
    else:
        items = " UNION ALL ".join(
            f"SELECT '{source}' AS source, x.id AS row_id, r.value AS item FROM {table} x, "
            f"json_each(CASE WHEN json_type(x.result) = 'array' THEN x.result ELSE '[]' END)"
            f" AS r WHERE x.project_id = %s"
            for source, table in tables
        )
        typed = (
            "SELECT source, row_id, item, json_extract(item, '$.from_name') AS f, "
            "json_extract(item, '$.to_name') AS t, lower(json_extract(item, '$.type')) AS ty "
            "FROM items WHERE json_type(item) = 'object'"
        )
        labels = (
            f"JOIN json_each(typed.item, '$.value.' || ({label_key} END)) AS l0 "
            "JOIN json_each(CASE WHEN l0.type = 'array' THEN l0.value ELSE json_array(l0.value) "
            "END) AS l WHERE l.type IN ('text', 'integer', 'real')"
        )
        label_text = "CAST(l.value AS TEXT)"
    if probes:  # only the named controls' items (SQLite: no index, the scan stays)
        typed = f"SELECT * FROM ({typed}) AS x WHERE f IN ({', '.join(['%s'] * probes)})"
    return (
        f"WITH items AS ({items}), typed AS ({typed}) "
        "SELECT source, f, t, ty, NULL, count(DISTINCT row_id) FROM typed "
        "WHERE ty <> 'relation' GROUP BY source, f, t, ty "
        "UNION ALL "
        f"SELECT source, f, t, ty, {label_text}, count(DISTINCT row_id) FROM typed {labels} "
        f"AND ty IN ({label_types}) GROUP BY source, f, t, ty, {label_text}"
    )


def result_usage(*, project_id: int, from_names: Collection[str] | None = None) -> list[dict]:
    """What a project's stored annotations, predictions and drafts use: one row per
    (``source``, ``from_name``, ``to_name``, ``type``, ``label``) with ``count``, the
    number of annotations (``source`` "annotations"), predictions or drafts holding it;
    ``label`` None is the row for the control itself. Drafts count as Label Studio counts
    them (its ``created_labels_drafts``): a config change must not orphan a user's
    unfinished work either.

    One GROUP BY in the database over the unpacked result lists (PostgreSQL
    ``jsonb_array_elements``, SQLite ``json_each``): the answer has a few rows per control
    and label, whatever the number of annotations, and no result list reaches Python.
    ``from_names`` limits it to those controls' items (and, on PostgreSQL, to the rows
    the result GIN index finds holding them).

    Measured with bench/config_orphans_bench.py (PostgreSQL, 200k annotations and 20k
    predictions, a loaded 2-core machine, medians of 5): renaming the control every row
    uses 2.7 s (it reads every row), dropping a label of a control one row in ten uses
    0.48 s (the GIN index finds that tenth), adding a choice 0.006 s (no row is read).
    """
    names = sorted(from_names) if from_names is not None else []
    vendor = connection.vendor
    params: list = []
    for _ in range(3):  # annotations, predictions, then drafts
        params.append(project_id)
        if vendor == "postgresql":
            params += [json.dumps([{"from_name": name}]) for name in names]
    params += names
    with connection.cursor() as cursor:
        cursor.execute(_usage_sql(vendor, len(names)), params)
        rows = cursor.fetchall()
    keys = ("source", "from_name", "to_name", "type", "label", "count")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def label_config_orphans(*, project, label_config: str) -> list[dict]:
    """``projects.results.config_orphans`` of changing ``project``'s config to
    ``label_config`` (an empty list when nothing stored would lose its control). Raises
    the 400 of an unparseable config. Costs one GROUP BY over the changed controls'
    results, and none when no control changed or nothing is stored."""
    new = ParsedConfig.from_dict(label_config_parse(label_config))
    if label_config == project.label_config:
        return []
    stored = (
        Annotation.objects.filter(project=project).exists()
        or Prediction.objects.filter(project=project).exists()
        or AnnotationDraft.objects.filter(project=project).exists()
    )
    if not stored:
        return []
    try:
        old = ParsedConfig.from_dict(project.parsed_config)
    except ValueError:  # cached by another parser version
        old = ParsedConfig.from_dict(label_config_parse(project.label_config, editor_check=False))
    changed = config_changed_names(old, new)
    if changed is not None and not changed:
        return []  # no control that stored results could use lost anything
    return config_orphans(old, new, result_usage(project_id=project.pk, from_names=changed))


def user_annotations(*, project, user, before: int | None = None, limit: int = 50) -> list[dict]:
    """``user``'s own annotations (skips included) in ``project``, newest first, for the
    Label Stream's "My annotations": at most ``limit``, with ids below ``before``
    (keyset paging). Each row names its task and a short preview of the task's text.

    The filter walks the (project, completed_by, ...) index; one user's annotations in
    one project are a day's work, so the sort by id is small."""
    rows = Annotation.objects.filter(project=project, completed_by=user)
    if before is not None:
        rows = rows.filter(pk__lt=before)
    rows = rows.select_related("task").order_by("-id")[:limit]
    return [
        {
            "id": row.pk,
            "task": row.task_id,
            "was_cancelled": row.was_cancelled,
            "result_count": len(row.result or []),
            "labels": result_labels(row.result),
            "created_at": row.created_at,
            "updated_at": row.updated_at,
            "preview": task_preview(row.task.data),
        }
        for row in rows
    ]


def result_labels(result, limit: int = 6) -> list[str]:
    """What an annotation says, for a list: its choices, labels and texts, in result
    order, each once, at most ``limit`` (the "My annotations" row shows them)."""
    seen: list[str] = []
    for item in result if isinstance(result, list) else []:
        value = item.get("value") if isinstance(item, dict) else None
        if not isinstance(value, dict):
            continue
        for entries in value.values():
            if not isinstance(entries, list):
                continue
            for entry in entries:
                for atom in entry if isinstance(entry, list) else (entry,):
                    if isinstance(atom, str) and atom and atom not in seen:
                        seen.append(atom[:60])
                    if len(seen) >= limit:
                        return seen
    return seen


def task_preview(data: dict, length: int = 80) -> str:
    """The first text value of a task's data, cut to ``length`` characters."""
    for value in (data or {}).values():
        if isinstance(value, str) and value:
            return value if len(value) <= length else value[: length - 1] + "…"
    return ""


# Apps to the right of ``annotations`` (ml) that know model versions of their own (an ML
# backend's) register a check here in their ``AppConfig.ready``.
ModelVersionSource = Callable[..., bool]  # (*, project, version) -> bool
_model_version_sources: list[ModelVersionSource] = []


def model_version_source_register(source: ModelVersionSource) -> None:
    if source not in _model_version_sources:
        _model_version_sources.append(source)


def model_version_known(*, project, version: str) -> bool:
    """Whether ``version`` names predictions stored in ``project`` or a model a
    registered source (an ML backend) knows: what a project's ``model_version`` may be
    set to through the API, as in Label Studio."""
    if Prediction.objects.filter(project=project, model_version=version).exists():
        return True
    registrations.load()
    return any(source(project=project, version=version) for source in _model_version_sources)


# --------------------------------------------------------------------- drafts


def task_drafts(*, task: Task, user, annotation: Annotation | None = None) -> QuerySet:
    """The drafts of a task (or of one of its annotations) the user may read: their own,
    and everyone's for those who read all annotations (admins, reviewers)."""
    drafts = AnnotationDraft.objects.filter(task=task).select_related("user").order_by("id")
    if annotation is not None:
        drafts = drafts.filter(annotation=annotation)
    if not can(user, task.project_id, READ_ALL_ANNOTATIONS):
        drafts = drafts.filter(user=user)
    return drafts


def own_drafts(*, task: Task, user) -> list[AnnotationDraft]:
    """The user's own drafts of a task: the task's ``drafts`` field (Label Studio shows
    each user only theirs there, admins included), which the editor restores."""
    drafts = list(AnnotationDraft.objects.filter(task=task, user=user).order_by("id"))
    for draft in drafts:
        draft.user = user  # no join for the author
    return drafts


def draft_for_user(*, user, pk, change: bool = False) -> AnnotationDraft:
    """A draft the user may read (its author; admins and reviewers of its project), or,
    with ``change``, change or delete (its author only). The rule of
    ``object_for_user``: 404 for one they may not read, 403 for one they read and, with
    ``change``, may not change (an admin's or reviewer's, on another user's draft)."""

    def visible(who, draft) -> bool:
        return draft.user_id == who.pk or can(who, draft.project_id, READ_ALL_ANNOTATIONS)

    return object_for_user(
        AnnotationDraft,
        user=user,
        pk=pk,
        capability=VIEW,
        queryset=AnnotationDraft.objects.select_related("user", "task"),
        visible=visible,
        changeable=(lambda who, draft: draft.user_id == who.pk) if change else None,
        refusal="Only a draft's author may change or delete it.",
    )


# ------------------------------------------------------------ Label Stream history


def stream_history(*, project, user) -> list[dict]:
    """The user's Label Stream history in the project, oldest first: Label Studio's
    ``[{"taskId", "annotationId"}]`` (``annotationId`` null until they annotate it, and
    again after the annotation is deleted; a deleted task leaves the history)."""
    return [
        {"taskId": task_id, "annotationId": annotation_id}
        for task_id, annotation_id in LabelStreamVisit.objects.filter(project=project, user=user)
        .order_by("id")
        .values_list("task_id", "annotation_id")
    ]


# --------------------------------------------------------------------- agreement


def _count(bucket: dict, key) -> None:
    if isinstance(key, str | int | float) and not isinstance(key, bool):
        bucket[key] = bucket.get(key, 0) + 1


def _distribution_add(distributions: dict, result) -> None:
    """Count one result list's labels (and numbers) per control, as Label Studio's
    task agreement endpoint does."""
    if not isinstance(result, list):
        return
    for item in result:
        if not isinstance(item, dict):
            continue
        rtype = str(item.get("type") or "")
        raw_value = item.get("value")
        value: dict = raw_value if isinstance(raw_value, dict) else {}
        row = distributions.setdefault(
            str(item.get("from_name") or ""), {"type": rtype, "labels": {}, "values": []}
        )
        if rtype.endswith("labels") or rtype == "choices":
            chosen = value.get(rtype if rtype.endswith("labels") else "choices")
            for label in chosen if isinstance(chosen, list) else []:
                _count(row["labels"], label)
        elif rtype in ("rating", "number"):
            number = value.get(rtype)
            if isinstance(number, int | float) and not isinstance(number, bool):
                row["values"].append(number)
        elif rtype == "taxonomy":
            paths = value.get("taxonomy")
            for path in paths if isinstance(paths, list) else []:
                if isinstance(path, list) and path:
                    _count(row["labels"], path[-1])
        elif rtype == "pairwise":
            _count(row["labels"], value.get("selected"))


def task_agreement(*, task: Task, user) -> dict:
    """``GET /api/tasks/{id}/agreement/``: Label Studio's label distribution of a task
    (``total_annotations``: its non-cancelled annotations; ``distributions``: per
    control, label counts over those annotations and the task's predictions, and for
    numbers their ``average`` and ``count``), plus ``agreement``, the task's score that
    LabelHub keeps (``annotations.quality``).

    Only what the user may see is counted: an annotator counts only their own
    annotations and sees no agreement score (it would tell them what others chose);
    predictions count for those who may see them."""
    see_all = can(user, task.project_id, READ_ALL_ANNOTATIONS)
    annotations = Annotation.objects.filter(task=task, was_cancelled=False)
    if not see_all:
        annotations = annotations.filter(completed_by=user)
    results = list(annotations.values_list("result", flat=True))
    distributions: dict = {}
    for result in results:
        _distribution_add(distributions, result)
    if may_see_predictions(user, task.project):
        for result in Prediction.objects.filter(task=task).values_list("result", flat=True):
            _distribution_add(distributions, result)
    for row in distributions.values():
        values = row.pop("values")
        if values:
            row["average"] = sum(values) / len(values)
            row["count"] = len(values)
    return {
        "total_annotations": len(results),
        "distributions": distributions,
        "agreement": task.agreement if see_all else None,
    }
