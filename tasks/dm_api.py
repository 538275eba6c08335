"""Data Manager, Verify Stream and Ground Truth Manager APIs.

- ``/api/dm/views/`` (+ ``<id>/``, ``reset/``): saved tabs, Label Studio's shape;
- ``/api/dm/actions/``: ``GET ?project=`` lists, ``POST ?id=&project=`` runs one;
- ``/api/dm/columns/?project=`` and ``/api/dm/count/?project=&query=``;
- ``/api/projects/<id>/verify/next/`` and ``.../verify/progress/``;
- ``/api/projects/<id>/ground-truth/sample`` and ``.../ground-truth/reset``.

Reviewers read (views, columns, count) and verify; only admins change anything.
These views sit with the Data Manager's URLs in ``tasks`` and call the ``annotations``
services for ground truth and verification, at request time only.
"""

from __future__ import annotations

from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from labelhub.errors import ApiError
from projects import permissions as perms
from projects.label_config import ParsedConfig
from tasks.dm import actions as dm_actions
from tasks.dm import columns as cols
from tasks.dm import query as dmq
from tasks.dm import saved_views
from tasks.dm import selectors as dm
from tasks.dm.sql import bounded
from tasks.models import View
from tasks.representations import annotation_dict, task_dict


def project_param(request, capability: str = perms.DATA_MANAGER):
    project_id = request.query_params.get("project")
    if project_id in (None, "") and isinstance(request.data, dict):
        project_id = request.data.get("project")
    if project_id in (None, ""):
        raise ApiError("project is required", [{"field": "project", "message": "required"}])
    return perms.project_for(request.user, project_id, capability)


def view_for(user, project, view_id) -> View:
    try:
        view = View.objects.get(pk=int(view_id), project=project)
    except (View.DoesNotExist, TypeError, ValueError) as exc:
        raise NotFound("Not found.") from exc
    return view


def request_query(request, project, body: dict | None = None) -> dmq.Query:
    """The query of a request: ``query`` (JSON) in the URL, a body with ``filters``,
    ``ordering`` and ``selectedItems``, and a saved view (``view`` or LS's ``tabID``)
    for what those leave out."""
    raw = dmq.load(request.query_params.get("query"))
    if body:
        raw = {**raw, **{k: body[k] for k in ("filters", "ordering", "selectedItems") if k in body}}
    view_id = request.query_params.get("view") or request.query_params.get("tabID")
    if view_id in (None, "") and body:
        view_id = body.get("view") or body.get("tabID")
    if view_id not in (None, ""):
        stored = saved_views.view_query(view_for(request.user, project, view_id))
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
        "ground_truth": bool(getattr(task, "ground_truth", False)),
        **({"annotators": annotators} if annotators is not None else {}),
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


class ViewResetApi(APIView):
    def delete(self, request):
        project = project_param(request, perms.MANAGE)
        saved_views.views_reset(project=project)
        return Response(status=status.HTTP_204_NO_CONTENT)

    post = delete


class ViewDetailApi(APIView):
    def _view(self, request, pk, capability):
        try:
            view = View.objects.select_related("project").get(pk=int(pk))
        except (View.DoesNotExist, ValueError, TypeError) as exc:
            raise NotFound("Not found.") from exc
        perms.check(request.user, view.project, capability)
        return view

    def get(self, request, pk):
        return Response(saved_views.view_dict(self._view(request, pk, perms.DATA_MANAGER)))

    def patch(self, request, pk, partial: bool = True):
        view = self._view(request, pk, perms.MANAGE)
        data = ViewIn(data=request.data)
        data.is_valid(raise_exception=True)
        view = saved_views.view_update(view=view, data=data.validated_data["data"], partial=partial)
        return Response(saved_views.view_dict(view))

    def put(self, request, pk):
        return self.patch(request, pk, partial=False)

    def delete(self, request, pk):
        saved_views.view_delete(view=self._view(request, pk, perms.MANAGE))
        return Response(status=status.HTTP_204_NO_CONTENT)


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
        if action_id not in dm_actions.ACTIONS:
            raise ApiError(
                f"unknown action {action_id[:60]!r}", [{"field": "id", "message": "unknown action"}]
            )
        perms.check(request.user, project, dm_actions.ACTIONS[action_id].permission)
        body = request.data if isinstance(request.data, dict) else {}
        query = request_query(request, project, body)
        if query.selection is None:
            raise ApiError(
                "selectedItems is required",
                [{"field": "selectedItems", "message": 'e.g. {"all": true, "excluded": []}'}],
            )
        with bounded(query.has_regex, seconds=30):
            result = dm_actions.action_run(
                project=project,
                action_id=action_id,
                user=request.user,
                queryset=dm.task_queryset(project=project, query=query),
                params=body,
            )
        return Response(result)


class ColumnsApi(APIView):
    """The columns the filters and the table offer, with Label Studio's types."""

    def get(self, request):
        project = project_param(request)
        out = [
            {"id": c.id, "title": c.title, "type": c.type, "target": "tasks"}
            for c in cols.COLUMNS.values()
            if c.id != "inner_id"
        ]
        try:
            parsed = ParsedConfig.from_dict(project.parsed_config or {})
            objects = {o["value"]: o["type"] for o in parsed.objects.values() if o.get("value")}
            keys = parsed.data_keys
        except (ValueError, KeyError):
            objects, keys = {}, []
        for key in keys:
            out.append(
                {
                    "id": f"data.{key}",
                    "title": key,
                    "type": objects.get(key, "String"),
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
        if request.query_params.get("totals") in ("false", "0", "False"):
            return Response({"total": dm.tasks_found(project=project, query=query)})
        return Response(dm.tasks_counts(project=project, query=query))


# --------------------------------------------------------------------- Verify Stream


class VerifyNextApi(APIView):
    def get(self, request, pk):
        from annotations import verify

        project = perms.project_for(request.user, pk, perms.REVIEW)
        exclude = request.query_params.get("exclude")
        annotation = verify.verify_next(
            project=project,
            user=request.user,
            exclude=int(exclude) if str(exclude or "").isdigit() else None,
        )
        if annotation is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        task = annotation.task
        body = {
            "task": task_dict(task, predictions=list(task.predictions.order_by("id"))),
            "annotation": annotation_dict(annotation, with_reviews=True),
            "progress": verify.verify_progress(project=project, user=request.user),
        }
        body["annotation"]["completed_by_email"] = getattr(annotation.completed_by, "email", None)
        return Response(body)


class VerifyProgressApi(APIView):
    def get(self, request, pk):
        from annotations import verify

        project = perms.project_for(request.user, pk, perms.REVIEW)
        return Response(verify.verify_progress(project=project, user=request.user))


# ----------------------------------------------------------------- Ground Truth Manager


class GroundTruthSampleIn(serializers.Serializer):
    filters = serializers.JSONField(required=False, default=None, allow_null=True)
    fraction = serializers.JSONField()


class GroundTruthSampleApi(APIView):
    def post(self, request, pk):
        from annotations.ground_truth import ground_truth_sample

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
        from annotations.ground_truth import ground_truth_preview

        project = perms.project_for(request.user, pk, perms.MANAGE)
        data = GroundTruthPreviewIn(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(
            ground_truth_preview(project=project, filters=data.validated_data.get("filters"))
        )


class GroundTruthResetApi(APIView):
    def post(self, request, pk):
        from annotations.ground_truth import ground_truth_reset

        project = perms.project_for(request.user, pk, perms.MANAGE)
        return Response(ground_truth_reset(project=project))
