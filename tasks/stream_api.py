"""The Label Stream API: ``GET /api/projects/{id}/next/``, as Label Studio's."""

from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from projects import permissions as perms
from tasks import stream


class NextTaskApi(APIView):
    """The next task for the caller, locked for them; 404 ``No more tasks`` when the
    project has nothing left for them (the answer Label Studio gives)."""

    def get(self, request, pk):
        project = perms.project_for(request.user, pk, perms.ANNOTATE)
        task = stream.next_task(project=project, user=request.user)
        if task is None:
            raise NotFound("No more tasks")
        return Response(stream.stream_task_dict(task=task, project=project))
