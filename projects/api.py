from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import MethodNotAllowed, NotFound, PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from labelhub import system
from labelhub.errors import ApiError
from labelhub.pagination import count_next_previous, paginate
from labelhub.validation import MAX_ID, id_value
from projects import accounts_selectors as account_selectors
from projects import accounts_services as account_services
from projects import permissions as perms
from projects import services
from projects.label_config import (
    ParsedConfig,
    ls_parsed_label_config,
    suitable_for_bulk_annotation,
)
from projects.models import Project, ProjectMember
from projects.selectors import member_rows, projects_listed


def member_user_dict(user) -> dict:
    """What a member list, a project's creator or a user list needs to show a person:
    no staff flag, no username (it may differ from the email)."""
    return {
        "id": user.pk,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "avatar": account_selectors.avatar_url(user),
    }


def user_dict(user) -> dict:
    """The full record: for the user themself (whoami) and for staff. Label Studio's
    user fields; the avatar and hotkeys need ``profile`` selected (or one query)."""
    account_selectors.profile_load(user)
    return {
        **member_user_dict(user),
        "username": user.username,
        "is_staff": user.is_staff,
        "can_create_projects": perms.may_create_projects(user),
        "custom_hotkeys": account_selectors.custom_hotkeys(user),
        "active_organization": account_selectors.ORGANIZATION_ID,
        "date_joined": user.date_joined.isoformat().replace("+00:00", "Z"),
        "last_activity": user.last_login.isoformat().replace("+00:00", "Z")
        if user.last_login
        else None,
        "phone": "",
        "allow_newsletters": None,
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
        "config_has_control_tags": bool(parsed.controls),
        "config_suitable_for_bulk_annotation": suitable_for_bulk_annotation(parsed),
        "sampling": project.sampling,
        "maximum_annotations": project.maximum_annotations,
        "show_predictions_to_annotators": project.show_predictions_to_annotators,
        "show_skip_button": project.show_skip_button,
        "enable_empty_annotation": project.enable_empty_annotation,
        "skip_queue": project.skip_queue,
        "is_draft": project.is_draft,
        "is_published": project.is_published,
        **{name: getattr(project, name) for name in services.ML_FIELDS},
        "created_by": member_user_dict(creator) if creator else None,
        "created_at": project.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": project.updated_at.isoformat().replace("+00:00", "Z"),
        "pinned_at": (
            project.pinned_at.isoformat().replace("+00:00", "Z") if project.pinned_at else None
        ),
        "task_number": project.task_number,
        "num_tasks_with_annotations": project.num_tasks_with_annotations,
        "total_annotations_number": project.total_annotations_number,
        "total_predictions_number": project.total_predictions_number,
        "ground_truth_number": project.ground_truth_number,
        "skipped_annotations_number": project.skipped_annotations_number,
        "benchmark_project": project.benchmark_project_id,
        "benchmark_first": project.benchmark_first,
        "benchmark_rate": project.benchmark_rate,
        "benchmark_feedback": project.benchmark_feedback,
        "agreement_threshold": project.agreement_threshold,
        "reassign_low_agreement": project.reassign_low_agreement,
    }


# Benchmark QA and agreement settings, for those who read every annotation: an annotator
# who knew ``benchmark_first`` and ``benchmark_rate`` would know which of their tasks are
# benchmarks (README, "Benchmark QA").
QUALITY_FIELDS = (
    "benchmark_project",
    "benchmark_first",
    "benchmark_rate",
    "benchmark_feedback",
    "agreement_threshold",
    "reassign_low_agreement",
)


def project_dict_for(user, project: Project) -> dict:
    """``project_dict`` as ``user`` may see it: without ``QUALITY_FIELDS`` for annotators."""
    body = project_dict(project)
    if not perms.can(user, project, perms.READ_ALL_ANNOTATIONS):
        for name in QUALITY_FIELDS:
            body.pop(name, None)
    return body


def _data_types(parsed: ParsedConfig) -> dict:
    return {obj["value"]: obj for obj in parsed.objects.values() if obj["value"] is not None}


