"""Data Manager, Verify Stream and Ground Truth Manager pages.

Server-rendered: the table, its filters, sort and keyset pages come from the same
engine as the API (``datamanager.selectors``); small scripts add the "Found" count, column
hiding, selection with bulk actions, the quick view and the dialogs, all through the
API. Annotators get 403 on every page here; reviewers read and verify; admins act.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.http import HttpResponseBadRequest
from django.shortcuts import render

from datamanager import actions as dm_actions
from datamanager import columns as cols
from datamanager import selectors as dm
from datamanager import services as saved_views
from datamanager.ground_truth import ground_truth_stats
from datamanager.sql import time_limited
from exporters import services as export_services
from exporters.api import export_response
from frontend.csp import EDITOR, csp
from frontend.dm_query import form_query, query_from_request, query_params
from frontend.stream_views import label_stream_render
from frontend.views import project_nav, project_page
from importers.sources import accepted_extensions
from labelhub.errors import ApiError
from projects import permissions as perms
from projects.api import user_dict
from projects.label_config import ParsedConfig
from projects.labels import project_label_values

PAGE_SIZES = (10, 30, 50, 100)
# The table's fixed columns: (key, title, LS ordering id).
TABLE_COLUMNS = [
    ("id", "ID", "tasks:id"),
    ("completed_at", "Completed", "tasks:completed_at"),
    ("total_annotations", "Annotations", "tasks:total_annotations"),
    ("cancelled_annotations", "Cancelled", "tasks:cancelled_annotations"),
    ("total_predictions", "Predictions", "tasks:total_predictions"),
    ("predictions_score", "Prediction score", "tasks:predictions_score"),
    ("agreement", "Agreement", "tasks:agreement"),
    ("annotators", "Annotated by", "tasks:annotators"),
    ("reviews", "Review", "tasks:reviews_accepted"),
    ("ground_truth", "GT", "tasks:ground_truth"),
    ("created_at", "Created", "tasks:created_at"),
    ("updated_at", "Updated", "tasks:updated_at"),
]
OPERATOR_TITLES = {
    "contains": "contains",
    "not_contains": "does not contain",
    "equal": "is",
    "not_equal": "is not",
    "regex": "matches regex",
    "less": "<",
    "greater": ">",
    "less_or_equal": "≤",
    "greater_or_equal": "≥",
    "in": "between",
    "not_in": "not between",
    "empty": "is empty",
}
MEDIA_TYPES = {"Image": "image", "Audio": "audio", "AudioPlus": "audio", "Video": "video"}


def data_columns(project) -> list[dict]:
    """Every data key of the project's tasks (``dm.data_key_columns``), with how to show
    it (image, audio, text; nested values as JSON)."""
    return [
        {
            "key": column["key"],
            "type": column["type"] or "Text",
            "media": MEDIA_TYPES.get(column["type"] or ""),
        }
        for column in dm.data_key_columns(project)
    ]


def _positive(value) -> int | None:
    """A page number or row count from the URL (at most 7 digits), or None."""
    return int(value) if value and value.isdigit() and 0 < len(value) <= 7 and int(value) else None


def _row(task, annotators: list[str], data_cols: list[dict], reworked: int = 0) -> dict:
    data = task.data if isinstance(task.data, dict) else {}
    fields = []
    for column in data_cols:
        value = data.get(column["key"])
        text = (
            value
            if isinstance(value, str)
            else json.dumps(value, ensure_ascii=False)
            if value is not None
            else ""
        )
        fields.append(
            {
                "key": column["key"],
                "media": column["media"],
                "value": text,
                "short": text if len(text) <= 80 else text[:77] + "…",
            }
        )
    return {"task": task, "annotators": annotators, "fields": fields, "reworked": reworked}


def _filter_match(raw: dict) -> str:
    filters = raw.get("filters") if isinstance(raw.get("filters"), dict) else {}
    return "annotation" if filters.get("match") == "annotation" else "task"


def _filter_rows(raw: dict) -> tuple[str, list[dict]]:
    filters = raw.get("filters") if isinstance(raw.get("filters"), dict) else {}
    rows = []
    for item in filters.get("items") or []:
        if not isinstance(item, dict) or not isinstance(item.get("filter"), str):
            continue
        value = item.get("value")
        low = high = ""
        if isinstance(value, dict):
            low, high = value.get("min", ""), value.get("max", "")
            value = low
        rows.append(
            {
                "column": item["filter"].removeprefix("filter:tasks:"),
                "operator": item.get("operator"),
                "type": item.get("type") or "String",
                "value": "" if value is None else value,
                "max": high,
            }
        )
    return filters.get("conjunction") or "and", rows


def filter_context(project) -> dict:
    """What the filter panel offers: columns with LS types, operators, members, labels."""
    ctx = cols.ProjectContext.for_project(project)
    User = get_user_model()
    members = list(
        User.objects.filter(memberships__project=project).order_by("email").values("id", "email")
    )
    columns = [
        {"id": c.id, "title": c.title, "type": c.type}
        for c in cols.COLUMNS.values()
        if c.id != "inner_id"
    ]
    for column in data_columns(project):
        columns.append(
            {"id": f"data.{column['key']}", "title": f"data.{column['key']}", "type": "String"}
        )
    groups, free = label_choices(project)
    return {
        "columns": columns,
        "operators": OPERATOR_TITLES,
        "members": members,
        "labels": ctx.labels,
        "label_groups": groups,
        "free_labels": free,
    }


# Controls whose results hold text the config does not list: typed text (the results
# filter's "equal" finds it), numbers, dates.
FREE_TEXT_CONTROLS = {"TextArea", "Number", "DateTime"}


def label_choices(project) -> tuple[list[dict], bool]:
    """The results filter's pick list: for each label-like control of the config
    (Choices, Labels, RectangleLabels..., Taxonomy with its nested choices and the
    project's linked custom labels), its name, type and labels, each ``{value, path}``
    (``path``: where it sits in a Taxonomy or nested Choices, for the option's text).
    And whether free text makes sense too: a control whose labels come from the task
    data (``value="$options"``), or one whose results hold typed text."""
    try:
        parsed = ParsedConfig.from_dict(project.parsed_config or {})
    except (ValueError, KeyError):
        return [], True
    controls = parsed.controls
    custom: list[list[str]] = []
    if any(c["type"] == "Taxonomy" for c in controls.values()):
        for value in project_label_values(project=project):
            path = [value] if isinstance(value, str) else value
            if isinstance(path, list) and path and all(isinstance(v, str) for v in path):
                custom.append(path)
    groups = []
    free = False
    for name, control in controls.items():
        if control.get("dynamic") or control["type"] in FREE_TEXT_CONTROLS:
            free = True
        # ``labels`` keeps the config's order (``labels_attrs`` is a dict, whose keys
        # PostgreSQL's jsonb sorts); an alias names the label there, its value is stored
        attrs = control.get("labels_attrs", {})
        paths = control.get("paths") or [
            [attrs.get(key, {}).get("value") or key] for key in control.get("labels", [])
        ]
        if control["type"] == "Taxonomy":
            paths = [*paths, *custom]
        labels, seen = [], set()
        for path in paths:
            if path and path[-1] and tuple(path) not in seen:
                seen.add(tuple(path))
                labels.append({"value": path[-1], "path": path[:-1]})
        if labels:
            groups.append({"control": name, "type": control["type"], "labels": labels})
    # the config's order (a jsonb parsed_config comes back with its keys sorted)
    config = project.label_config or ""
    groups.sort(key=lambda g: config.find(f'name="{g["control"]}"') % (len(config) + 1))
    return groups, free or not groups


def _headers(request, data_cols: list[dict], order: str) -> list[dict]:
    """Table headers with their sort links: a click sorts by the column, a second click
    reverses it."""
    params = request.GET.copy()
    for name in ("after", "before", "page", "last", "order"):
        params.pop(name, None)
    # the data right after the id, as it is what people scan for
    data = [(f"data.{c['key']}", c["key"], f"tasks:data.{c['key']}") for c in data_cols]
    columns = [TABLE_COLUMNS[0], *data, *TABLE_COLUMNS[1:]]
    headers = []
    for key, title, sort in columns:
        direction = "asc" if order == sort else "desc" if order == "-" + sort else ""
        params["order"] = "-" + sort if direction == "asc" else sort
        headers.append(
            {
                "key": key,
                "title": title,
                "url": "?" + params.urlencode(),
                "dir": direction,
                "data": key.startswith("data."),
            }
        )
    return headers


@csp(EDITOR)
@project_page(perms.DATA_MANAGER)
def data_manager(request, project):
    """``/projects/{id}/data``: the full table or the quick view, one keyset page."""
    raw, view = query_from_request(request, project)
    mode = "quick" if request.GET.get("mode") == "quick" else "full"
    size = int(request.GET["size"]) if request.GET.get("size", "").isdigit() else 30
    size = size if size in PAGE_SIZES else 30
    params = request.GET
    after, before = params.get("after"), params.get("before")
    number = _positive(params.get("page")) or 1
    last = _positive(params.get("last"))
    error, tasks, window = None, [], None
    benchmarks = {"count": 0, "shown": False}
    try:
        query = dm.parse_query(raw)
        benchmarks["shown"] = dm.shows_benchmarks(query)
        if not benchmarks["shown"]:
            benchmarks["count"] = dm.benchmark_count(project=project)
        window = dm.tasks_window(
            project=project,
            query=query,
            after=after or None,
            before=before,
            page=number,
            size=size,
            last=last,
        )
        tasks = window.rows
    except ApiError as exc:
        error = str(exc.detail)
    data_cols = data_columns(project)
    annotators = dm.annotators_of([t.pk for t in tasks])
    emails = dict(
        get_user_model()
        .objects.filter(pk__in={u for ids in annotators.values() for u in ids})
        .values_list("pk", "email")
    )
    reworked = dm.reworked_of([t.pk for t in tasks])
    rows = [
        _row(
            t,
            [emails.get(u, f"user {u}") for u in annotators.get(t.pk, [])],
            data_cols,
            reworked.get(t.pk, 0),
        )
        for t in tasks
    ]
    scores = [t.prediction_score for t in tasks if t.prediction_score is not None]
    stats = {
        "tasks": len(tasks),
        "annotations": sum(t.total_annotations for t in tasks),
        "predictions": sum(t.total_predictions for t in tasks),
        "mean_score": sum(scores) / len(scores) if scores else None,
    }
    ordering = raw.get("ordering") if isinstance(raw.get("ordering"), list) else []
    order = ordering[0] if ordering and isinstance(ordering[0], str) else ""
    conjunction, filter_rows = _filter_rows(raw)
    can_manage = perms.can(request.user, project, perms.MANAGE)
    actions = (
        [a.describe() for a in sorted(dm_actions.ACTIONS.values(), key=lambda a: a.order)]
        if can_manage
        else []
    )
    here = request.GET.copy()
    for name in ("after", "before", "page", "last"):
        here.pop(name, None)
    reset = request.GET.copy()
    for name in (
        "f",
        "op",
        "v",
        "v2",
        "t",
        "conj",
        "within",
        "query",
        "after",
        "before",
        "page",
        "last",
        "view",
    ):
        reset.pop(name, None)
    mode_params = {}
    for name in ("full", "quick"):
        params = request.GET.copy()
        params["mode"] = name
        mode_params[name] = params.urlencode()
    return render(
        request,
        "frontend/dm/data_manager.html",
        {
            "project": project,
            "mode": mode,
            "rows": rows,
            "stats": stats,
            "benchmarks": benchmarks,
            "error": error,
            "next_after": window.next_after if window else None,
            "previous_before": window.previous_before if window else None,
            "page_number": number,
            "size": size,
            "sizes": PAGE_SIZES,
            "order": order,
            "headers": _headers(request, data_cols, order),
            "data_columns": data_cols,
            "filter_rows": filter_rows,
            "conjunction": conjunction,
            "filter_match": _filter_match(raw),
            "filter_options": filter_context(project),
            "views": saved_views.views_for(project=project),
            "view": view,
            "can_manage": can_manage,
            "can_review": perms.can(request.user, project, perms.REVIEW),
            "can_annotate": perms.can(request.user, project, perms.ANNOTATE),
            "actions": actions,
            "import_accept": accepted_extensions(),
            "export_formats": export_services.export_formats(project=project) if can_manage else [],
            "here": here.urlencode(),
            # the editor's Previous and Next follow this page's filter and order
            "task_query": query_params(request.GET),
            "reset_params": reset.urlencode(),
            "mode_params": mode_params,
            "page_data": {
                "project": project.pk,
                "query": {k: v for k, v in raw.items() if k in ("filters", "ordering")}
                if not error
                else {},
                "mode": mode,
                "canManage": can_manage,
                "config": project.label_config,
                "user": user_dict(request.user),
                "viewId": view.pk if view else None,
                "page": number,
                "size": size,
                "here": here.urlencode(),
                "taskQuery": query_params(request.GET),
                "quickUrl": "?" + mode_params["quick"],
            },
            **project_nav(request.user, project, "data"),
        },
    )


@csp(EDITOR)
@project_page(perms.REVIEW)
def verify_page(request, project):
    """``/projects/{id}/verify``: completions one at a time, read-only, thumbs up/down."""
    return render(
        request,
        "frontend/dm/verify.html",
        {
            "project": project,
            "can_manage": perms.can(request.user, project, perms.MANAGE),
            "page_data": {
                "project": project.pk,
                "config": project.label_config,
                "user": user_dict(request.user),
            },
            **project_nav(request.user, project, "verify"),
        },
    )


@csp()
@project_page(perms.MANAGE)
def ground_truth_page(request, project):
    """The Ground Truth Manager: a completion filter, a percentage, and reset."""
    raw = form_query(request.GET)
    conjunction, filter_rows = _filter_rows(raw)
    return render(
        request,
        "frontend/dm/ground_truth.html",
        {
            "project": project,
            "stats": ground_truth_stats(project=project),
            "filter_rows": filter_rows,
            "conjunction": conjunction,
            "filter_options": filter_context(project),
            "page_data": {"project": project.pk, "filters": raw.get("filters") or None},
            **project_nav(request.user, project, "data"),
        },
    )


@project_page(perms.MANAGE)
def export_download(request, project):
    """The export dialog's target: the same options and writers as the export API."""
    try:
        options = export_services.export_options_parse(project=project, params=request.GET)
        stream = export_services.export_stream(project=project, options=options)
    except ApiError as exc:
        return HttpResponseBadRequest(str(exc.detail))
    return export_response(project=project, options=options, stream=stream)


@csp(EDITOR)
@project_page(perms.DATA_MANAGER)
def label_displayed_page(request, project):
    """``/projects/{id}/data/label?<the Data Manager's parameters>``: "Label tasks as
    displayed" (Label Studio's button): the Label Stream over the tasks the Data Manager
    shows with these filters, tab and order, in that order. The next tasks come from
    ``GET /api/dm/next/`` with the same query. Admins (who use the Data Manager and may
    annotate)."""
    if not perms.can(request.user, project, perms.ANNOTATE):
        return render(
            request,
            "frontend/error.html",
            {"status": 403, "message": "Your role in this project does not allow labeling."},
            status=403,
        )
    raw, _view = query_from_request(request, project)
    params = request.GET.copy()
    for name in ("after", "before", "page", "last", "mode", "size"):
        params.pop(name, None)
    query = json.dumps(raw, separators=(",", ":"))
    try:
        parsed = dm.parse_query(raw)
        candidates = dm.label_candidates(project=project, query=parsed)
        # The first task is found here, under the Data Manager's regex time limit (the
        # next ones come from /api/dm/next/, under the same limit).
        with time_limited(parsed.has_regex):
            return label_stream_render(
                request,
                project,
                candidates=candidates,
                next_url="/api/dm/next/?" + urlencode({"project": project.pk, "query": query}),
                dm_url=f"/projects/{project.pk}/data?{params.urlencode()}",
            )
    except ApiError as exc:
        return render(
            request, "frontend/error.html", {"status": 400, "message": exc.detail}, status=400
        )
