"""Label Studio's per-project read paths that need tasks, annotations and predictions,
so they live here rather than in ``projects``:

- ``GET /api/projects/counts/``: the project list with only the counters;
- ``GET /api/projects/{id}/summary/`` (and ``POST .../summary/reset/``): data columns and
  what the annotations use, computed from the rows on each request;
- ``GET/POST/DELETE /api/projects/{id}/tasks/``: Label Studio's old task list (its
  ``start``/``page``/``page_size`` paging), one task created, every task deleted;
- ``GET /api/projects/{id}/annotators/``: who has annotated;
- ``GET /api/projects/{id}/model-versions/``: prediction counts per model version.
"""

from django.contrib.auth import get_user_model
from django.db.models import Count, IntegerField, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations import selectors, services, visibility
from annotations.models import Annotation, Prediction
from annotations.representations import task_with_annotations_dict
from labelhub.errors import ApiError
from labelhub.pagination import MAX_PAGE_SIZE, count_next_previous, paginate
from projects import permissions as perms
from projects.api import member_user_dict
from projects.models import Project
from projects.selectors import projects_listed
from tasks.models import Task
from tasks.selectors import data_column_counts

# ---------------------------------------------------------------------- counts

COUNT_FIELDS = (
    "task_number",
    "finished_task_number",
    "total_predictions_number",
    "total_annotations_number",
    "num_tasks_with_annotations",
    "useful_annotation_number",
    "ground_truth_number",
    "skipped_annotations_number",
)


