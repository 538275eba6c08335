"""The annotations app's HTTP API: a task's annotations and drafts, annotations,
predictions, reviews, the Label Stream (``/api/projects/{id}/next/``) and the Verify Stream
(``/api/projects/{id}/verify/next/`` and ``.../verify/progress/``). The task and project
detail endpoints are their apps' (``tasks.api``, ``projects.detail_api``).

Quality (``/api/projects/{id}/quality/...``): the report, its CSV, the pairwise matrix, the
agreement histogram and Benchmark QA linking. Admins and reviewers see every annotator;
an annotator sees only their own row (asking for another ``?user=`` answers 403).
"""

import math

from django.http import HttpResponse
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations import (
    benchmarks,
    quality,
    quality_selectors,
    selectors,
    services,
    stream,
    verify,
)
from annotations.models import Annotation, AnnotationDraft, Prediction
from annotations.representations import (
    annotation_dict,
    draft_dict,
    prediction_dict,
    review_dict,
    task_with_annotations_dict,
)
from labelhub.errors import ApiError
from labelhub.params import is_true
from labelhub.validation import MAX_FLOAT, MAX_ID, id_value
from projects import permissions as perms
from projects.api import benchmark_project_resolve
from projects.selectors import object_for_user
from tasks.models import Task


class AnnotationIn(serializers.Serializer):
    result = serializers.JSONField(required=False, default=list)
    was_cancelled = serializers.BooleanField(required=False, default=False)
    ground_truth = serializers.BooleanField(required=False, default=False)
    lead_time = serializers.FloatField(required=False, allow_null=True, min_value=0)
    parent_prediction = serializers.IntegerField(required=False, allow_null=True)
    parent_annotation = serializers.IntegerField(required=False, allow_null=True)
    draft_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID
    )


_ID_FIELDS = {"parent_prediction": -MAX_ID - 1, "parent_annotation": -MAX_ID - 1, "draft_id": 1}


def _plain_annotation_in(data) -> dict | None:
    """``AnnotationIn``'s validated data for the usual JSON body (booleans as booleans,
    numbers as numbers, within the serializer's bounds), without building the serializer:
    DRF deep-copies its seven fields for every instance, a tenth of a submit's CPU
    (``bench/request_profile.py --profile create``). None for anything else, which the
    serializer then reads (or answers 400 for) as before."""
    if type(data) is not dict:
        return None
    fields = {"result": data.get("result", []), "was_cancelled": False, "ground_truth": False}
    if fields["result"] is None:
        return None
    for name in ("was_cancelled", "ground_truth"):
        if name in data:
            if type(data[name]) is not bool:
                return None
            fields[name] = data[name]
    if "lead_time" in data:
        value = data["lead_time"]
        if value is not None and not (
            type(value) in (int, float) and 0 <= value <= MAX_FLOAT and math.isfinite(value)
        ):
            return None
        fields["lead_time"] = None if value is None else float(value)
    for name, low in _ID_FIELDS.items():
        if name in data:
            value = data[name]
            if value is not None and not (type(value) is int and low <= value <= MAX_ID):
                return None
            fields[name] = value
    return fields


class AnnotationPatchIn(serializers.Serializer):
    result = serializers.JSONField(required=False)
    was_cancelled = serializers.BooleanField(required=False)
    ground_truth = serializers.BooleanField(required=False)
    lead_time = serializers.FloatField(required=False, allow_null=True, min_value=0)


def _annotation(user, pk) -> Annotation:
    """An annotation the user may read (annotators: only their own)."""
    return object_for_user(
        Annotation,
        user=user,
        pk=pk,
        queryset=Annotation.objects.select_related("task", "completed_by"),
        visible=perms.can_read_annotation,
    )


def _submitted_draft(user, task: Task, draft_id: int | None) -> AnnotationDraft | None:
    """The draft a submit names (``draft_id``), to delete with it: 403 when it is
    another user's or another task's (Label Studio's answer); an id that no longer
    exists is ignored (the draft went with an earlier submit)."""
    if draft_id is None:
        return None
    draft = AnnotationDraft.objects.filter(pk=draft_id).first()
    if draft is not None and (draft.task_id != task.pk or draft.user_id != user.pk):
        raise PermissionDenied(f"You have no permission to draft id:{draft_id}")
    return draft


