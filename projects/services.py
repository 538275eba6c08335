"""Writes for projects, members and users."""

import nh3
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from labelhub import events
from labelhub.errors import ApiError
from labelhub.prepared import rows_insert
from projects import label_config_tags as tags
from projects.label_config import (
    LabelConfigError,
    editor_unsupported_tags,
    parse_label_config,
)
from projects.models import Project, ProjectInvitation, ProjectMember

ML_FIELDS = (
    "min_annotations_to_start_training",
    "start_training_on_annotation_update",
    "retrain_every",
    "model_version",
    "al_first_batch_size",
    "al_uncertainty",
    "al_epsilon",
)
PROJECT_FIELDS = {
    "title",
    "description",
    "expert_instruction",
    "color",
    "label_config",
    "sampling",
    "maximum_annotations",
    "show_predictions_to_annotators",
    "show_skip_button",
    "enable_empty_annotation",
    "skip_queue",
    "benchmark_project",
    "benchmark_first",
    "benchmark_rate",
    "benchmark_feedback",
    "agreement_threshold",
    "reassign_low_agreement",
    "pinned_at",
    "is_draft",
    "is_published",
    *ML_FIELDS,
}

# Instructions are HTML shown to annotators: nh3's safe set, plus the media tags Label
# Studio lets instructions embed. Script, event handlers and javascript: URLs go.
INSTRUCTION_TAGS = nh3.ALLOWED_TAGS | {"iframe", "embed", "video", "audio", "source"}
INSTRUCTION_ATTRIBUTES = {
    **nh3.ALLOWED_ATTRIBUTES,
    "*": {"class", "title"},
    "iframe": {"src", "width", "height"},
    "embed": {"src", "type", "width", "height"},
    "video": {"src", "width", "height", "controls"},
    "audio": {"src", "controls"},
    "source": {"src", "type"},
}


def instruction_clean(html: str) -> str:
    """``expert_instruction`` made safe to render, as Label Studio cleans it on save."""
    return nh3.clean(html, tags=INSTRUCTION_TAGS, attributes=INSTRUCTION_ATTRIBUTES, link_rel=None)


def quality_settings_check(*, project: Project | None, fields: dict) -> None:
    """A 400 naming the field for bad Benchmark QA and agreement settings: a share
    outside [0, 1], a negative count, or a benchmark project with another config."""
    errors = []
    for name in ("benchmark_rate", "agreement_threshold"):
        value = fields.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            errors.append({"field": name, "message": "must be a number from 0 to 1"})
    first = fields.get("benchmark_first", 0)
    if isinstance(first, bool) or not isinstance(first, int) or first < 0:
        errors.append({"field": "benchmark_first", "message": "must be an integer >= 0"})
    source = fields.get("benchmark_project")
    config = fields.get("label_config", project.label_config if project else "")
    if source is not None:
        if project is not None and source.pk == project.pk:
            errors.append({"field": "benchmark_project", "message": "is this project itself"})
        elif source.label_config.strip() != config.strip():
            errors.append(
                {
                    "field": "benchmark_project",
                    "message": f"project {source.pk} has a different labeling config",
                }
            )
    if errors:
        raise ApiError(f"{errors[0]['field']}: {errors[0]['message']}", errors)


def label_config_parse(label_config: str, *, editor_check: bool = True) -> dict:
    """Parse a config or raise a 400 that says why. With ``editor_check`` (every save and
    check of a config) a tag that the embedded editor (``LABELHUB_EDITOR``) cannot show is
    refused too: the labeling page would be blank."""
    try:
        parsed = parse_label_config(label_config).to_dict()
        if editor_check:
            editor = settings.LABELHUB_EDITOR
            unsupported = editor_unsupported_tags(label_config, editor=editor)
            if unsupported:
                names = ", ".join(f"<{tag}>" for tag in unsupported)
                raise LabelConfigError(
                    f"{tags.EDITOR_NAMES[editor]} cannot show {names}; the tags it shows: "
                    + ", ".join(sorted(tags.EDITOR_TAGS[editor].values()))
                )
        return parsed
    except LabelConfigError as exc:
        raise ApiError(
            f"Invalid label_config: {exc}", [{"field": "label_config", "message": str(exc)}]
        ) from exc


