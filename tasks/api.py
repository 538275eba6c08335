from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from labelhub.errors import ApiError
from labelhub.pagination import paginate
from projects import permissions as perms
from tasks import selectors, services
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
    def get(self, request):
        project_id = request.query_params.get("project")
        if not project_id:
            raise ApiError("project is required", [{"field": "project", "message": "required"}])
        project = perms.project_for(request.user, project_id)
        order = request.query_params.get("order") or "id"
        if order not in selectors.ORDERINGS:
            raise ApiError(
                f"order must be one of {', '.join(selectors.ORDERINGS)}",
                [{"field": "order", "message": f"unknown ordering {order!r}"}],
            )
        queryset = selectors.task_queryset(project=project, order=order)
        if request.query_params.get("only_annotated") in ("true", "1", "True"):
            queryset = queryset.filter(total_annotations__gt=0)
        totals = selectors.task_totals(queryset)
        full = request.query_params.get("fields") == "all"
        if full:
            queryset = selectors.with_nested(queryset, user=request.user, project=project)
        _, items = paginate(request, queryset, count=totals["total"])
        tasks = [nested_task_dict(task) if full else task_dict(task) for task in items]
        return Response({"tasks": tasks, **totals})

    def post(self, request):
        data = TaskIn(data=request.data)
        data.is_valid(raise_exception=True)
        project = perms.project_for(request.user, data.validated_data["project"], perms.MANAGE)
        task = services.task_create(
            project=project, data=data.validated_data["data"], meta=data.validated_data.get("meta")
        )
        return Response(task_dict(task, annotations=[], predictions=[]), status=status.HTTP_201_CREATED)


class TaskDetailApi(APIView):
    def get(self, request, pk):
        task = task_for(request.user, pk)
        queryset = selectors.with_nested(Task.objects.filter(pk=task.pk), user=request.user, project=task.project)
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