class TaskAnnotationsApi(APIView):
    def get(self, request, pk):
        task = object_for_user(Task, user=request.user, pk=pk)
        annotations = (
            Annotation.objects.filter(task=task)
            .order_by("id")
            .select_related("completed_by")
            .prefetch_related("reviews")
        )
        if not perms.can(request.user, task.project, perms.READ_ALL_ANNOTATIONS):
            annotations = annotations.filter(completed_by=request.user)
        return Response([annotation_dict(a, with_reviews=True) for a in annotations])

    def post(self, request, pk):
        task = object_for_user(Task, user=request.user, pk=pk, capability=perms.ANNOTATE)
        fields = _plain_annotation_in(request.data)
        if fields is None:
            data = AnnotationIn(data=request.data)
            data.is_valid(raise_exception=True)
            fields = dict(data.validated_data)
        # Label Studio's skip: ``?was_cancelled=1`` on the URL does what the body field does.
        if is_true(request.query_params.get("was_cancelled")):
            fields["was_cancelled"] = True
        parent_prediction = fields.pop("parent_prediction", None)
        parent_annotation = fields.pop("parent_annotation", None)
        draft = _submitted_draft(request.user, task, fields.pop("draft_id", None))
        if parent_prediction is not None:
            parent_prediction = Prediction.objects.filter(pk=parent_prediction, task=task).first()
            if parent_prediction is None:
                raise ApiError(
                    "parent_prediction is not a prediction of this task",
                    [{"field": "parent_prediction", "message": "not found in this task"}],
                )
        if parent_annotation is not None:
            parent_annotation = Annotation.objects.filter(pk=parent_annotation, task=task).first()
            if parent_annotation is None:
                raise ApiError(
                    "parent_annotation is not an annotation of this task",
                    [{"field": "parent_annotation", "message": "not found in this task"}],
                )
        if fields.get("ground_truth") and not perms.can(request.user, task.project, perms.MANAGE):
            raise PermissionDenied("Only project admins mark ground truth on create.")
        annotation = services.annotation_create(
            task=task,
            user=request.user,
            parent_prediction=parent_prediction,
            parent_annotation=parent_annotation,
            draft=draft,
            once=not perms.can(request.user, task.project, perms.MANAGE),
            **fields,
        )
        body = annotation_dict(annotation)
        body["reviews"] = []  # a new annotation has none: no query for them
        project = task.project
        if (
            project.benchmark_feedback
            and not annotation.was_cancelled
            and benchmarks.is_benchmark_task(project=project, task=task)
        ):
            # Benchmark QA feedback: the score against the gold answer, once submitted.
            body["benchmark_score"] = benchmarks.benchmark_score(annotation=annotation)
        if is_true(request.query_params.get("next")) and perms.can(
            request.user, project, perms.ANNOTATE
        ):
            # The Label Stream's submit and its next task in one round trip (``?next=1``):
            # ``next_task`` is the caller's next task as GET /api/projects/{id}/next/
            # would give it, or null when none is left. It runs after the annotation
            # committed, so the task just done is not handed out again.
            following = stream.next_task(project=project, user=request.user)
            body["next_task"] = (
                stream.stream_task_dict(task=following, project=project, user=request.user)
                if following is not None
                else None
            )
        return Response(body, status=status.HTTP_201_CREATED)


class AnnotationDetailApi(APIView):
    def get(self, request, pk):
        return Response(annotation_dict(_annotation(request.user, pk), with_reviews=True))

    def patch(self, request, pk):
        annotation = _annotation(request.user, pk)
        data = AnnotationPatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        only_ground_truth = set(fields) <= {"ground_truth"}
        may_mark = perms.can(request.user, annotation.project_id, perms.REVIEW)
        if not perms.can_change_annotation(request.user, annotation) and not (
            only_ground_truth and may_mark
        ):
            raise PermissionDenied("You may change only your own annotations.")
        if "ground_truth" in fields and not may_mark:
            raise PermissionDenied("Only admins and reviewers mark ground truth.")
        annotation = services.annotation_update(annotation=annotation, **fields)
        return Response(annotation_dict(annotation, with_reviews=True))

    def put(self, request, pk):
        """Label Studio also takes PUT here: the same partial update as PATCH."""
        return self.patch(request, pk)

    def delete(self, request, pk):
        annotation = _annotation(request.user, pk)
        if not perms.can_change_annotation(request.user, annotation):
            raise PermissionDenied("You may delete only your own annotations.")
        services.annotation_delete(annotation=annotation)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReviewIn(serializers.Serializer):
    accepted = serializers.BooleanField()
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)


