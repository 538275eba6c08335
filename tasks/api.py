from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from labelhub.errors import ApiError
from labelhub.pagination import page_params
from projects import permissions as perms
from tasks import dm_api, selectors, services
from tasks.dm import selectors as dm
from tasks.models import Task
from tasks.representations import task_dict


def task_for(user, pk, capability: str = perms.VIEW) -> Task:
    """A task the user may reach; 404 for another project's task."""
    try:
        task = Task.objects.select_related("project").get(pk=int(pk))
    except (Task.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound("Not found.") from exc
    perms.check(user, task.project, capability)
    return task


def nested_task_dict(task: Task) -> dict:
    return task_dict(task, annotations=task.annotations.all(), predictions=task.predictions.all())


class TaskIn(serializers.Serializer):
    project = serializers.IntegerField()
    data = serializers.JSONField()
    meta = serializers.JSONField(required=False)


class TaskPatchIn(serializers.Serializer):
    data = serializers.JSONField(required=False)
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
        project_id = request.query_params.get("project")
        if not project_id:
            raise ApiError("project is required", [{"field": "project", "message": "required"}])
        params = request.query_params
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
        query = dm_api.request_query(request, project)
        if not query.ordering and self.ORDERS[order]:
            query.ordering = dm.parse_query({"ordering": self.ORDERS[order]}).ordering
        if params.get("only_annotated") in ("true", "1", "True"):
            only = {
                "filter": "filter:tasks:total_annotations",
                "operator": "greater",
                "value": 0,
                "type": "Number",
            }
            extra = dm.parse_query({"filters": {"items": [only]}}).items
            if query.conjunction == "or" and query.items:
                raise ApiError("only_annotated cannot be combined with an 'or' query")
            query.items = [*query.items, *extra]
        page, size = page_params(request)
        after = params.get("after")
        full = params.get("fields") == "all"
        decorate = (
            (lambda qs: selectors.with_nested(qs, user=request.user, project=project))
            if full
            else None
        )
        rows, cursor = dm.tasks_page(
            project=project, query=query, after=after, page=page, size=size, decorate=decorate
        )
        if after is None and page > 1 and not rows:
            raise NotFound("Invalid page.")
        annotators = None if full else dm.annotators_of([t.pk for t in rows])
        tasks = []
        for task in rows:
            item = nested_task_dict(task) if full else task_dict(task)
            users = (
                sorted({a.completed_by_id for a in task.annotations.all() if a.completed_by_id})
                if full
                else annotators.get(task.pk, [])
            )
            item.update(dm_api.row_extras(task, users))
            tasks.append(item)
        body = {"tasks": tasks}
        if after is None or params.get("totals") in ("true", "1", "True"):
            body.update(dm.tasks_counts(project=project, query=query))
        if after is not None:
            body["next_after"] = cursor
        return Response(body)

    def post(self, request):
        data = TaskIn(data=request.data)
        data.is_valid(raise_exception=True)
        project = perms.project_for(request.user, data.validated_data["project"], perms.MANAGE)
        task = services.task_create(
            project=project, data=data.validated_data["data"], meta=data.validated_data.get("meta")
        )
        return Response(
            task_dict(task, annotations=[], predictions=[]), status=status.HTTP_201_CREATED
        )


class TaskDetailApi(APIView):
    def get(self, request, pk):
        task = task_for(request.user, pk)
        queryset = selectors.with_nested(
            Task.objects.filter(pk=task.pk), user=request.user, project=task.project
        )
        return Response(nested_task_dict(queryset.get()))

    def patch(self, request, pk):
        task = task_for(request.user, pk, perms.MANAGE)
        data = TaskPatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.task_update(task=task, **data.validated_data)
        return self.get(request, pk)

    def delete(self, request, pk):
        task = task_for(request.user, pk, perms.MANAGE)
        services.tasks_delete(project=task.project, task_ids=[task.pk])
        return Response(status=status.HTTP_204_NO_CONTENT)
