"""Storage endpoints, Label Studio's paths and field names, for every kind:

- sources ``/api/storages/{kind}/`` (list ``?project=``, create), ``/{id}`` (get, patch,
  delete), ``/{id}/sync``, ``/validate``, ``/form``, ``/files``;
- targets ``/api/storages/export/{kind}`` with the same, less ``/files``;
- ``/api/storages/`` and ``/api/storages/export`` (every kind of a project), and
  ``/types`` for each side;
- the object proxy: ``/tasks/{id}/resolve/``, ``/tasks/{id}/presign/``,
  ``/projects/{id}/resolve/``, ``/projects/{id}/presign/`` (redirect to a presigned URL,
  or the object streamed through the server when ``presign`` is off) and LabelHub's own
  ``/api/projects/{id}/presign/``.

Storages need the project's manage right; the proxy needs membership. Credentials are
write-only: no answer carries them.
"""

import base64
import binascii
from urllib.parse import quote, unquote

from django.http import HttpResponseRedirect, StreamingHttpResponse
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from importers import localfiles
from io_storages import selectors, services
from io_storages.kinds import KINDS
from io_storages.models import ExportStorage, ImportStorage
from labelhub.errors import ApiError, LabelStudioErrors
from labelhub.jobs import job_check_alive, with_job_fields
from projects import permissions as perms
from projects.selectors import object_for_user
from tasks.models import Task

SIDES = {"import": ImportStorage, "export": ExportStorage}
FILES_LIMIT = 100
MAX_FILES_LIMIT = 10000


# --------------------------------------------------------------------------- shapes


def storage_as_dict(storage) -> dict:
    """The API's shape of a storage: Label Studio's fields (its ``traceback`` is the sync
    job's ``error``), then the fields every job answers that Label Studio's lacks
    (``labelhub.jobs.with_job_fields``); never a credential."""
    source = services.is_source(storage)
    body = {
        "id": storage.pk,
        "type": storage.kind,
        "synchronizable": storage.synchronizable,
        "title": storage.title,
        "description": storage.description,
        "created_at": storage.created_at,
        "last_sync": storage.last_sync,
        "last_sync_count": storage.last_sync_count,
        "last_sync_job": storage.last_sync_job,
        "status": storage.status,
        "traceback": storage.error or None,
        "meta": storage.meta,
        "regex_filter": storage.regex_filter,
        "use_blob_urls": storage.use_blob_urls,
        "project": storage.project_id,
    }
    side = "import" if source else "export"
    for field in KINDS[storage.kind].FIELDS:
        if field.secret or field.only not in ("", side):
            continue
        value = (storage.options or {}).get(field.name, field.default)
        if field.name == "db" and value is None and storage.kind == "redis":
            value = 1 if source else 2
        body[field.name] = value
    if source:
        body.update(
            presign=storage.presign,
            presign_ttl=storage.presign_ttl,
            recursive_scan=storage.recursive_scan,
        )
    else:
        body["can_delete_objects"] = storage.can_delete_objects
    return with_job_fields(body, storage)


def input_serializer(kind: str, side: str) -> type[serializers.Serializer]:
    """The input fields of one kind and side: the common ones, then the kind's own."""
    fields: dict = {
        "title": serializers.CharField(
            max_length=256, required=False, allow_null=True, allow_blank=True
        ),
        "description": serializers.CharField(required=False, allow_null=True, allow_blank=True),
        "regex_filter": serializers.CharField(
            max_length=2048, required=False, allow_null=True, allow_blank=True
        ),
        "use_blob_urls": serializers.BooleanField(required=False),
        "synchronizable": serializers.BooleanField(required=False),
    }
    if side == "import":
        fields["presign"] = serializers.BooleanField(required=False)
        fields["presign_ttl"] = serializers.IntegerField(
            required=False, min_value=1, max_value=32767
        )
        fields["recursive_scan"] = serializers.BooleanField(required=False)
    else:
        fields["can_delete_objects"] = serializers.BooleanField(required=False, allow_null=True)
    for field in KINDS[kind].FIELDS:
        if field.only not in ("", side):
            continue
        if field.type == "int":
            fields[field.name] = serializers.IntegerField(
                required=False, allow_null=True, min_value=0, max_value=10**6
            )
        elif field.type == "bool":
            fields[field.name] = serializers.BooleanField(required=False)
        else:
            fields[field.name] = serializers.CharField(
                max_length=100_000 if field.secret else 2048,
                required=False,
                allow_null=not field.required,
                allow_blank=not field.required,
                write_only=field.secret,
                trim_whitespace=not field.secret,
            )
    return type(f"{kind.title()}{side.title()}Input", (serializers.Serializer,), fields)


