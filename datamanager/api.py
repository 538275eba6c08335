"""Data Manager and Ground Truth Manager APIs.

- ``/api/dm/views/`` (+ ``<id>/``, ``reset/``): saved tabs, Label Studio's shape;
- ``/api/dm/actions/``: ``GET ?project=`` lists, ``POST ?id=&project=`` runs one;
- ``/api/dm/columns/?project=`` and ``/api/dm/count/?project=&query=``;
- ``/api/dm/`` (the API root, as Label Studio's router answers it), ``/api/dm/project/``
  (the project with the Data Manager's flags), ``/api/dm/views/order/`` and
  ``/api/dm/actions/<id>/form/``;
- ``/api/projects/<id>/ground-truth/sample``, ``.../preview`` and ``.../reset``;
- ``/api/tasks/?project=``: the task list, filtered and ordered by the Data Manager
  engine (``POST`` creates a task).

Reviewers read (views, columns, count); only admins change anything.
"""

from __future__ import annotations

from django.utils.dateparse import parse_datetime
from django.utils.timesince import timesince
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations import services as annotation_services
from annotations import stream, visibility
from annotations.models import Annotation
from annotations.representations import draft_dict, nested_task_dict
from annotations.selectors import with_nested
from datamanager import actions as dm_actions
from datamanager import columns as cols
from datamanager import query as query_format
from datamanager import selectors as dm
from datamanager import services as saved_views
from datamanager.ground_truth import ground_truth_preview, ground_truth_reset, ground_truth_sample
from datamanager.models import View
from datamanager.sql import time_limited
from labelhub.errors import ApiError
from labelhub.pagination import page_params
from labelhub.params import is_false, is_true
from projects import permissions as perms
from projects.api import project_dict_for
from projects.selectors import object_for_user
from tasks.representations import task_dict


def project_param(request, capability: str = perms.DATA_MANAGER):
    project_id = request.query_params.get("project")
    if project_id in (None, "") and isinstance(request.data, dict):
        project_id = request.data.get("project")
    if project_id in (None, ""):
        raise ApiError("project is required", [{"field": "project", "message": "required"}])
    return perms.project_for(request.user, project_id, capability)


def request_query(request, project, body: dict | None = None) -> query_format.Query:
    """The query of a request: ``query`` (JSON) in the URL, a body with ``filters``,
    ``ordering`` and ``selectedItems``, and a saved view (``view`` or LS's ``tabID``)
    for what those leave out."""
    raw = query_format.load(request.query_params.get("query"))
    if body:
        raw = {**raw, **{k: body[k] for k in ("filters", "ordering", "selectedItems") if k in body}}
    view_id = request.query_params.get("view") or request.query_params.get("tabID")
    if view_id in (None, "") and body:
        view_id = body.get("view") or body.get("tabID")
    if view_id not in (None, ""):
        stored = saved_views.view_query(
            object_for_user(View, user=request.user, pk=view_id, project=project)
        )
        raw = {**stored, **raw}
    return dm.parse_query(raw)


def row_extras(task, annotators: list[int] | None = None) -> dict:
    """The Data Manager columns a task item carries besides its own fields."""
    completed = getattr(task, "completed_at", None)
    return {
        "reviews_accepted": getattr(task, "reviews_accepted", 0),
        "reviews_rejected": getattr(task, "reviews_rejected", 0),
        "completed_at": completed.isoformat().replace("+00:00", "Z") if completed else None,
        "predictions_score": task.prediction_score,
        "agreement": task.agreement,
        "ground_truth": bool(getattr(task, "ground_truth", False)),
        **({"annotators": annotators} if annotators is not None else {}),
    }


def _basename(key: str | None) -> str | None:
    return key.rsplit("/", 1)[-1] if key else None


