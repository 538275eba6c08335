from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.shortcuts import get_object_or_404
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from labelhub.errors import ApiError
from labelhub.pagination import count_next_previous, paginate
from projects import permissions as perms
from projects import services
from projects.label_config import ParsedConfig, ls_parsed_label_config
from projects.models import Project, ProjectMember


def user_dict(user) -> dict:
    return {
        "id": user.pk,
        "email": user.email,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "avatar": None,
        "is_staff": user.is_staff,
    }


def project_dict(project: Project) -> dict:
    parsed = ParsedConfig.from_dict(project.parsed_config)
    creator = project.created_by
    return {
        "id": project.pk,
        "title": project.title,
        "description": project.description,
        "expert_instruction": project.expert_instruction,
        "color": project.color,
        "label_config": project.label_config,
        "parsed_label_config": ls_parsed_label_config(parsed),
        "data_types": {key: obj["type"] for key, obj in _data_types(parsed).items()},
        "sampling": project.sampling,
        "maximum_annotations": project.maximum_annotations,
        "show_predictions_to_annotators": project.show_predictions_to_annotators,
        "show_skip_button": project.show_skip_button,
        "created_by": user_dict(creator) if creator else None,
        "created_at": project.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": project.updated_at.isoformat().replace("+00:00", "Z"),
        "task_number": project.task_number,
        "num_tasks_with_annotations": project.num_tasks_with_annotations,
        "total_annotations_number": project.total_annotations_number,
        "total_predictions_number": project.total_predictions_number,
        "ground_truth_number": project.ground_truth_number,
        "skipped_annotations_number": project.skipped_annotations_number,
    }


def _data_types(parsed: ParsedConfig) -> dict:
    return {obj["value"]: obj for obj in parsed.objects.values()}


class ProjectIn(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False, default="New Project")
    description = serializers.CharField(required=False, allow_blank=True)
    expert_instruction = serializers.CharField(required=False, allow_blank=True)
    color = serializers.CharField(required=False, allow_blank=True, max_length=16)
    label_config = serializers.CharField(required=False)
    sampling = serializers.ChoiceField(choices=Project.Sampling.values, required=False)
    maximum_annotations = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    show_predictions_to_annotators = serializers.BooleanField(required=False)
    show_skip_button = serializers.BooleanField(required=False)


DEFAULT_CONFIG = '<View><Text name="text" value="$text"/><Choices name="label" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices></View>'


class ProjectListApi(APIView):
    def get(self, request):
        queryset = (
            Project.objects.for_user(request.user).select_related("created_by").order_by("-id")
        )
        if request.query_params.get("title"):
            queryset = queryset.filter(title__icontains=request.query_params["title"])
        paginator, items = paginate(request, queryset, default_size=50)
        return Response(
            {
                **count_next_previous(request, paginator, items),
                "results": [project_dict(p) for p in items],
            }
        )

    def post(self, request):
        data = ProjectIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields.setdefault("label_config", DEFAULT_CONFIG)
        project = services.project_create(user=request.user, **fields)
        return Response(project_dict(project), status=status.HTTP_201_CREATED)


class ProjectValidateApi(APIView):
    """Check a labeling config without saving it."""

    def post(self, request, pk=None):
        if pk is not None:
            perms.project_for(request.user, pk)
        config = request.data.get("label_config") if isinstance(request.data, dict) else None
        if not isinstance(config, str) or not config.strip():
            raise ApiError(
                "label_config is required", [{"field": "label_config", "message": "required"}]
            )
        parsed = ParsedConfig.from_dict(services.label_config_parse(config))
        return Response(
            {
                "label_config": config,
                "parsed_label_config": ls_parsed_label_config(parsed),
                "data_keys": parsed.data_keys,
            }
        )


class MemberIn(serializers.Serializer):
    user = serializers.IntegerField()
    role = serializers.ChoiceField(
        choices=ProjectMember.Role.values, default=ProjectMember.Role.ANNOTATOR
    )


class ProjectMembersApi(APIView):
    def get(self, request, pk):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        members = (
            ProjectMember.objects.filter(project=project).select_related("user").order_by("id")
        )
        return Response(
            [
                {"user": user_dict(m.user), "role": m.role, "created_at": m.created_at}
                for m in members
            ]
        )

    def post(self, request, pk):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        data = MemberIn(data=request.data)
        data.is_valid(raise_exception=True)
        user = get_user_model().objects.filter(pk=data.validated_data["user"]).first()
        if user is None:
            raise ApiError("No such user", [{"field": "user", "message": "unknown user id"}])
        member = services.member_set(project=project, user=user, role=data.validated_data["role"])
        return Response(
            {"user": user_dict(user), "role": member.role}, status=status.HTTP_201_CREATED
        )

    def delete(self, request, pk):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        user_id = request.data.get("user") if isinstance(request.data, dict) else None
        user_id = user_id or request.query_params.get("user")
        try:
            user_id = int(user_id)
        except (TypeError, ValueError) as exc:
            raise ApiError("user is required", [{"field": "user", "message": "required"}]) from exc
        if not services.member_remove(project=project, user=user_id):
            raise NotFound("Not a member of this project.")
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserIn(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(min_length=8, write_only=True)
    first_name = serializers.CharField(required=False, allow_blank=True, default="")
    last_name = serializers.CharField(required=False, allow_blank=True, default="")
    is_staff = serializers.BooleanField(required=False, default=False)


class UserListApi(APIView):
    def get(self, request):
        users = get_user_model().objects.order_by("id")
        if not request.user.is_staff:
            admin_of = ProjectMember.objects.filter(user=request.user, role=perms.ADMIN).values(
                "project"
            )
            users = users.filter(
                Q(pk=request.user.pk) | Q(memberships__project__in=admin_of)
            ).distinct()
        return Response([user_dict(user) for user in users])

    def post(self, request):
        if not request.user.is_staff:
            raise PermissionDenied("Only administrators create users.")
        data = UserIn(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_create(**data.validated_data)
        return Response(user_dict(user), status=status.HTTP_201_CREATED)


class UserDetailApi(APIView):
    def get(self, request, pk):
        if not request.user.is_staff and int(pk) != request.user.pk:
            raise NotFound("Not found.")
        return Response(user_dict(get_object_or_404(get_user_model(), pk=pk)))


class WhoAmIApi(APIView):
    def get(self, request):
        return Response(user_dict(request.user))


class TokenApi(APIView):
    def get(self, request):
        token, _ = Token.objects.get_or_create(user=request.user)
        return Response({"token": token.key})


class VersionApi(APIView):
    def get(self, request):
        return Response({"release": settings.RELEASE, "edition": "Community", "name": "labelhub"})
