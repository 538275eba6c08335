"""The project detail endpoints: ``/api/projects/{id}/`` (read, change, delete) and
``/api/projects/{id}/validate/`` (the config check against what is stored).

Changing a project's overlap recomputes its tasks' labeled state, a new config is checked
against the stored annotations, and deleting a project deletes its tasks and annotations:
``annotations.services`` does those, so this module and ``projects.urls`` sit in the layer
above ``annotations`` (pyproject.toml's import-linter contract); the rest of ``projects``
stays at the bottom.
"""

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations import benchmarks, selectors, services
from labelhub.errors import ApiError
from projects import permissions as perms
from projects.api import (
    ProjectIn,
    ProjectValidateApi,
    benchmark_project_resolve,
    project_dict,
    project_dict_for,
)


class ProjectDetailApi(APIView):
    def get(self, request, pk):
        """``?include=id,title`` keeps only those fields, as Label Studio does."""
        body = project_dict_for(request.user, perms.project_for(request.user, pk))
        include = request.query_params.get("include")
        if include:
            wanted = {name.strip() for name in include.split(",")}
            body = {key: value for key, value in body.items() if key in wanted}
        return Response(body)

    def patch(self, request, pk):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        data = ProjectIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = benchmark_project_resolve(request.user, dict(data.validated_data))
        version = fields.get("model_version")
        if (
            version
            and version != project.model_version
            and not selectors.model_version_known(project=project, version=version)
        ):
            # Label Studio's check (its serializer's, so the settings page, which may name
            # a version before its predictions come, is not held to it).
            message = "Model version doesn't exist either as live model or as static predictions."
            raise ApiError(
                message,
                [{"field": "model_version", "message": message}],
                validation_errors={"model_version": [message]},
            )
        # Label Studio's PATCH is not strict: a label still in use may leave the config.
        project = services.project_update(project=project, strict=False, **fields)
        if fields.get("benchmark_project") is not None:
            benchmarks.benchmarks_link(project=project, user=request.user)  # adds only new ones
        return Response(project_dict(project))

    def put(self, request, pk):
        """Label Studio's PUT: the same partial update as PATCH (no project field is
        required, so a full body and a partial one mean the same)."""
        return self.patch(request, pk)

    def delete(self, request, pk):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        services.project_delete(project=project)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProjectConfigValidateApi(ProjectValidateApi):
    """``POST /api/projects/{id}/validate/``: the config check of
    ``/api/projects/validate/``, plus, as Label Studio does, a 400 listing the stored
    annotations and predictions the new config would orphan (the settings page calls it
    while the config is edited)."""

    def get(self, request, pk=None):
        """Label Studio's GET: the project's stored config, for those who may change it."""
        project = perms.project_for(request.user, pk, perms.MANAGE)
        return Response({"label_config": project.label_config})

    def post(self, request, pk=None):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        response = super().post(request, pk)
        services.label_config_orphans_check(
            project=project, label_config=request.data["label_config"], form=True
        )
        return response