def ls_row_fields(task, item: dict, summary: dict, *, full: bool) -> dict:
    """What Label Studio's Data Manager task row adds (its ``DataManagerTaskSerializer``):
    the annotations' and predictions' ids, results and model versions as strings, the
    caller's drafts, the upload's and the storage's file names, and the fields LabelHub
    keeps nothing for (comments: empty). With ``fields=all`` the nested rows carry Label Studio's
    ``created_username`` ("First Last email, id") and ``created_ago``, and predictions
    its empty ``cluster``, ``neighbors`` and ``mislabeling``."""
    drafts = [draft_dict(d) for d in summary["drafts"]]
    if full:
        annotations, predictions = item.get("annotations", []), item.get("predictions", [])
        summary = {
            "ids": [a["id"] for a in annotations],
            "annotations": [a["result"] for a in annotations],
            "predictions": [p["result"] for p in predictions],
            "versions": [p["model_version"] for p in predictions],
        }
        users = {a.pk: a.completed_by for a in task.annotations.all()}
        for annotation in annotations:
            user = users.get(annotation["id"])
            if user is not None:
                name = " ".join(n for n in (user.first_name, user.last_name) if n)
                annotation["created_username"] = f"{name} {user.email}, {user.pk}"
            annotation["created_ago"] = timesince(parse_datetime(annotation["created_at"]))
        for prediction in predictions:
            prediction["created_ago"] = timesince(parse_datetime(prediction["created_at"]))
            prediction.update(cluster=None, neighbors=None, mislabeling=0.0)
    return {
        **dm.page_summary_fields(summary),
        "drafts": drafts,
        "inner_id": task.pk,
        # Label Studio names the upload only when the row asks for every field.
        "file_upload": _basename(getattr(task, "file_upload", None)) if full else None,
        "storage_filename": getattr(task, "storage_filename", None),
        "updated_by": [],
        "comment_count": 0,
        "unresolved_comment_count": 0,
        "last_comment_updated_at": None,
        "comment_authors": [],
    }


class ViewIn(serializers.Serializer):
    project = serializers.IntegerField(required=False)
    data = serializers.JSONField(required=False, default=dict)


class ViewListApi(APIView):
    def get(self, request):
        project = project_param(request)
        return Response([saved_views.view_dict(v) for v in saved_views.views_for(project=project)])

    def post(self, request):
        project = project_param(request, perms.MANAGE)
        data = ViewIn(data=request.data)
        data.is_valid(raise_exception=True)
        view = saved_views.view_create(
            project=project, user=request.user, data=data.validated_data["data"]
        )
        return Response(saved_views.view_dict(view), status=status.HTTP_201_CREATED)


class DmRootApi(APIView):
    """``GET /api/dm/``: Label Studio's router root, the links under it."""

    def get(self, request):
        return Response({"views": request.build_absolute_uri("/api/dm/views/")})


class ProjectStateApi(APIView):
    """``GET /api/dm/project/?project=ID``: the project as ``/api/projects/{id}/`` gives
    it, with the flags and counts the Data Manager reads (Label Studio's ``ProjectStateAPI``).
    The ``can_*`` flags say what this user's role allows. As in Label Studio, the
    project's own counters are null here (its serializer reads them from annotations
    this view does not make); ``task_count`` and ``annotation_count`` are the counts."""

    COUNTERS = (
        "task_number",
        "num_tasks_with_annotations",
        "useful_annotation_number",
        "ground_truth_number",
        "skipped_annotations_number",
        "total_annotations_number",
        "total_predictions_number",
    )

    # Label Studio's project fields for features LabelHub does not have, at the values
    # that mean "off" there (its DataManager reads them).
    LS_FIELDS = {
        "show_instruction": False,
        "show_annotation_history": False,
        "show_ground_truth_first": False,
        "show_overlap_first": False,
        "overlap_cohort_percentage": 100,
        "annotator_evaluation_enabled": False,
        "evaluate_predictions_automatically": False,
        "task_data_login": None,
        "task_data_password": None,
    }

    def get(self, request):
        project = project_param(request, perms.VIEW)
        manage = perms.can(request.user, project, perms.MANAGE)
        body = project_dict_for(request.user, project)
        return Response(
            {
                **self.LS_FIELDS,
                **body,
                "show_collab_predictions": project.show_predictions_to_annotators,
                # Label Studio's default weights: every control and label counts 1.
                "control_weights": {
                    name: {
                        "overall": 1.0,
                        "type": control["type"],
                        "labels": dict.fromkeys(control.get("labels") or [], 1.0),
                    }
                    for name, control in body["parsed_label_config"].items()
                },
                **dict.fromkeys(self.COUNTERS),
                "can_delete_tasks": manage,
                "can_manage_annotations": manage,
                "can_manage_tasks": manage,
                "source_syncing": False,
                "target_syncing": False,
                "task_count": project.task_number,
                "annotation_count": Annotation.objects.filter(project=project).count(),
                "config_has_control_tags": bool(project.parsed_config.get("controls")),
            }
        )


class ViewOrderIn(serializers.Serializer):
    project = serializers.IntegerField()
    ids = serializers.ListField(
        child=serializers.IntegerField(), allow_empty=False, max_length=10000
    )