class OptionalBoolean(serializers.BooleanField):
    """A boolean a form-encoded body may leave out: DRF's BooleanField reads a missing
    form field as False (``default_empty_html``), which turned every flag of a project
    created from form data off."""

    default_empty_html = serializers.empty


class ProjectIn(serializers.Serializer):
    # Label Studio's default title is empty.
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True)
    expert_instruction = serializers.CharField(required=False, allow_blank=True)
    color = serializers.CharField(required=False, allow_blank=True, max_length=16)
    label_config = serializers.CharField(required=False)
    sampling = serializers.ChoiceField(choices=Project.Sampling.values, required=False)
    maximum_annotations = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    show_predictions_to_annotators = OptionalBoolean(required=False)
    # Label Studio's name for it ("annotators see the model's predictions").
    show_collab_predictions = OptionalBoolean(required=False, write_only=True)
    show_skip_button = OptionalBoolean(required=False)
    enable_empty_annotation = OptionalBoolean(required=False)
    skip_queue = serializers.ChoiceField(choices=Project.SkipQueue.values, required=False)
    # Range checks live in services.quality_settings_check (a 400 naming the field).
    benchmark_project = serializers.IntegerField(required=False, allow_null=True)
    benchmark_first = serializers.IntegerField(required=False)
    benchmark_rate = serializers.FloatField(required=False)
    benchmark_feedback = OptionalBoolean(required=False)
    agreement_threshold = serializers.FloatField(required=False)
    reassign_low_agreement = OptionalBoolean(required=False)
    min_annotations_to_start_training = serializers.IntegerField(
        min_value=0, max_value=1_000_000, required=False
    )
    start_training_on_annotation_update = OptionalBoolean(required=False)
    retrain_every = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)
    model_version = serializers.CharField(max_length=255, required=False, allow_blank=True)
    al_first_batch_size = serializers.IntegerField(
        min_value=1, max_value=1_000_000, required=False, allow_null=True
    )
    al_uncertainty = serializers.ChoiceField(choices=Project.Uncertainty.values, required=False)
    al_epsilon = serializers.FloatField(min_value=0, max_value=1, required=False)
    pinned_at = serializers.DateTimeField(required=False, allow_null=True)
    is_draft = OptionalBoolean(required=False)
    is_published = OptionalBoolean(required=False)

    def validate(self, attrs):
        collab = attrs.pop("show_collab_predictions", None)
        if collab is not None:
            attrs.setdefault("show_predictions_to_annotators", collab)
        return attrs


# The fields of the usual create body, with ``ProjectIn``'s length limit (None: none).
_PLAIN_PROJECT_TEXT = {"title": 200, "description": None, "label_config": None}


def _plain_project_in(data) -> dict | None:
    """``ProjectIn``'s validated data for the usual create body (only a title, description
    and label config, as strings), without building the serializer: DRF deep-copies its 28
    fields for every instance, about a fifth of a create's time in the process. Strings
    are trimmed as DRF's ``CharField`` trims them. None for anything else (another field,
    another type, a blank config, a null byte or a lone surrogate, a long title), which
    the serializer then reads, or answers 400 for, as before."""
    if type(data) is not dict or not data.keys() <= _PLAIN_PROJECT_TEXT.keys():
        return None
    fields = {"title": ""}
    for name, value in data.items():
        if type(value) is not str or "\x00" in value:
            return None
        value = value.strip()
        limit = _PLAIN_PROJECT_TEXT[name]
        if (limit is not None and len(value) > limit) or (name == "label_config" and not value):
            return None
        try:
            value.encode()
        except UnicodeEncodeError:
            return None
        fields[name] = value
    return fields


def benchmark_project_resolve(user, fields: dict) -> dict:
    """Turn a ``benchmark_project`` id into a project the user manages, or a 400."""
    if fields.get("benchmark_project") is not None:
        source = Project.objects.filter(pk=fields["benchmark_project"]).first()
        if source is None or not perms.can(user, source, perms.MANAGE):
            raise ApiError(
                "benchmark_project: not found",
                [{"field": "benchmark_project", "message": "no such project of yours"}],
            )
        fields["benchmark_project"] = source
    return fields


