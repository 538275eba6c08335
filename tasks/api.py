"""The task detail endpoint, ``/api/tasks/{id}/``: the task with the annotations,
predictions and drafts its reader may see (GET), its data and meta changed (PATCH, PUT),
the task deleted (DELETE).

What a task nests is ``annotations``' (its shapes, who sees which, the quality figures a
delete takes out), so this module and ``tasks.urls`` sit in the layer above
``annotations`` (pyproject.toml's import-linter contract): ``tasks`` serves its own object,
the rest of the app stays below ``annotations``.
"""

from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations import selectors, services, visibility
from annotations.representations import draft_dict, nested_task_dict
from projects import permissions as perms
from projects.api import member_user_dict
from projects.selectors import object_for_user
from tasks.models import Task
from tasks.services import task_update


class TaskPatchIn(serializers.Serializer):
    data = serializers.JSONField(required=False)
    meta = serializers.JSONField(required=False)


class TaskDetailApi(APIView):
    def get(self, request, pk):
        task = object_for_user(Task, user=request.user, pk=pk)
        queryset = selectors.with_nested(
            Task.objects.filter(pk=task.pk), user=request.user, project=task.project
        )
        loaded = queryset.get()
        body = nested_task_dict(loaded)
        if request.query_params.get("project"):
            # The Data Manager's task (Label Studio's ``?project=``): annotators as
            # objects, as its DataManagerTaskSerializer nests them.
            users = {a.pk: a.completed_by for a in loaded.annotations.all()}
            for annotation in body["annotations"]:
                user = users.get(annotation["id"])
                if user is not None:
                    annotation["completed_by"] = member_user_dict(user)
        body = visibility.task_shown(
            body=body, task=loaded, user=request.user, project=task.project
        )
        # Label Studio's ``drafts``: the caller's own, which the editor restores.
        body["drafts"] = [draft_dict(d) for d in selectors.own_drafts(task=task, user=request.user)]
        return Response(body)

    def patch(self, request, pk):
        task = object_for_user(Task, user=request.user, pk=pk, capability=perms.MANAGE)
        data = TaskPatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        task_update(task=task, **data.validated_data)
        return self.get(request, pk)

    def put(self, request, pk):
        """Label Studio also takes PUT here: the same partial update as PATCH."""
        return self.patch(request, pk)

    def delete(self, request, pk):
        task = object_for_user(Task, user=request.user, pk=pk, capability=perms.MANAGE)
        services.tasks_delete(project=task.project, task_ids=[task.pk])
        return Response(status=status.HTTP_204_NO_CONTENT)
