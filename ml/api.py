"""``/api/ml/...`` with Label Studio's paths and shapes, plus the built-in models as one
more kind of backend, their jobs, and ``POST /api/projects/{id}/predict``."""

import random

from django.conf import settings
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from labelhub.errors import ApiError
from labelhub.jobs import job_check_alive, job_fields
from labelhub.validation import id_value
from ml import remote, selectors, services
from ml.models import MLBackend, PredictionJob, TrainingJob
from projects import permissions as perms
from projects.selectors import object_for_user
from tasks.models import Task
from tasks.representations import task_dict


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if value else None


# Shown in place of a secret: the basic-auth user and each ``extra_params`` value (an API
# key, often) are write-only for everyone, as the basic-auth password is. Sending the
# mask back keeps the stored value, so a GET-then-PATCH round trip changes nothing.
MASK = "********"


def _masked_params(params) -> dict:
    return {key: MASK for key in (params or {})}


def backend_dict(backend: MLBackend) -> dict:
    return {
        "id": backend.pk,
        "project": backend.project_id,
        "kind": backend.kind,
        "model": backend.model or None,
        "url": backend.url or None,
        "title": backend.title,
        "description": backend.description,
        "state": backend.state,
        "readable_state": backend.get_state_display(),
        "error_message": backend.error_message,
        "is_interactive": backend.is_interactive,
        "auth_method": backend.auth_method,
        "basic_auth_user": MASK if backend.basic_auth_user else "",
        "basic_auth_pass_is_set": bool(backend.basic_auth_pass),
        "extra_params": _masked_params(backend.extra_params),
        "timeout": backend.timeout,
        "model_version": backend.model_version,
        "created_at": _iso(backend.created_at),
        "updated_at": _iso(backend.updated_at),
    }


def job_dict(job: TrainingJob) -> dict:
    return {
        **job_fields(job),
        "backend": job.backend_id,
        "status": job.status,
        "progress": job.progress,
        # The name its predictions carry (Label Studio's model_version is a string);
        # ``number`` counts the backend's runs.
        "model_version": job.version_name,
        "number": job.model_version,
        "metrics": job.metrics,
        # The headline metric, its held-out size and a warning when too few to trust.
        "metric": selectors.metric_summary(job),
        "annotations_used": job.annotations_used,
        "error": job.error,
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
    }


def prediction_job_dict(job: PredictionJob) -> dict:
    return {
        **job_fields(job),
        "backend": job.backend_id,
        "model_version": job.model_version,
        "status": job.status,
        "progress": job.progress,
        "total": job.total,
        "processed": job.processed,
        "written": job.written,
        "dropped": job.dropped,
        "dropped_errors": job.dropped_errors[:20],
        "error": job.error,
        "created_at": _iso(job.created_at),
        "finished_at": _iso(job.finished_at),
    }


def _backend_for(user, pk, capability=perms.VIEW) -> MLBackend:
    return object_for_user(MLBackend, user=user, pk=pk, capability=capability)


class BackendIn(serializers.Serializer):
    project = serializers.IntegerField(required=False)
    kind = serializers.ChoiceField(choices=MLBackend.Kind.values, required=False)
    model = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    url = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    title = serializers.CharField(required=False, allow_blank=True, max_length=255)
    description = serializers.CharField(required=False, allow_blank=True)
    is_interactive = serializers.BooleanField(required=False)
    auth_method = serializers.ChoiceField(choices=MLBackend.AuthMethod.values, required=False)
    basic_auth_user = serializers.CharField(required=False, allow_blank=True, max_length=255)
    basic_auth_pass = serializers.CharField(required=False, allow_blank=True, max_length=255)
    extra_params = serializers.JSONField(required=False)
    timeout = serializers.FloatField(required=False, min_value=0.1, max_value=3600)
    model_version = serializers.CharField(required=False, allow_blank=True, max_length=255)

    def validate_extra_params(self, value):
        if value is not None and not isinstance(value, dict):
            raise serializers.ValidationError("must be a JSON object")
        return value or {}


class BackendListApi(APIView):
    def get(self, request):
        project = perms.project_for(request.user, request.query_params.get("project"))
        return Response([backend_dict(b) for b in selectors.backends_for_project(project=project)])

    def post(self, request):
        data = BackendIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if "project" not in fields:
            raise ApiError("project is required", [{"field": "project", "message": "required"}])
        project = perms.project_for(request.user, fields.pop("project"), perms.MANAGE)
        kind = fields.pop("kind", None) or ("builtin" if fields.get("model") else "remote")
        model = fields.pop("model", None) or ""
        if kind == "builtin" and fields.get("url"):
            raise ApiError(
                "a built-in model has no url", [{"field": "url", "message": "must be null"}]
            )
        if not fields.get("url"):
            fields.pop("url", None)
        backend = services.backend_create(project=project, kind=kind, model=model, **fields)
        return Response(backend_dict(backend), status=status.HTTP_201_CREATED)