# Label Studio's default for a project created without ``label_config``: no objects and no
# controls, so it takes any task data, annotations and predictions until a config is set
# (projects.results.validate_result; the first real config is checked against them).
EMPTY_CONFIG = "<View></View>"
# What ``labelhub import`` uses when no config is given.
DEFAULT_CONFIG = '<View><Text name="text" value="$text"/><Choices name="label" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices></View>'


class ProjectListApi(APIView):
    def get(self, request):
        queryset = projects_listed(user=request.user, params=request.query_params).select_related(
            "created_by"
        )
        paginator, items = paginate(request, queryset, default_size=50)
        perms.roles_load(request.user, [p.pk for p in items])
        return Response(
            {
                **count_next_previous(request, paginator, items),
                "results": [project_dict_for(request.user, p) for p in items],
            }
        )

    def post(self, request):
        if not perms.may_create_projects(request.user):
            raise PermissionDenied("Only staff, and users an admin has allowed, create projects.")
        fields = _plain_project_in(request.data)
        if fields is None:
            data = ProjectIn(data=request.data)
            data.is_valid(raise_exception=True)
            fields = dict(data.validated_data)
        fields.setdefault("label_config", EMPTY_CONFIG)
        fields = benchmark_project_resolve(request.user, fields)
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
    """A member to add: by exact email (anyone who manages the project), or by user id
    (staff only: a non-staff admin walking ids would list every account)."""

    email = serializers.EmailField(required=False)
    user = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    role = serializers.ChoiceField(
        choices=ProjectMember.Role.values, default=ProjectMember.Role.ANNOTATOR
    )


def _member_by_id(request, data: dict):
    """Staff only: a non-staff admin walking ids would list every account."""
    User = get_user_model()
    if data.get("user") is None:
        raise ApiError("email is required", [{"field": "email", "message": "required"}])
    if not request.user.is_staff:
        raise ApiError(
            "Add members by their email address.",
            [{"field": "user", "message": "only staff add members by id; give email"}],
        )
    user = User.objects.filter(pk=data["user"]).first()
    if user is None:
        raise ApiError("No such user", [{"field": "user", "message": "unknown user id"}])
    return user


class ProjectMembersApi(APIView):
    """Members and invitations. A person added by email is listed as the invitation as
    typed (``{"user": null, "email", "role", "invited": true}``), whether an account had
    that email (it is a member at once) or not (it becomes one when the account is made):
    adding by email is no account-existence oracle. Staff add by ``user`` id and see
    such members as members. Any member may remove themselves (leave the project)."""

    def get(self, request, pk):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        rows = member_rows(project=project, staff=request.user.is_staff)
        return Response(
            [
                _invited_dict(row["email"], row["role"], row["created_at"])
                if row["invited"]
                else {
                    "user": member_user_dict(row["user"]),
                    "role": row["role"],
                    "created_at": row["created_at"],
                }
                for row in rows
            ]
        )

    def post(self, request, pk):
        project = perms.project_for(request.user, pk, perms.MANAGE)
        data = MemberIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        if fields.get("email"):
            invited = services.member_add_by_email(
                project=project,
                email=fields["email"],
                role=fields["role"],
                password=fields.get("password") or "",
                added_by=request.user,
            )
            return Response(
                {"user": None, **invited, "created_at": None}, status=status.HTTP_201_CREATED
            )
        user = _member_by_id(request, fields)
        member = services.member_set(project=project, user=user, role=fields["role"])
        return Response(
            {"user": member_user_dict(member.user), "role": member.role},
            status=status.HTTP_201_CREATED,
        )

    def delete(self, request, pk):
        body = request.data if isinstance(request.data, dict) else {}
        user_id = body.get("user") or request.query_params.get("user")
        email = body.get("email") or request.query_params.get("email")
        if user_id in (None, "") and isinstance(email, str) and email.strip():
            project = perms.project_for(request.user, pk, perms.MANAGE)
            if not services.member_remove_by_email(project=project, email=email):
                raise NotFound("No member or invitation with this email.")
            return Response(status=status.HTTP_204_NO_CONTENT)
        if user_id in (None, ""):
            raise ApiError("user is required", [{"field": "user", "message": "required"}])
        user_id = id_value(user_id, "user")
        # Leaving: any member may remove themselves (someone added them by email).
        capability = perms.VIEW if user_id == request.user.pk else perms.MANAGE
        project = perms.project_for(request.user, pk, capability)
        if not services.member_remove(project=project, user=user_id):
            raise NotFound("Not a member of this project.")
        return Response(status=status.HTTP_204_NO_CONTENT)