@transaction.atomic
def project_create(*, user, title: str, label_config: str, **fields) -> Project:
    """Create a project; its creator becomes its admin."""
    unknown = set(fields) - PROJECT_FIELDS
    if unknown:
        raise ApiError(f"Unknown project fields: {', '.join(sorted(unknown))}")
    quality_settings_check(project=None, fields={"label_config": label_config, **fields})
    if fields.get("expert_instruction"):
        fields["expert_instruction"] = instruction_clean(fields["expert_instruction"])
    project = Project(
        title=title,
        label_config=label_config,
        parsed_config=label_config_parse(label_config),
        created_by=user,
        **fields,
    )
    # The two INSERTs written out (labelhub.prepared.rows_insert): the ORM's save() and
    # create() were 44% of a create's time in the process (cProfile).
    rows_insert([project], returning=True)
    rows_insert([ProjectMember(project=project, user=user, role=ProjectMember.Role.ADMIN)])
    events.publish(events.PROJECT_CREATED, project_id=project.pk, ids=[project.pk])
    return project


@transaction.atomic
def project_update(*, project: Project, **fields) -> Project:
    unknown = set(fields) - PROJECT_FIELDS
    if unknown:
        raise ApiError(f"Unknown project fields: {', '.join(sorted(unknown))}")
    quality_settings_check(project=project, fields=fields)
    if fields.get("expert_instruction"):
        fields["expert_instruction"] = instruction_clean(fields["expert_instruction"])
    if "label_config" in fields and fields["label_config"] != project.label_config:
        project.parsed_config = label_config_parse(fields["label_config"])
        fields["parsed_config"] = project.parsed_config
    for name, value in fields.items():
        setattr(project, name, value)
    project.save(update_fields=[*fields, "updated_at"])
    events.publish(events.PROJECT_UPDATED, project_id=project.pk, ids=[project.pk])
    return project


LAST_ADMIN = "A project keeps at least one admin."


def _is_last_admin(*, project: Project, user) -> bool:
    admins = ProjectMember.objects.filter(project=project, role=ProjectMember.Role.ADMIN)
    return admins.count() == 1 and admins.filter(user=user).exists()


@transaction.atomic
def member_set(*, project: Project, user, role: str) -> ProjectMember:
    """Add a member or change their role; refuses to demote the project's last admin."""
    _role_check(role)
    if role != ProjectMember.Role.ADMIN and _is_last_admin(project=project, user=user):
        raise ApiError(LAST_ADMIN, [{"field": "role", "message": LAST_ADMIN}])
    member, _ = ProjectMember.objects.update_or_create(
        project=project, user=user, defaults={"role": role}
    )
    return member


@transaction.atomic
def member_remove(*, project: Project, user) -> int:
    """Remove a member (0 when they were not one); refuses to remove the last admin."""
    if _is_last_admin(project=project, user=user):
        raise ApiError(LAST_ADMIN, [{"field": "user", "message": LAST_ADMIN}])
    deleted, _ = ProjectMember.objects.filter(project=project, user=user).delete()
    return deleted


def _role_check(role: str) -> None:
    if role not in ProjectMember.Role.values:
        raise ApiError(
            f"role must be one of {', '.join(ProjectMember.Role.values)}",
            [{"field": "role", "message": f"unknown role {role!r}"}],
        )


@transaction.atomic
def member_invite(*, project: Project, email: str, role: str, invited_by) -> dict:
    """Invite an email to the project, answering the same whether an account has it or
    not (no account-existence oracle). An account that has it becomes a member at once
    (it sees the project and may leave it) and is listed by the email as typed; for an
    email nobody has, the invitation waits (``ProjectInvitation``) and the account later
    created with it becomes a member (``invitations_apply``). LabelHub sends no mail:
    the manager tells the person, as with the sign-up link."""
    _role_check(role)
    email = email.strip().lower()
    user = get_user_model().objects.filter(email__iexact=email, is_active=True).first()
    if user is None:
        ProjectInvitation.objects.update_or_create(
            project=project, email=email, defaults={"role": role, "invited_by": invited_by}
        )
    else:
        new = not ProjectMember.objects.filter(project=project, user=user).exists()
        member = member_set(project=project, user=user, role=role)
        if new:  # an existing member keeps how the list showed them
            ProjectMember.objects.filter(pk=member.pk).update(invited_email=email)
    return {"email": email, "role": role, "invited": True}