class AnnotationReviewsApi(APIView):
    def get(self, request, pk):
        annotation = _annotation(request.user, pk)
        return Response([review_dict(r) for r in annotation.reviews.order_by("id")])

    def post(self, request, pk):
        annotation = _annotation(request.user, pk)
        perms.check(request.user, annotation.project_id, perms.REVIEW)
        data = ReviewIn(data=request.data)
        data.is_valid(raise_exception=True)
        review = services.review_set(
            annotation=annotation,
            reviewer=request.user,
            accepted=data.validated_data["accepted"],
            comment=data.validated_data["comment"],
        )
        return Response(review_dict(review), status=status.HTTP_201_CREATED)


class AnnotationReviewHistoryApi(APIView):
    """``GET /api/annotations/{id}/review-history/``: every verdict ever given on the
    annotation (``/reviews/`` holds only each reviewer's current one, and a rework
    takes the rejections off), oldest first. Anyone who may read the annotation."""

    def get(self, request, pk):
        annotation = _annotation(request.user, pk)
        return Response(verify.review_history(annotation=annotation))


class PredictionIn(serializers.Serializer):
    task = serializers.IntegerField()
    result = serializers.JSONField()
    score = serializers.FloatField(required=False, allow_null=True)
    model_version = serializers.CharField(
        required=False, allow_blank=True, max_length=255, default=""
    )


class PredictionPatchIn(serializers.Serializer):
    result = serializers.JSONField(required=False)
    score = serializers.FloatField(required=False, allow_null=True)
    model_version = serializers.CharField(required=False, allow_blank=True, max_length=255)


class PredictionListApi(APIView):
    def get(self, request):
        predictions = Prediction.objects.order_by("id")
        if request.query_params.get("task"):
            task = object_for_user(Task, user=request.user, pk=request.query_params["task"])
            predictions = predictions.filter(task=task)
        elif request.query_params.get("project"):
            project = perms.project_for(request.user, request.query_params["project"])
            predictions = predictions.filter(project=project)
        else:
            raise ApiError(
                "task or project is required", [{"field": "task", "message": "required"}]
            )
        shown = task.project if request.query_params.get("task") else project
        if not perms.may_see_predictions(request.user, shown):
            predictions = predictions.none()
        return Response([prediction_dict(p) for p in predictions])

    def post(self, request):
        data = PredictionIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        task = object_for_user(
            Task, user=request.user, pk=fields.pop("task"), capability=perms.MANAGE
        )
        prediction = services.prediction_create(task=task, **fields)
        return Response(prediction_dict(prediction), status=status.HTTP_201_CREATED)


class PredictionDetailApi(APIView):
    def get(self, request, pk):
        prediction = object_for_user(
            Prediction,
            user=request.user,
            pk=pk,
            # hidden predictions (show_predictions_to_annotators off) are not there for them
            visible=lambda user, p: perms.may_see_predictions(user, p.project),
        )
        return Response(prediction_dict(prediction))

    def patch(self, request, pk):
        prediction = object_for_user(Prediction, user=request.user, pk=pk, capability=perms.MANAGE)
        data = PredictionPatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        prediction = services.prediction_update(prediction=prediction, **data.validated_data)
        return Response(prediction_dict(prediction))

    def put(self, request, pk):
        """Label Studio also takes PUT here: the same partial update as PATCH."""
        return self.patch(request, pk)

    def delete(self, request, pk):
        prediction = object_for_user(Prediction, user=request.user, pk=pk, capability=perms.MANAGE)
        services.prediction_delete(prediction=prediction)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --------------------------------------------------------------------- Label Stream


class NextTaskApi(APIView):
    """The next task for the caller, locked for them; 404 ``No more tasks`` when the
    project has nothing left for them (the answer Label Studio gives)."""

    def get(self, request, pk):
        project = perms.project_for(request.user, pk, perms.ANNOTATE)
        task = stream.next_task(project=project, user=request.user)
        if task is None:
            raise NotFound("No more tasks")
        return Response(stream.stream_task_dict(task=task, project=project, user=request.user))


class MyAnnotationsIn(serializers.Serializer):
    before = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)