class BackendDetailApi(APIView):
    def get(self, request, pk):
        return Response(backend_dict(_backend_for(request.user, pk)))

    def patch(self, request, pk):
        backend = _backend_for(request.user, pk, perms.MANAGE)
        data = BackendIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        for fixed in ("project", "kind", "model"):
            if (
                fixed in fields
                and fields[fixed] != getattr(backend, f"{fixed}_id", None)
                and (fields[fixed] != getattr(backend, fixed, None))
            ):
                raise ApiError(
                    f"{fixed} cannot be changed", [{"field": fixed, "message": "read-only"}]
                )
            fields.pop(fixed, None)
        if backend.kind == MLBackend.Kind.BUILTIN and fields.get("url") is None:
            fields.pop("url", None)
        _keep_masked(backend, fields)
        backend = services.backend_update(backend=backend, **fields)
        return Response(backend_dict(backend))

    def put(self, request, pk):
        """Label Studio also takes PUT here: the same partial update as PATCH."""
        return self.patch(request, pk)

    def delete(self, request, pk):
        services.backend_delete(backend=_backend_for(request.user, pk, perms.MANAGE))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _keep_masked(backend: MLBackend, fields: dict) -> None:
    """A secret sent back as ``MASK`` keeps its stored value."""
    for name in ("basic_auth_user", "basic_auth_pass"):
        if fields.get(name) == MASK:
            fields.pop(name)
    params = fields.get("extra_params")
    if isinstance(params, dict):
        stored = backend.extra_params or {}
        fields["extra_params"] = {
            key: stored.get(key) if value == MASK and key in stored else value
            for key, value in params.items()
        }


def _predictions_check(user, project) -> None:
    """``show_predictions_to_annotators: false`` holds on the paths that predict now."""
    if not perms.may_see_predictions(user, project):
        raise PermissionDenied("This project does not show predictions to annotators.")


class BackendHealthApi(APIView):
    def get(self, request, pk):
        backend = _backend_for(request.user, pk)
        return Response(services.backend_health(backend=backend))


class BackendTrainApi(APIView):
    def post(self, request, pk):
        backend = _backend_for(request.user, pk, perms.MANAGE)
        job = services.training_job_create(backend=backend, user=request.user)
        return Response({"job": job.pk, "status": job.status}, status=status.HTTP_201_CREATED)


class BackendJobsApi(APIView):
    def get(self, request, pk):
        backend = _backend_for(request.user, pk)
        jobs = [job_check_alive(j) for j in selectors.jobs_for_backend(backend=backend)[:100]]
        return Response([job_dict(job) for job in jobs])


class BackendJobDetailApi(APIView):
    def get(self, request, pk, job_id):
        backend = _backend_for(request.user, pk)
        job = TrainingJob.objects.filter(backend=backend, pk=job_id).first()
        if job is None:
            raise NotFound("Not found.")
        return Response(job_dict(job_check_alive(job)))


class BackendPredictionJobsApi(APIView):
    def get(self, request, pk):
        backend = _backend_for(request.user, pk)
        jobs = selectors.prediction_jobs_for_backend(backend=backend)[:100]
        return Response([prediction_job_dict(job_check_alive(j)) for j in jobs])


class BackendVersionsApi(APIView):
    """Label Studio's ``{"versions": [...], "message"}``; ours also carry metrics, each
    version's headline ``metric`` and ``value`` with ``held_out`` (how many tasks it was
    measured on) and ``warning`` (fewer than 30 of them, or the training set itself)."""

    def get(self, request, pk):
        backend = _backend_for(request.user, pk)
        jobs = selectors.jobs_for_backend(backend=backend).filter(status="completed")
        versions = [
            {
                "model_version": job.version_name
                if backend.kind == MLBackend.Kind.BUILTIN
                else backend.model_version,
                "number": job.model_version,
                "metrics": job.metrics,
                **selectors.metric_summary(job),
                "annotations_used": job.annotations_used,
                "created_at": _iso(job.finished_at),
                "current": job.pk == backend.current_job_id,
            }
            for job in jobs
        ]
        return Response(
            {"versions": [v["model_version"] for v in versions], "details": versions, "message": ""}
        )