class ViewOrderApi(APIView):
    """``POST /api/dm/views/order/`` ``{"project", "ids"}``: the tabs' order, as listed."""

    def post(self, request):
        data = ViewOrderIn(data=request.data)
        data.is_valid(raise_exception=True)
        project = perms.project_for(request.user, data.validated_data["project"], perms.MANAGE)
        saved_views.views_order(project=project, ids=data.validated_data["ids"])
        return Response(status=status.HTTP_200_OK)


class ViewResetApi(APIView):
    def delete(self, request):
        project = project_param(request, perms.MANAGE)
        saved_views.views_reset(project=project)
        return Response(status=status.HTTP_204_NO_CONTENT)

    post = delete


class ViewDetailApi(APIView):
    def get(self, request, pk):
        return Response(
            saved_views.view_dict(
                object_for_user(View, user=request.user, pk=pk, capability=perms.DATA_MANAGER)
            )
        )

    def patch(self, request, pk, partial: bool = True):
        view = object_for_user(View, user=request.user, pk=pk, capability=perms.MANAGE)
        data = ViewIn(data=request.data)
        data.is_valid(raise_exception=True)
        view = saved_views.view_update(view=view, data=data.validated_data["data"], partial=partial)
        return Response(saved_views.view_dict(view))

    def put(self, request, pk):
        return self.patch(request, pk, partial=False)

    def delete(self, request, pk):
        saved_views.view_delete(
            view=object_for_user(View, user=request.user, pk=pk, capability=perms.MANAGE)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class LabelNextApi(APIView):
    """``GET /api/dm/next/?project=ID`` with the Data Manager's ``query``, ``view`` (or
    ``tabID``): the caller's next task among the tasks the Data Manager shows, in its
    order ("Label tasks as displayed", as in Label Studio), locked for them; 404 ``No
    more tasks``. For those who use the Data Manager and may annotate (admins)."""

    def get(self, request):
        project = project_param(request)
        perms.check(request.user, project, perms.ANNOTATE)
        query = request_query(request, project)
        with time_limited(query.has_regex):
            task = stream.next_task(
                project=project,
                user=request.user,
                candidates=dm.label_candidates(project=project, query=query),
            )
        if task is None:
            raise NotFound("No more tasks")
        return Response(stream.stream_task_dict(task=task, project=project, user=request.user))


def dm_next_task(request, project) -> dict:
    """Label Studio's hidden ``next_task`` action: with ``filters``, ``ordering`` or
    ``selectedItems`` in the body, the first task the Data Manager shows that the
    caller may label ("Data Manager queue": their lock on another task does not
    change the sequence); without, the Label Stream's next task (the same task while
    their lock lives). Locked for them; 404 when nothing is left."""
    perms.check(request.user, project, perms.ANNOTATE)
    body = request.data if isinstance(request.data, dict) else {}
    queue = any(key in body for key in ("filters", "ordering", "selectedItems"))
    candidates = None
    regex = False
    if queue:
        query = request_query(request, project, body)
        candidates = dm.label_candidates(project=project, query=query)
        regex = query.has_regex
    with time_limited(regex):
        task = stream.next_task(
            project=project, user=request.user, candidates=candidates, resume=not queue
        )
    if task is None:
        raise NotFound(f"There are no tasks for {request.user}")
    return stream.stream_task_dict(task=task, project=project, user=request.user)


class ActionsApi(APIView):
    def get(self, request):
        project = project_param(request)
        entries = sorted(dm_actions.ACTIONS.values(), key=lambda a: a.order)
        return Response(
            [a.describe() for a in entries if perms.can(request.user, project, a.permission)]
        )

    def post(self, request):
        project = project_param(request)
        action_id = request.query_params.get("id")
        if not action_id:
            raise ApiError("id is required", [{"field": "id", "message": "the action to run"}])
        if action_id == "next_task":
            return Response(dm_next_task(request, project))
        if action_id not in dm_actions.ACTIONS:
            raise ApiError(
                f"unknown action {action_id[:60]!r}", [{"field": "id", "message": "unknown action"}]
            )
        entry = dm_actions.ACTIONS[action_id]
        perms.check(request.user, project, entry.permission)
        body = request.data if isinstance(request.data, dict) else {}
        query = request_query(request, project, body)
        if query.selection is None and entry.needs_selection:
            # Label Studio takes a missing selection as every task of the view; for the
            # actions that delete tasks LabelHub asks for it (docs/compat.md).
            raise ApiError(
                f"selectedItems is required for {action_id}",
                [{"field": "selectedItems", "message": 'e.g. {"all": true, "excluded": []}'}],
            )
        with time_limited(query.has_regex, seconds=30):
            result = dm_actions.action_run(
                project=project,
                action_id=action_id,
                user=request.user,
                queryset=dm.task_queryset(project=project, query=query),
                params=body,
            )
        return Response(result)


class ActionFormApi(APIView):
    """``GET /api/dm/actions/<id>/form/?project=ID``: the fields an action's dialog asks
    for (Label Studio's ``ProjectActionsFormAPI``); our actions ask for none beyond a
    confirmation, so the form is ``[]``. 404 for an unknown action, 403 for one the
    user's role may not run."""

    def get(self, request, action_id):
        project = project_param(request, perms.VIEW)
        entry = dm_actions.ACTIONS.get(action_id)
        if entry is None:
            raise NotFound(f"Can't find {action_id[:60]!r} in registered actions")
        perms.check(request.user, project, entry.permission)
        return Response((entry.dialog or {}).get("form") or [])


class ColumnsApi(APIView):
    """The columns the filters and the table offer, with Label Studio's types."""

    def get(self, request):
        project = project_param(request)
        out = [
            {"id": c.id, "title": c.title, "type": c.type, "target": "tasks"}
            for c in cols.COLUMNS.values()
            if c.id != "inner_id"
        ]
        for column in dm.data_key_columns(project):
            out.append(
                {
                    "id": f"data.{column['key']}",
                    "title": column["key"],
                    "type": column["type"] or "String",
                    "target": "tasks",
                    "parent": "data",
                }
            )
        return Response({"columns": out})


class CountApi(APIView):
    """The "Found" count and totals of a query, apart from the page; ``totals=false``
    answers ``{"total"}`` alone, which is quicker for some filters."""

    def get(self, request):
        project = project_param(request)
        query = request_query(request, project)
        if is_false(request.query_params.get("totals")):
            return Response({"total": dm.tasks_found(project=project, query=query)})
        return Response(dm.tasks_counts(project=project, query=query))


# ----------------------------------------------------------------- Ground Truth Manager


class GroundTruthSampleIn(serializers.Serializer):
    filters = serializers.JSONField(required=False, default=None, allow_null=True)
    fraction = serializers.JSONField()


class GroundTruthSampleApi(APIView):
    def post(self, request, pk):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        data = GroundTruthSampleIn(data=request.data)
        data.is_valid(raise_exception=True)
        result = ground_truth_sample(
            project=project,
            filters=data.validated_data.get("filters"),
            fraction=data.validated_data["fraction"],
        )
        return Response(result)


class GroundTruthPreviewIn(serializers.Serializer):
    filters = serializers.JSONField(required=False, default=None, allow_null=True)


class GroundTruthPreviewApi(APIView):
    """How many completions a filter matches, before marking."""

    def post(self, request, pk):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        data = GroundTruthPreviewIn(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(
            ground_truth_preview(project=project, filters=data.validated_data.get("filters"))
        )


class GroundTruthResetApi(APIView):
    def post(self, request, pk):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        return Response(ground_truth_reset(project=project))


# ------------------------------------------------------------------------ Task list


class TaskIn(serializers.Serializer):
    project = serializers.IntegerField()
    data = serializers.JSONField()
    meta = serializers.JSONField(required=False)


class TaskListApi(APIView):
    # Label Studio 0.x's ``order`` values, as Data Manager orderings.
    ORDERS = {
        "id": [],
        "-id": ["-tasks:id"],
        "completed_at": ["tasks:completed_at"],
        "-completed_at": ["-tasks:completed_at"],
    }

    def get(self, request):
        """Tasks of a project, filtered and ordered by the Data Manager engine.

        ``query`` takes Label Studio's Data Manager query (and ``view`` a saved tab); those
        need the Data Manager capability (admins, reviewers). ``page``/``page_size`` page by
        number as before; ``after`` (a cursor, "" for the first page) pages by keyset
        instead: the answer then carries ``next_after``, and the totals only with
        ``totals=true`` (counting is the slow part at scale; ``/api/dm/count/`` gives it
        apart, which is how the Data Manager page shows "Found").
        """
        params = request.query_params
        project_id = params.get("project")
        view_id = params.get("view") or params.get("tabID")
        if not project_id and view_id:
            # Label Studio's ``/api/tasks?view=<id>``: the project is the view's.
            project_id = object_for_user(
                View, user=request.user, pk=view_id, capability=perms.DATA_MANAGER
            ).project_id
        if not project_id:
            raise ApiError("project is required", [{"field": "project", "message": "required"}])
        uses_dm = any(params.get(name) not in (None, "") for name in ("query", "view", "tabID"))
        project = perms.project_for(
            request.user, project_id, perms.DATA_MANAGER if uses_dm else perms.VIEW
        )
        order = params.get("order") or "id"
        if order not in self.ORDERS:
            raise ApiError(
                f"order must be one of {', '.join(self.ORDERS)}",
                [{"field": "order", "message": f"unknown ordering {order!r}"}],
            )
        query = request_query(request, project)
        if not query.ordering and self.ORDERS[order]:
            query.ordering = dm.parse_query({"ordering": self.ORDERS[order]}).ordering
        see_all = perms.can(request.user, project, perms.READ_ALL_ANNOTATIONS)
        # An annotator's list holds the Benchmark QA tasks /next/ serves them, looking
        # like any other (issue #24); the admin's Data Manager leaves them out (#26).
        query.benchmarks = not see_all
        if not see_all and order != "id" and order != "-id":
            # When a task was last annotated is others' work (and a Benchmark QA task's
            # gold answer dates it): annotators list tasks by id.
            raise ApiError(
                "annotators list tasks by id",
                [{"field": "order", "message": "only id or -id for annotators"}],
            )
        if is_true(params.get("only_annotated")):
            # Annotators see only their own annotations: "annotated" is by them.
            only = (
                {
                    "filter": "filter:tasks:total_annotations",
                    "operator": "greater",
                    "value": 0,
                    "type": "Number",
                }
                if see_all
                else {
                    "filter": "filter:tasks:annotators",
                    "operator": "contains",
                    "value": request.user.pk,
                    "type": "List",
                }
            )
            extra = dm.parse_query({"filters": {"items": [only]}}).items
            if query.conjunction == "or" and query.items:
                raise ApiError("only_annotated cannot be combined with an 'or' query")
            query.items = [*query.items, *extra]
        page, size = page_params(request)
        after = params.get("after")
        full = params.get("fields") == "all"
        decorate = (
            (lambda qs: with_nested(qs, user=request.user, project=project)) if full else None
        )
        rows, cursor = dm.tasks_page(
            project=project, query=query, after=after, page=page, size=size, decorate=decorate
        )
        if after is None and page > 1 and not rows:
            raise NotFound("Invalid page.")
        summaries = dm.page_summaries(
            task_ids=[t.pk for t in rows],
            user=request.user,
            see_all=see_all,
            see_predictions=perms.may_see_predictions(request.user, project),
            with_results=not full,
        )
        # Each row's annotators: read with the summaries' annotations when those are every
        # annotation of the page (one query fewer); an annotator's summaries hold only theirs.
        annotators = None
        if not full:
            annotators = (
                {pk: sorted(summary["annotators"]) for pk, summary in summaries.items()}
                if see_all
                else dm.annotators_of([t.pk for t in rows])
            )
        tasks = []
        for task in rows:
            item = nested_task_dict(task) if full else task_dict(task)
            users = (
                sorted({a.completed_by_id for a in task.annotations.all() if a.completed_by_id})
                if full
                else annotators.get(task.pk, [])
            )
            users = perms.visible_annotators(request.user, project, users)
            item.update(row_extras(task, users))
            item.update(ls_row_fields(task, item, summaries[task.pk], full=full))
            item["overlap"] = project.maximum_annotations + task.overlap_extra
            tasks.append(item)
        tasks = visibility.tasks_shown(bodies=tasks, tasks=rows, user=request.user, project=project)
        body = {"tasks": tasks}
        if after is None or is_true(params.get("totals")):
            if see_all:
                body.update(dm.tasks_counts(project=project, query=query))
            else:
                body.update(
                    visibility.counts_shown(
                        counts={},
                        tasks=dm.task_queryset(project=project, query=query),
                        user=request.user,
                        project=project,
                    )
                )
        if after is not None:
            body["next_after"] = cursor
        return Response(body)

    def post(self, request):
        data = TaskIn(data=request.data)
        data.is_valid(raise_exception=True)
        project = perms.project_for(request.user, data.validated_data["project"], perms.MANAGE)
        task = annotation_services.task_create(
            project=project, data=data.validated_data["data"], meta=data.validated_data.get("meta")
        )
        return Response(
            task_dict(task, annotations=[], predictions=[]), status=status.HTTP_201_CREATED
        )