@transaction.atomic
def member_add_by_email(
    *, project: Project, email: str, role: str, password: str = "", added_by
) -> dict:
    """Add a person by email (``member_invite``). When nobody has the email, staff
    (only) may create the account on the spot by giving a password; staff see every
    account anyway, so for them there is no oracle to close."""
    if password and added_by.is_staff:
        if not get_user_model().objects.filter(email__iexact=email.strip()).exists():
            user_create(email=email, password=password)
    return member_invite(project=project, email=email, role=role, invited_by=added_by)


def invitations_apply(*, user) -> int:
    """Make a new account a member of the projects its email was invited to."""
    invitations = list(ProjectInvitation.objects.filter(email__iexact=user.email.strip()))
    for invitation in invitations:
        ProjectMember.objects.update_or_create(
            project_id=invitation.project_id,
            user=user,
            defaults={"role": invitation.role, "invited_email": invitation.email},
        )
    ProjectInvitation.objects.filter(pk__in=[i.pk for i in invitations]).delete()
    return len(invitations)


@transaction.atomic
def member_remove_by_email(*, project: Project, email: str) -> int:
    """Withdraw an invitation: the waiting one, or the membership it made."""
    email = email.strip().lower()
    removed, _ = ProjectInvitation.objects.filter(project=project, email__iexact=email).delete()
    for member in ProjectMember.objects.filter(project=project, invited_email__iexact=email):
        removed += member_remove(project=project, user=member.user_id)
    return removed


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    is_staff: bool = False,
    username: str | None = None,
):
    """A user signs in with their email; ``username`` (Label Studio's) defaults to it.
    Without a password the account has no usable one."""
    User = get_user_model()
    email = email.strip()
    if User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).exists():
        raise ApiError(
            "A user with this email already exists.",
            [{"field": "email", "message": "already taken"}],
        )
    username = (username or "").strip() or email
    if (
        username != email
        and User.objects.filter(Q(username__iexact=username) | Q(email__iexact=username)).exists()
    ):
        raise ApiError(
            "A user with this username already exists.",
            [{"field": "username", "message": "already taken"}],
        )
    user = User.objects.create_user(
        username=username,
        email=email,
        password=password,
        first_name=first_name,
        last_name=last_name,
        is_staff=is_staff,
    )
    invitations_apply(user=user)
    return user


def user_update(*, user, first_name: str | None = None, last_name: str | None = None):
    fields = {"first_name": first_name, "last_name": last_name}
    changed = [name for name, value in fields.items() if value is not None]
    for name in changed:
        setattr(user, name, fields[name])
    if changed:
        user.save(update_fields=changed)
    return user


def project_creator_allow(*, user, allowed: bool):
    """Allow a (non-staff) user to create projects, or take it back. Stored as Django's
    ``projects.add_project`` permission, which ``permissions.may_create_projects`` reads.
    Returns a fresh user object (Django caches permissions on the instance)."""
    from django.contrib.auth.models import Permission

    permission = Permission.objects.get(codename="add_project", content_type__app_label="projects")
    if allowed:
        user.user_permissions.add(permission)
    else:
        user.user_permissions.remove(permission)
    return get_user_model().objects.get(pk=user.pk)


@transaction.atomic
def token_reset(*, user):
    """Replace the user's API token: the old key stops working at once."""
    from rest_framework.authtoken.models import Token

    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


def admin_ensure(
    *, email: str, password: str | None, token: str | None = None, reset_password: bool = True
):
    """Create or update the start-up admin (a staff superuser) and optionally its token.

    An existing admin's password is replaced only when ``reset_password`` is set (a
    password given on the command line), not with the generated one kept on disk, and
    only when it differs from the stored one.
    """
    from rest_framework.authtoken.models import Token

    User = get_user_model()
    user = User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).first()
    if user is None:
        user = User.objects.create_superuser(username=email, email=email, password=password)
    else:
        user.is_staff = user.is_superuser = user.is_active = True
        # An unchanged password keeps the hash, and with it the admin's browser sessions
        # (Django's session auth hash is made from it): every restart with
        # LABELHUB_PASSWORD set used to sign the admin out (issue #26).
        if password and reset_password and not user.check_password(password):
            user.set_password(password)
        user.save()
    if token:
        Token.objects.filter(user=user).exclude(key=token).delete()
        Token.objects.get_or_create(user=user, key=token)
    return user