def _sample_task(backend: MLBackend, body) -> Task:
    """The task named by ``body["task"]`` (an id in the backend's project), or a random
    one when the body names none. A body that is not an object, or a ``task`` that is
    not an id, is a 400 naming it."""
    if body is None or (hasattr(body, "keys") and not body):
        body = {}
    if not isinstance(body, dict) and not hasattr(body, "getlist"):
        raise ApiError(
            "the body must be a JSON object", [{"field": None, "message": "not an object"}]
        )
    task_id = body.get("task")
    tasks = Task.objects.filter(project_id=backend.project_id)
    if task_id is not None:
        task_id = id_value(task_id, "task")
        task = tasks.filter(pk=task_id).first()
        if task is None:
            raise ApiError(
                f"task {task_id} is not in this project",
                [{"field": "task", "message": "unknown task"}],
            )
        return task
    ids = list(tasks.order_by("id").values_list("id", flat=True)[:1000])
    if not ids:
        raise ApiError("the project has no tasks", [{"field": "task", "message": "no tasks"}])
    return tasks.get(pk=random.choice(ids))


class BackendPredictTestApi(APIView):
    """Predict for one task (given, or a random one) now, with a short timeout: 502 or
    504 when the backend fails. Nothing is written."""

    def post(self, request, pk):
        backend = _backend_for(request.user, pk, perms.MANAGE)
        task = _sample_task(backend, request.data)
        [prediction] = services.predictions_for_data(
            backend=backend,
            datas=[task.data],
            timeout=settings.LABELHUB_ML_INTERACTIVE_TIMEOUT,
        )
        return Response({"task": task.pk, "prediction": prediction, "status": "ok"})


class BackendInteractiveApi(APIView):
    """Interactive pre-annotation for one task in the editor (short timeout)."""

    def post(self, request, pk):
        backend = _backend_for(request.user, pk, perms.ANNOTATE)
        _predictions_check(request.user, backend.project)
        body = request.data
        if not isinstance(body, dict) and not hasattr(body, "getlist"):
            raise ApiError(
                "the body must be a JSON object", [{"field": None, "message": "not an object"}]
            )
        task = _sample_task(backend, body if "task" in body else {"task": -1})
        context = body.get("context")
        if backend.kind == MLBackend.Kind.REMOTE:
            payload = task_dict(task, annotations=[], predictions=[])
            saved = backend.extra_params
            backend.extra_params = {**(saved or {}), "context": context}
            try:
                [prediction] = remote.predict(
                    backend,
                    backend.project,
                    [payload],
                    timeout=settings.LABELHUB_ML_INTERACTIVE_TIMEOUT,
                )
            except remote.BackendError as exc:
                raise ApiError(
                    str(exc), [{"field": "backend", "message": str(exc)}], exc.status
                ) from None
            finally:
                backend.extra_params = saved
        else:
            [prediction] = services.predictions_for_data(backend=backend, datas=[task.data])
        return Response({"data": prediction})


class ModelsApi(APIView):
    def get(self, request):
        project = perms.project_for(request.user, request.query_params.get("project"))
        return Response(selectors.models_for_project(project=project))


class LearningCurveApi(APIView):
    def get(self, request, pk):
        project = perms.project_for(request.user, pk)
        return Response(selectors.learning_curve(project=project))


class ActiveLearningCheckApi(APIView):
    """Is active learning beating random picks here? (``ml.selectors.al_report``)"""

    def get(self, request, pk):
        project = perms.project_for(request.user, pk)
        return Response(selectors.al_report(project=project))


class TasksIn(serializers.Serializer):
    tasks = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=1000)
    backend = serializers.IntegerField(required=False)


class ProjectPredictApi(APIView):
    """Predictions for new data samples from the current model, without creating tasks."""

    def post(self, request, pk):
        project = perms.project_for(request.user, pk, perms.VIEW)
        _predictions_check(request.user, project)
        data = TasksIn(data=request.data)
        data.is_valid(raise_exception=True)
        datas = []
        for index, item in enumerate(data.validated_data["tasks"]):
            value = item.get("data", item)
            if not isinstance(value, dict):
                raise ApiError(
                    f"tasks[{index}].data must be an object",
                    [{"record": index, "field": "data", "message": "not an object"}],
                )
            datas.append(value)
        backend = services.predicting_backend(
            project=project, backend_id=data.validated_data.get("backend")
        )
        predictions = services.predictions_for_data(
            backend=backend, datas=datas, timeout=settings.LABELHUB_ML_INTERACTIVE_TIMEOUT
        )
        return Response(
            {
                "model_version": backend.model_version,
                "predictions": predictions,
            }
        )
