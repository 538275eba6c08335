"""Quality API: the report, its CSV, the pairwise matrix, the agreement histogram and
Benchmark QA linking.

Admins and reviewers see every annotator; an annotator sees only their own row (asking
for another ``?user=`` answers 403).
"""

from django.http import HttpResponse
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations import quality, quality_selectors
from labelhub.errors import ApiError
from projects import permissions as perms
from projects.api import benchmark_project_resolve
from projects.services import project_update


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
    if wanted not in (None, ""):
        try:
            wanted = int(wanted)
        except ValueError as exc:
            raise ApiError(
                "user must be a user id", [{"field": "user", "message": "not an integer"}]
            ) from exc
    else:
        wanted = None
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
        if request.query_params.get("format") == "csv":
            rows = quality_selectors.annotator_rows(project=project, user_id=user_id)
            response = HttpResponse(
                quality_selectors.annotators_csv(rows), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = (
                f'attachment; filename="project-{project.pk}-annotators.csv"'
            )
            return response
        return Response(quality_selectors.quality_report(project=project, user_id=user_id))


class AgreementMatrixApi(APIView):
    def get(self, request, pk):
        project = perms.project_for(request.user, pk)
        user_id = _scope(request, project)
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
        if fields:
            project = project_update(project=project, **fields)
        added = quality.benchmarks_link(project=project)
        return Response({**quality.quality_settings(project=project), "added": added})