class MyAnnotationsApi(APIView):
    """The caller's own annotations in the project, newest first (the Label Stream's
    "My annotations"): ``{results, next}``, where ``next`` is the ``before=`` of the
    next page or null. Anyone who may annotate the project asks only for their own."""

    def get(self, request, pk):
        project = perms.project_for(request.user, pk, perms.ANNOTATE)
        data = MyAnnotationsIn(data=request.query_params)
        data.is_valid(raise_exception=True)
        limit = data.validated_data["limit"]
        rows = selectors.user_annotations(
            project=project,
            user=request.user,
            before=data.validated_data.get("before"),
            limit=limit + 1,
        )
        more = len(rows) > limit
        rows = rows[:limit]
        return Response({"results": rows, "next": rows[-1]["id"] if more else None})


# --------------------------------------------------------------------- Verify Stream


class VerifyNextApi(APIView):
    def get(self, request, pk):

        project = perms.project_for(request.user, pk, perms.REVIEW)
        exclude = request.query_params.get("exclude")
        annotation = verify.verify_next(
            project=project,
            user=request.user,
            exclude=int(exclude)
            if str(exclude or "").isdigit() and int(exclude) <= MAX_ID
            else None,
        )
        if annotation is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        task = annotation.task
        body = {
            "task": task_with_annotations_dict(
                task, predictions=list(task.predictions.order_by("id"))
            ),
            "annotation": annotation_dict(annotation, with_reviews=True),
            "progress": verify.verify_progress(project=project, user=request.user),
        }
        body["annotation"]["completed_by_email"] = getattr(annotation.completed_by, "email", None)
        body["review_history"] = verify.review_history(annotation=annotation)
        return Response(body)


class VerifyProgressApi(APIView):
    def get(self, request, pk):

        project = perms.project_for(request.user, pk, perms.REVIEW)
        return Response(verify.verify_progress(project=project, user=request.user))