def _subquery_count(queryset):
    """The number of ``queryset`` rows per outer project, 0 for none."""
    counted = queryset.order_by().values("project_id").annotate(n=Count("id")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


class ProjectCountsApi(APIView):
    """Label Studio's ``list_counts``: ``{count, next, previous, results: [{id, counters}]}``
    for the projects the caller sees. ``?include=a,b`` keeps only those counters. The
    stored counters answer directly; ``finished_task_number`` (labeled tasks) and
    ``useful_annotation_number`` (submitted, not ground truth) are one indexed count each
    per project of the page."""

    def get(self, request):
        include = request.query_params.get("include")
        fields = list(COUNT_FIELDS)
        if include:
            wanted = [name.strip() for name in include.split(",") if name.strip()]
            unknown = sorted(set(wanted) - set(COUNT_FIELDS) - {"id"})
            if unknown:
                raise ApiError(
                    f"include: unknown count fields {', '.join(unknown)}",
                    [{"field": "include", "message": f"choose from {', '.join(COUNT_FIELDS)}"}],
                )
            fields = [name for name in COUNT_FIELDS if name in wanted]
        projects = projects_listed(user=request.user, params=request.query_params)
        if "finished_task_number" in fields:
            projects = projects.annotate(
                finished_task_number=_subquery_count(
                    Task.objects.filter(project=OuterRef("pk"), is_labeled=True, is_benchmark=False)
                )
            )
        if "useful_annotation_number" in fields:
            projects = projects.annotate(
                useful_annotation_number=_subquery_count(
                    Annotation.objects.filter(
                        project=OuterRef("pk"), was_cancelled=False, ground_truth=False
                    )
                )
            )
        paginator, items = paginate(request, projects, default_size=50)
        return Response(
            {
                **count_next_previous(request, paginator, items),
                "results": [
                    {"id": p.pk, **{name: getattr(p, name) for name in fields}} for p in items
                ],
            }
        )


# --------------------------------------------------------------------- summary


def project_summary(*, project: Project) -> dict:
    """Label Studio's ProjectSummary shape, computed from the rows (so it never drifts
    and needs no reset): data columns with their task counts, the columns every task
    has, and per control (``from|to|type``) and per label how many annotations use it."""
    columns = data_column_counts(project_id=project.pk)
    tasks = max(columns.values(), default=0)
    created_annotations: dict[str, int] = {}
    created_labels: dict[str, dict[str, int]] = {}
    created_labels_drafts: dict[str, dict[str, int]] = {}
    for row in selectors.result_usage(project_id=project.pk):
        if row["source"] == "drafts" and row["label"] is not None:
            labels = created_labels_drafts.setdefault(row["from_name"], {})
            labels[row["label"]] = labels.get(row["label"], 0) + row["count"]
        if row["source"] != "annotations":
            continue
        if row["label"] is None:
            key = f"{row['from_name']}|{row['to_name']}|{row['type']}"
            created_annotations[key] = created_annotations.get(key, 0) + row["count"]
        else:
            labels = created_labels.setdefault(row["from_name"], {})
            labels[row["label"]] = labels.get(row["label"], 0) + row["count"]
    return {
        "project": project.pk,
        "created_at": project.created_at.isoformat().replace("+00:00", "Z"),
        "all_data_columns": columns,
        "common_data_columns": sorted(k for k, n in columns.items() if n == tasks and tasks),
        "created_annotations": created_annotations,
        "created_labels": created_labels,
        "created_labels_drafts": created_labels_drafts,
    }


class ProjectSummaryApi(APIView):
    def get(self, request, pk):
        project = perms.project_for(request.user, pk, perms.READ_ALL_ANNOTATIONS)
        return Response(project_summary(project=project))


class ProjectSummaryResetApi(APIView):
    """Label Studio recounts its stored summary here; ours is computed from the rows on
    each read, so there is nothing to recount: the answer is Label Studio's empty 200
    after the same permission check."""

    def post(self, request, pk):
        perms.project_for(request.user, pk, perms.MANAGE)
        return Response(status=status.HTTP_200_OK)


# ----------------------------------------------------------------------- tasks


def _int_param(request, name: str):
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise ApiError(
            f"{name} must be a whole number", [{"field": name, "message": "not an integer"}]
        ) from exc


def legacy_page_bounds(request) -> tuple[int, int]:
    """``(offset, size)`` of Label Studio's old task paging: ``page_size`` (or
    ``length``, default 50; ``-1`` means all, which we cap at ``MAX_PAGE_SIZE``), and
    either ``start`` (an offset) or ``page`` (from 1). A size of 0 or a page past the end
    is Label Studio's 404."""
    size = _int_param(request, "page_size")
    if size is None:
        size = _int_param(request, "length")
    size = 50 if size is None else size
    if size == -1 or size > MAX_PAGE_SIZE:
        size = MAX_PAGE_SIZE
    if size <= 0:
        raise NotFound("Invalid page.")
    start = _int_param(request, "start")
    if start is not None:
        if start < 0:
            raise ApiError(
                "start must be 0 or more", [{"field": "start", "message": "must be >= 0"}]
            )
        offset = start
    else:
        page = _int_param(request, "page")
        page = 1 if page is None else page
        if page < 1:  # Label Studio: no such page
            raise NotFound("Invalid page.")
        offset = (page - 1) * size
    if offset > 2**62:  # past any id a bigint holds: nothing there
        raise NotFound("Invalid page.")
    return offset, size


def project_task_dict(task: Task, project: Project) -> dict:
    body = task_with_annotations_dict(
        task, annotations=task.annotations.all(), predictions=task.predictions.all()
    )
    body["overlap"] = project.maximum_annotations + task.overlap_extra
    body["inner_id"] = task.pk
    body["updated_by"] = None
    body["file_upload"] = None
    return body


class TaskIn(serializers.Serializer):
    data = serializers.JSONField()
    meta = serializers.JSONField(required=False)

    def validate_data(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("must be a JSON object")
        return value

    def validate_meta(self, value):
        if value is not None and not isinstance(value, dict):
            raise serializers.ValidationError("must be a JSON object")
        return value or {}


class ProjectTasksApi(APIView):
    """Label Studio's ``/api/projects/{id}/tasks/``: a plain list of tasks, newest change
    first, with their annotations and predictions (annotators see their own annotations
    only); ``POST`` one task; ``DELETE`` every task of the project (204)."""

    def get(self, request, pk):
        project = perms.project_for(request.user, pk)
        offset, size = legacy_page_bounds(request)
        queryset = selectors.with_nested(
            Task.objects.filter(project=project).order_by("-updated_at", "-id"),
            user=request.user,
            project=project,
        )
        tasks = list(queryset[offset : offset + size])
        if not tasks:
            raise NotFound("Invalid page.")
        bodies = [project_task_dict(task, project) for task in tasks]
        return Response(
            visibility.tasks_shown(bodies=bodies, tasks=tasks, user=request.user, project=project)
        )

    def post(self, request, pk):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        data = TaskIn(data=request.data)
        data.is_valid(raise_exception=True)
        task = services.task_create(
            project=project,
            data=data.validated_data["data"],
            meta=data.validated_data.get("meta"),
        )
        task = selectors.with_nested(
            Task.objects.filter(pk=task.pk), user=request.user, project=project
        ).get()
        return Response(project_task_dict(task, project), status=status.HTTP_201_CREATED)

    def delete(self, request, pk):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        services.project_tasks_delete_all(project=project)
        return Response(status=status.HTTP_204_NO_CONTENT)


# ------------------------------------------------------------ annotators, versions


class ProjectAnnotatorsApi(APIView):
    """The users who have annotations in the project (Label Studio's UserSimple
    shape), by id. An annotator sees only themself."""

    def get(self, request, pk):
        project = perms.project_for(request.user, pk)
        ids = list(
            Annotation.objects.filter(project=project, completed_by__isnull=False)
            .order_by()
            .values_list("completed_by_id", flat=True)
            .distinct()
        )
        ids = perms.visible_annotators(request.user, project, ids)
        users = get_user_model().objects.filter(pk__in=ids).order_by("id")
        return Response([member_user_dict(user) for user in users])


class ModelVersionsIn(serializers.Serializer):
    extended = serializers.BooleanField(required=False, default=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=10_000)


class ProjectModelVersionsApi(APIView):
    """``{model_version: predictions}``, the most recently used version first, with the
    project's own ``model_version`` at 0 when it has none; ``?extended=true`` gives
    Label Studio's ``{"static": [{model_version, count, latest}], "live": null}``. Those
    who may not see the project's predictions get no versions."""

    def get(self, request, pk):
        project = perms.project_for(request.user, pk)
        data = ModelVersionsIn(data=request.query_params)
        data.is_valid(raise_exception=True)
        rows = (
            Prediction.objects.filter(project=project)
            .values("model_version")
            .annotate(count=Count("id"), latest=Max("created_at"))
            .order_by("-latest", "model_version")
        )
        if not perms.may_see_predictions(request.user, project):
            rows = rows.none()
        limit = data.validated_data.get("limit")
        if data.validated_data["extended"]:
            rows = list(rows[:limit] if limit else rows)
            return Response({"static": rows, "live": None})
        output = {row["model_version"]: row["count"] for row in (rows[:limit] if limit else rows)}
        if project.model_version and project.model_version not in output:
            if not limit or len(output) < limit:
                output[project.model_version] = 0
        return Response(output)

    def delete(self, request, pk):
        """``{"model_version": "..."}``: delete that version's predictions (Label Studio
        answers the count deleted)."""
        project = perms.project_for(request.user, pk, perms.MANAGE)
        body = request.data if isinstance(request.data, dict) else {}
        version = body.get("model_version")
        if not isinstance(version, str) or not version:
            raise ApiError(
                "model_version param is required",
                [{"field": "model_version", "message": "required"}],
            )
        return Response(services.predictions_delete_version(project=project, version=version))