def _invited_dict(email: str, role: str, created_at) -> dict:
    return {"user": None, "email": email, "role": role, "invited": True, "created_at": created_at}


class UserIn(serializers.Serializer):
    email = serializers.EmailField()
    # Without a password (as Label Studio takes it) the account has none that works: its
    # owner signs in with a token staff hand over, or staff set one later.
    password = serializers.CharField(min_length=8, write_only=True, required=False)
    username = serializers.CharField(max_length=150, required=False)
    active_organization = serializers.IntegerField(required=False)
    first_name = serializers.CharField(required=False, allow_blank=True, default="")
    last_name = serializers.CharField(required=False, allow_blank=True, default="")
    is_staff = serializers.BooleanField(required=False, default=False)
    can_create_projects = serializers.BooleanField(required=False, default=False)


# Label Studio answers 405 to a PATCH that names one of these.
USER_READ_ONLY = ("email",)


class UserChangeIn(serializers.Serializer):
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    can_create_projects = serializers.BooleanField(required=False)


class UserListApi(APIView):
    def get(self, request):
        """Staff see everyone; others see themselves and the users they share a project
        with, with only what a member list needs."""
        users = account_selectors.users_visible_to(request.user).select_related("profile")
        if request.user.is_staff:
            return Response([user_dict(user) for user in users])
        return Response([member_user_dict(user) for user in users])

    def post(self, request):
        if not request.user.is_staff:
            raise PermissionDenied("Only administrators create users.")
        data = UserIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        allowed = fields.pop("can_create_projects")
        fields.pop("active_organization", None)  # there is one organization
        user = services.user_create(**fields)
        if allowed:
            user = services.project_creator_allow(user=user, allowed=True)
        return Response(user_dict(user), status=status.HTTP_201_CREATED)


class UserDetailApi(APIView):
    def _user(self, request, pk):
        if not request.user.is_staff and pk != request.user.pk:
            raise NotFound("Not found.")
        if pk > MAX_ID:
            raise NotFound("Not found.")
        users = get_user_model().objects.filter(is_active=True).select_related("profile")
        return get_object_or_404(users, pk=pk)

    def get(self, request, pk):
        return Response(user_dict(self._user(request, pk)))

    def patch(self, request, pk):
        """Staff change a user's name and whether they may create projects."""
        user = self._user(request, pk)
        if not request.user.is_staff:
            raise PermissionDenied("Only administrators change users.")
        for name in USER_READ_ONLY:
            if isinstance(request.data, dict) and name in request.data:
                raise MethodNotAllowed("PATCH", detail=f"Cannot update read-only field: {name}")
        data = UserChangeIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        allowed = fields.pop("can_create_projects", None)
        user = services.user_update(user=user, **fields)
        if allowed is not None:
            user = services.project_creator_allow(user=user, allowed=allowed)
        return Response(user_dict(user))

    def delete(self, request, pk):
        """Staff only. The account is deactivated, not erased: see
        ``accounts_services.user_delete`` (and docs/compat.md)."""
        if not request.user.is_staff:
            raise PermissionDenied("Only administrators delete users.")
        account_services.user_delete(user=self._user(request, pk), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WhoAmIApi(APIView):
    def get(self, request):
        return Response(user_dict(request.user))


class TokenApi(APIView):
    def get(self, request):
        token, _ = Token.objects.get_or_create(user=request.user)
        return Response({"token": token.key})


class TokenResetApi(APIView):
    """``POST``: replace the caller's API token (Label Studio's path); the old one stops
    working at once."""

    def post(self, request):
        return Response({"token": services.token_reset(user=request.user).key})


class VersionApi(APIView):
    """``GET /api/version/`` answers without logging in, as Label Studio's does: health
    checks and the SDK probe it first. It names the release, nothing about the caller."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request):
        return Response(system.versions())