class CsvRenderer(BaseRenderer):
    """Lets DRF accept ``?format=csv`` (its format override); the view builds the body."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, str | bytes) else str(data)


def _scope(request, project) -> int | None:
    """The annotator whose rows the caller may see: None (everyone) for admins and
    reviewers, the caller themselves for annotators."""
    wanted = request.query_params.get("user")
    wanted = id_value(wanted, "user") if wanted not in (None, "") else None
    if perms.can(request.user, project, perms.READ_ALL_ANNOTATIONS):
        return wanted
    if wanted is not None and wanted != request.user.pk:
        raise PermissionDenied("Annotators see only their own quality figures.")
    return request.user.pk


class QualityApi(APIView):
    renderer_classes = [JSONRenderer, CsvRenderer]

    def get(self, request, pk):
        project = perms.project_for(request.user, pk)
        user_id = _scope(request, project)
        see_all = perms.can(request.user, project, perms.READ_ALL_ANNOTATIONS)
        if request.query_params.get("format") == "csv":
            rows = quality_selectors.annotator_rows(project=project, user_id=user_id)
            if not see_all:
                quality_selectors.rows_for_annotator(rows)
            response = HttpResponse(
                quality_selectors.annotators_csv(rows), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = (
                f'attachment; filename="project-{project.pk}-annotators.csv"'
            )
            return response
        report = quality_selectors.quality_report(project=project, user_id=user_id)
        if not see_all:
            quality_selectors.report_for_annotator(report)
        return Response(report)


class AgreementMatrixApi(APIView):
    def get(self, request, pk):
        project = perms.project_for(request.user, pk)
        user_id = _scope(request, project)
        if not perms.can(request.user, project, perms.READ_ALL_ANNOTATIONS):
            return Response(quality_selectors.matrix_for_annotator(user=request.user))
        return Response(quality_selectors.agreement_matrix(project=project, user_id=user_id))


class AgreementHistogramApi(APIView):
    def get(self, request, pk):
        project = perms.project_for(request.user, pk, perms.READ_ALL_ANNOTATIONS)
        return Response(quality_selectors.agreement_histogram(project=project))


class BenchmarkLinkIn(serializers.Serializer):
    benchmark_project = serializers.IntegerField(required=False, allow_null=True)
    benchmark_first = serializers.IntegerField(required=False)
    benchmark_rate = serializers.FloatField(required=False)
    benchmark_feedback = serializers.BooleanField(required=False)
    agreement_threshold = serializers.FloatField(required=False)
    reassign_low_agreement = serializers.BooleanField(required=False)


class QualitySettingsApi(APIView):
    """GET the quality settings; POST changes them and links the benchmark project (a
    re-link adds only its new ground-truth tasks). Answers the settings with
    ``{"added": n, "benchmark_tasks": total}``."""

    def get(self, request, pk):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        return Response(quality.quality_settings(project=project))

    def post(self, request, pk):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        data = BenchmarkLinkIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = benchmark_project_resolve(request.user, dict(data.validated_data))
        if "benchmark_project" not in fields:
            # A POST links the stored benchmark project again: only for someone who may
            # still manage it (checked before anything is saved).
            benchmarks.benchmark_link_check(project=project, user=request.user)
        if fields:
            project = services.project_update(project=project, **fields)
        added = benchmarks.benchmarks_link(project=project, user=request.user)
        return Response({**quality.quality_settings(project=project), "added": added})


# --------------------------------------------------------------------- drafts


class DraftIn(serializers.Serializer):
    result = serializers.JSONField()
    lead_time = serializers.FloatField(required=False, allow_null=True, min_value=0)
    was_postponed = serializers.BooleanField(required=False)
    import_id = serializers.IntegerField(required=False, allow_null=True, min_value=0)


class DraftPatchIn(serializers.Serializer):
    result = serializers.JSONField(required=False)
    lead_time = serializers.FloatField(required=False, allow_null=True, min_value=0)
    was_postponed = serializers.BooleanField(required=False)


class TaskDraftsApi(APIView):
    """``/api/tasks/{id}/drafts`` and ``/api/tasks/{id}/annotations/{id}/drafts``: GET
    lists the drafts the caller may read (``selectors.task_drafts``); POST saves the
    caller's draft of the task (or of the annotation), creating it or updating the one
    they have, and answers 201 with it either way (Label Studio always creates)."""

    def _target(self, request, pk, annotation_pk, capability):
        task = object_for_user(Task, user=request.user, pk=pk, capability=capability)
        annotation = None
        if annotation_pk is not None:
            annotation = _annotation(request.user, annotation_pk)
            if annotation.task_id != task.pk:
                raise NotFound("Not found.")
        return task, annotation

    def get(self, request, pk, annotation_pk=None):
        task, annotation = self._target(request, pk, annotation_pk, perms.VIEW)
        drafts = selectors.task_drafts(task=task, user=request.user, annotation=annotation)
        return Response([draft_dict(d) for d in drafts])

    def post(self, request, pk, annotation_pk=None):
        task, annotation = self._target(request, pk, annotation_pk, perms.ANNOTATE)
        data = DraftIn(data=request.data)
        data.is_valid(raise_exception=True)
        draft = services.draft_save(
            task=task, user=request.user, annotation=annotation, **data.validated_data
        )
        return Response(draft_dict(draft), status=status.HTTP_201_CREATED)


class DraftDetailApi(APIView):
    """``/api/drafts/{id}/``: its author reads, changes and deletes it; admins and
    reviewers of the project may read it; anyone else gets 404."""

    def get(self, request, pk):
        return Response(draft_dict(selectors.draft_for_user(user=request.user, pk=pk)))

    def patch(self, request, pk):
        draft = selectors.draft_for_user(user=request.user, pk=pk, change=True)
        data = DraftPatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        draft = services.draft_update(draft=draft, **data.validated_data)
        return Response(draft_dict(draft))

    def put(self, request, pk):
        return self.patch(request, pk)

    def delete(self, request, pk):
        draft = selectors.draft_for_user(user=request.user, pk=pk, change=True)
        services.draft_delete(draft=draft)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AnnotationConvertToDraftApi(APIView):
    """``POST /api/annotations/{id}/convert-to-draft``: the annotation becomes the
    caller's draft of its task and is deleted (201 with the draft). Only who may
    delete the annotation may convert it."""

    def post(self, request, pk):
        annotation = _annotation(request.user, pk)
        if not perms.can_change_annotation(request.user, annotation):
            raise PermissionDenied("You may convert only your own annotations.")
        draft = services.annotation_to_draft(annotation=annotation, user=request.user)
        return Response(draft_dict(draft), status=status.HTTP_201_CREATED)


class TaskAgreementApi(APIView):
    def get(self, request, pk):
        task = object_for_user(Task, user=request.user, pk=pk)
        return Response(selectors.task_agreement(task=task, user=request.user))


class LabelStreamHistoryApi(APIView):
    """``/api/projects/{id}/label-stream-history/``: the caller's own history."""

    def get(self, request, pk):
        project = perms.project_for(request.user, pk)
        return Response(selectors.stream_history(project=project, user=request.user))
