"""S3 target storage endpoints (Label Studio's paths and field names).

``GET/POST /api/storages/export/s3``, ``GET/PATCH/DELETE /api/storages/export/s3/{id}``,
``POST /api/storages/export/s3/{id}/sync``. Storages belong to a project and need the
project's manage right.
"""

from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from exporters.models import S3ExportStorage
from exporters.storage_s3 import storage_as_dict, storage_sync
from labelhub.errors import ApiError
from labelhub.s3 import endpoint_check
from projects import permissions as perms
from projects.models import Project

EDITABLE = [
    "title",
    "description",
    "bucket",
    "prefix",
    "s3_endpoint",
    "region_name",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "can_delete_objects",
]


class StorageInput(serializers.ModelSerializer):
    class Meta:
        model = S3ExportStorage
        fields = EDITABLE


def _storage_for(user, pk) -> S3ExportStorage:
    storage = S3ExportStorage.objects.select_related("project").filter(pk=pk).first()
    if storage is None or not perms.can(user, storage.project_id, perms.MANAGE):
        raise NotFound()
    return storage


def _project_param(request, data) -> Project:
    raw = data.get("project") if data is not None else request.query_params.get("project")
    try:
        project_id = int(raw)
    except (TypeError, ValueError):
        raise ApiError(
            "project must be a project id", [{"field": "project", "message": "required"}]
        ) from None
    return perms.project_for(request.user, project_id, perms.MANAGE)


class S3ExportStorageListApi(APIView):
    def get(self, request):
        project = _project_param(request, None)
        rows = S3ExportStorage.objects.filter(project=project).order_by("id")
        return Response([storage_as_dict(s) for s in rows])

    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        project = _project_param(request, data)
        serializer = StorageInput(data=data)
        serializer.is_valid(raise_exception=True)
        endpoint_check(serializer.validated_data.get("s3_endpoint", ""))
        storage = serializer.save(project=project)
        return Response(storage_as_dict(storage), status=status.HTTP_201_CREATED)


class S3ExportStorageDetailApi(APIView):
    def get(self, request, pk):
        return Response(storage_as_dict(_storage_for(request.user, pk)))

    def patch(self, request, pk):
        storage = _storage_for(request.user, pk)
        serializer = StorageInput(storage, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        if "s3_endpoint" in serializer.validated_data:
            endpoint_check(serializer.validated_data["s3_endpoint"])
        return Response(storage_as_dict(serializer.save()))

    def delete(self, request, pk):
        _storage_for(request.user, pk).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class S3ExportStorageSyncApi(APIView):
    def post(self, request, pk):
        storage = _storage_for(request.user, pk)
        return Response(storage_as_dict(storage_sync(storage=storage)))
