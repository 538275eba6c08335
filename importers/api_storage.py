"""S3 source storage endpoints (Label Studio's paths and field names).

``GET/POST /api/storages/s3/``, ``GET/PATCH/DELETE /api/storages/s3/{id}``,
``POST /api/storages/s3/{id}/sync`` and ``GET /api/projects/{id}/presign/?fileuri=``.
Storages belong to a project and need the project's manage right; the presign redirect
needs only membership.
"""

import re

from django.http import HttpResponseRedirect
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from importers.models import S3SourceStorage
from importers.storage_s3 import check_endpoint, presigned_url, storage_as_dict, storage_sync
from labelhub.errors import ApiError
from projects import permissions as perms
from projects.models import Project
from projects.selectors import object_for_user

EDITABLE = [
    "title",
    "description",
    "bucket",
    "prefix",
    "regex_filter",
    "use_blob_urls",
    "presign",
    "presign_ttl",
    "s3_endpoint",
    "region_name",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
]


class StorageInput(serializers.ModelSerializer):
    class Meta:
        model = S3SourceStorage
        fields = EDITABLE

    def validate_regex_filter(self, value: str) -> str:
        if value:
            try:
                re.compile(value)
            except re.error as exc:
                raise serializers.ValidationError(f"not a regular expression: {exc}") from None
        return value

    def validate_presign_ttl(self, value: int) -> int:
        if not 1 <= value <= 7 * 24 * 60:
            raise serializers.ValidationError("must be between 1 and 10080 minutes")
        return value


class S3StorageListApi(APIView):
    def get(self, request):
        project_id = request.query_params.get("project")
        if project_id:
            project = perms.project_for(request.user, project_id, perms.MANAGE)
            storages = S3SourceStorage.objects.filter(project=project)
        else:
            managed = [
                p.pk
                for p in Project.objects.for_user(request.user)
                if perms.can(request.user, p, perms.MANAGE)
            ]
            storages = S3SourceStorage.objects.filter(project_id__in=managed)
        return Response([storage_as_dict(s) for s in storages.order_by("id")])

    def post(self, request):
        body = request.data if isinstance(request.data, dict) else {}
        project = perms.project_for(request.user, body.get("project"), perms.MANAGE)
        data = StorageInput(data=request.data)
        data.is_valid(raise_exception=True)
        check_endpoint(data.validated_data.get("s3_endpoint", ""))
        storage = S3SourceStorage.objects.create(project=project, **data.validated_data)
        return Response(storage_as_dict(storage), status=status.HTTP_201_CREATED)


class S3StorageDetailApi(APIView):
    def get(self, request, pk):
        return Response(
            storage_as_dict(
                object_for_user(S3SourceStorage, user=request.user, pk=pk, capability=perms.MANAGE)
            )
        )

    def patch(self, request, pk):
        storage = object_for_user(
            S3SourceStorage, user=request.user, pk=pk, capability=perms.MANAGE
        )
        data = StorageInput(storage, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        check_endpoint(data.validated_data.get("s3_endpoint", storage.s3_endpoint))
        for name, value in data.validated_data.items():
            setattr(storage, name, value)
        storage.save()
        return Response(storage_as_dict(storage))

    def delete(self, request, pk):
        object_for_user(S3SourceStorage, user=request.user, pk=pk, capability=perms.MANAGE).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class S3StorageSyncApi(APIView):
    def post(self, request, pk):
        storage = storage_sync(
            storage=object_for_user(
                S3SourceStorage, user=request.user, pk=pk, capability=perms.MANAGE
            ),
            user=request.user,
        )
        return Response(storage_as_dict(storage))


class PresignApi(APIView):
    """Redirect a member to a presigned URL for an object of one of the project's storages."""

    def get(self, request, pk):
        project = perms.project_for(request.user, pk, perms.VIEW)
        url = presigned_url(project=project, fileuri=request.query_params.get("fileuri", ""))
        if url is None:
            raise ApiError("Not found.", status_code=404)
        response = HttpResponseRedirect(url)
        response["Cache-Control"] = "no-store"
        return response