def _body(request) -> dict:
    if not isinstance(request.data, dict):
        raise ApiError("The body must be a JSON object of storage fields.")
    return dict(request.data.items()) if hasattr(request.data, "items") else request.data


def _validated(kind: str, side: str, data: dict, *, partial: bool) -> dict:
    serializer = input_serializer(kind, side)(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    if not partial:
        for field in KINDS[kind].FIELDS:
            if field.required and not serializer.validated_data.get(field.name):
                raise ApiError(
                    f"{field.name}: this field is required.",
                    [{"field": field.name, "message": "This field is required."}],
                )
    return dict(serializer.validated_data)


def _project(request, raw, capability: str = perms.MANAGE):
    try:
        project_id = int(raw)
    except (TypeError, ValueError):
        raise ApiError(
            'project: a project id is required (query parameter "project" for lists)',
            [{"field": "project", "message": "This field is required."}],
        ) from None
    return perms.project_for(request.user, project_id, capability)


def _storage(request, side: str, kind: str, pk):
    return object_for_user(
        SIDES[side],
        user=request.user,
        pk=pk,
        capability=perms.MANAGE,
        queryset=SIDES[side].objects.filter(kind=kind),
    )


# --------------------------------------------------------------------------- CRUD


class StorageListApi(LabelStudioErrors, APIView):
    side = "import"
    kind = "s3"

    def get(self, request):
        project = _project(request, request.query_params.get("project"))
        rows = selectors.storages_for_project(
            model=SIDES[self.side], project=project, kind=self.kind
        )
        return Response([storage_as_dict(job_check_alive(row)) for row in rows])

    def post(self, request):
        body = _body(request)
        project = _project(request, body.get("project"))
        data = _validated(self.kind, self.side, body, partial=False)
        storage = services.storage_create(
            model=SIDES[self.side], project=project, kind=self.kind, data=data
        )
        return Response(storage_as_dict(storage), status=status.HTTP_201_CREATED)


class StorageDetailApi(LabelStudioErrors, APIView):
    side = "import"
    kind = "s3"

    def get(self, request, pk):
        storage = job_check_alive(_storage(request, self.side, self.kind, pk))
        return Response(storage_as_dict(storage))

    def patch(self, request, pk):
        storage = _storage(request, self.side, self.kind, pk)
        data = _validated(self.kind, self.side, _body(request), partial=True)
        return Response(storage_as_dict(services.storage_update(storage=storage, data=data)))

    put = patch

    def delete(self, request, pk):
        _storage(request, self.side, self.kind, pk).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class StorageSyncApi(LabelStudioErrors, APIView):
    side = "import"
    kind = "s3"

    def post(self, request, pk):
        storage = _storage(request, self.side, self.kind, pk)
        services.storage_sync_queue(storage=storage, job_id=selectors.new_job_id())
        return Response(storage_as_dict(selectors.storage_sync_waited(storage)))


def _prepared(request, side: str, kind: str):
    """A storage for validate/files: the stored one named by ``id`` (its credentials kept)
    with the body's fields over it, or a new unsaved one."""
    body = _body(request)
    data = _validated(kind, side, body, partial=bool(body.get("id")))
    if body.get("id"):
        storage = _storage(request, side, kind, body["id"])
    else:
        project = _project(request, body.get("project"))
        storage = SIDES[side](project=project, kind=kind)
    return storage, data


class StorageValidateApi(LabelStudioErrors, APIView):
    side = "import"
    kind = "s3"

    def post(self, request):
        storage, data = _prepared(request, self.side, self.kind)
        services.storage_validate(storage=storage, data=data)
        return Response({})


class StorageFilesApi(LabelStudioErrors, APIView):
    side = "import"
    kind = "s3"

    def post(self, request):
        storage, data = _prepared(request, self.side, self.kind)
        try:
            limit = int(_body(request).get("limit") or FILES_LIMIT)
        except (TypeError, ValueError):
            raise ApiError(
                "limit must be a number", [{"field": "limit", "message": "not a number"}]
            ) from None
        if not 1 <= limit <= MAX_FILES_LIMIT:
            raise ApiError(
                f"limit must be between 1 and {MAX_FILES_LIMIT}",
                [{"field": "limit", "message": "out of range"}],
            )
        services.storage_fill(storage, data)
        return Response({"files": services.listing(storage=storage, limit=limit)})


class StorageFormApi(LabelStudioErrors, APIView):
    side = "import"
    kind = "s3"

    def get(self, request):
        return Response(selectors.form_layout(kind=self.kind, side=self.side))


class AllStoragesApi(LabelStudioErrors, APIView):
    """Every kind's storages of ``?project=`` (without one, an empty list, as Label
    Studio answers)."""

    side = "import"

    def get(self, request):
        if not request.query_params.get("project"):
            return Response([])
        project = _project(request, request.query_params.get("project"))
        rows = selectors.storages_for_project(model=SIDES[self.side], project=project)
        return Response([storage_as_dict(job_check_alive(row)) for row in rows])


class StorageTypesApi(LabelStudioErrors, APIView):
    def get(self, request):
        return Response([{"name": name, "title": module.TITLE} for name, module in KINDS.items()])


# --------------------------------------------------------------------------- resolve


def _fileuri(raw: str) -> str:
    """Label Studio sends ``fileuri`` base64-encoded (URL-safe); older links quote it."""
    if "://" not in raw:
        try:
            decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
            if "://" in decoded:
                return decoded
        except (binascii.Error, ValueError, UnicodeDecodeError):
            pass
    return unquote(raw)


def _sandboxed(response):
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=60"
    return response


def resolve_response(*, project_id: int, raw: str, redirect_status: int = 303):
    found = services.storage_for_uri(project_id=project_id, uri=_fileuri(raw or ""))
    if found is None:
        raise ApiError("Not found.", status_code=404)
    storage, key = found
    url, backend = services.storage_object_url(storage=storage, key=key)
    if url is not None:
        response = HttpResponseRedirect(url, status=redirect_status)
        response["Cache-Control"] = f"private, max-age={max(1, storage.presign_ttl) * 60}"
        return response
    try:
        chunks, content_type, length = backend.open(key)
    except services.StorageError as exc:
        raise ApiError(exc.message, status_code=424) from None
    response = StreamingHttpResponse(
        chunks, content_type=content_type or "application/octet-stream"
    )
    if length is not None:
        response["Content-Length"] = str(length)
    return _sandboxed(response)


class TaskResolveApi(APIView):
    def get(self, request, task_id):
        task = object_for_user(Task, user=request.user, pk=task_id, capability=perms.VIEW)
        if not request.query_params.get("fileuri"):
            raise ApiError("fileuri is required", [{"field": "fileuri", "message": "required"}])
        return resolve_response(project_id=task.project_id, raw=request.query_params["fileuri"])


class ProjectResolveApi(APIView):
    redirect_status = 303

    def get(self, request, project_id):
        project = perms.project_for(request.user, project_id, perms.VIEW)
        if not request.query_params.get("fileuri"):
            raise ApiError("fileuri is required", [{"field": "fileuri", "message": "required"}])
        return resolve_response(
            project_id=project.pk,
            raw=request.query_params["fileuri"],
            redirect_status=self.redirect_status,
        )


class UploadedFileApi(APIView):
    """Label Studio's ``/storage-data/uploaded/?filepath=upload/<project>/<name>``: an
    uploaded file, for members of its project (a redirect to LabelHub's own
    ``/data/upload/<project>/<name>``, which checks again and serves it). No path is a
    404; a path that names no project the user may see is a 403, as Label Studio answers."""

    def get(self, request):
        filepath = request.query_params.get("filepath", "")
        if not filepath:
            raise ApiError("Not found.", status_code=404)
        parts = filepath.removeprefix("/").removeprefix("upload/").split("/")
        if len(parts) != 2 or not parts[0].isdigit() or not parts[1] or ".." in parts[1]:
            raise ApiError("You do not have permission to do this.", status_code=403)
        if not perms.can(request.user, int(parts[0]), perms.VIEW):
            raise ApiError("You do not have permission to do this.", status_code=403)
        return HttpResponseRedirect(f"/data/upload/{int(parts[0])}/{quote(parts[1])}")


class LocalFilesApi(APIView):
    """``/data/local-files/?d=<path under LABELHUB_LOCAL_FILES_ROOT>``: a file named by a
    task of one of the user's projects (importers.localfiles), or lying in the folder of a
    local-files source of one of them (Label Studio serves a storage's files before they
    are imported). Everything else is a 404, as a missing file is."""

    def get(self, request):
        def allowed(user, relative: str) -> bool:
            return localfiles.may_read(user, relative) or selectors.local_file_in_storage(
                user=user, relative=relative
            )

        return localfiles.serve(request, allowed)


class PresignApi(ProjectResolveApi):
    """LabelHub's own ``/api/projects/{id}/presign/?fileuri=``: a 302 to the object."""

    redirect_status = 302

    def get(self, request, pk):
        return super().get(request, pk)
