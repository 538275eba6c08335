"""The project settings page's form handling (``frontend.views.project_settings_page``
is thin): which section a request names, the page's forms, and ``settings_save``, one
dispatcher that saves the posted section through the same services as the API
(``annotations.services.project_update``, ``project_delete``, ``projects.services``'
members, ``annotations.benchmarks.benchmarks_link``) and says what the page does next.
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from rest_framework.exceptions import NotFound, PermissionDenied

from annotations import benchmarks
from annotations import services as annotation_services
from frontend import forms
from labelhub.errors import ApiError
from projects import permissions as perms
from projects import services as project_services
from projects.models import Project, ProjectMember


def config_error(exc: ApiError) -> str:
    """The message itself. A refused config change (``detail`` is Label Studio's generic
    "Validation error") shows its message's heading and then each lost control or label
    with its counts (the ``errors`` items)."""
    messages = (exc.validation_errors or {}).get("label_config")
    if messages:
        items = [e["message"] for e in exc.errors if e.get("reason") and e.get("message")]
        heading = messages[0].split("\n", 1)[0]
        return "\n".join([heading, *items]) if items else "\n".join(messages)
    return str(exc.detail).removeprefix("Invalid label_config: ")


SETTINGS_SECTIONS = [
    ("general", "General"),
    ("config", "Labeling config"),
    ("sampling", "Sampling and overlap"),
    ("ml", "Machine learning"),
    ("members", "Members and roles"),
    ("quality", "Quality"),
    ("delete", "Delete project"),
]

QUALITY_FIELDS = (
    "benchmark_project",
    "benchmark_first",
    "benchmark_rate",
    "benchmark_feedback",
    "agreement_threshold",
    "reassign_low_agreement",
)


def settings_forms(*, project: Project, data=None, section: str | None = None, user=None) -> dict:
    """The page's forms, the one named by ``section`` bound to ``data`` (a POST)."""

    def bound(name):
        return data if section == name else None

    return {
        "general": forms.GeneralForm(
            bound("general"),
            initial={
                "title": project.title,
                "description": project.description,
                "expert_instruction": project.expert_instruction,
                "color": project.color,
            },
        ),
        "config": forms.LabelConfigForm(
            bound("config"), initial={"label_config": project.label_config}
        ),
        "sampling": forms.SamplingForm(
            bound("sampling"),
            initial={
                "sampling": project.sampling,
                "maximum_annotations": project.maximum_annotations,
                "show_predictions_to_annotators": project.show_predictions_to_annotators,
                "show_skip_button": project.show_skip_button,
                "enable_empty_annotation": project.enable_empty_annotation,
            },
        ),
        "ml": forms.MLSettingsForm(
            bound("ml"),
            initial={name: getattr(project, name) for name in forms.MLSettingsForm.base_fields},
        ),
        "member_add": forms.MemberAddForm(bound("member_add")),
        "quality": forms.QualityForm(
            bound("quality"),
            projects=Project.objects.for_user(user).exclude(pk=project.pk).order_by("-pk")
            if user is not None
            else (),
            initial={
                "benchmark_project": project.benchmark_project_id,
                **{name: getattr(project, name) for name in QUALITY_FIELDS[1:]},
            },
        ),
        "delete": forms.ProjectDeleteForm(bound("delete")),
    }


def _member_change(*, project: Project, form, user) -> str | None:
    """Apply a member form; an error message, or None. Invitations (a person added by
    email, listed as typed) are changed by their email."""
    User = get_user_model()
    email = (form.cleaned_data.get("email") or "").strip()
    if email and not form.cleaned_data.get("user"):
        try:
            if form.cleaned_data["remove"]:
                if not project_services.member_remove_by_email(project=project, email=email):
                    return "No member or invitation has that email."
            elif form.cleaned_data["role"]:
                project_services.member_invite(
                    project=project,
                    email=email,
                    role=form.cleaned_data["role"],
                    invited_by=user,
                )
        except ApiError as exc:
            return str(exc.detail)
        return None
    target = User.objects.filter(pk=form.cleaned_data["user"]).first()
    if target is None or not ProjectMember.objects.filter(project=project, user=target).exists():
        return "That user is not a member of this project."
    try:
        if form.cleaned_data["remove"]:
            project_services.member_remove(project=project, user=target)
        elif form.cleaned_data["role"]:
            project_services.member_set(
                project=project, user=target, role=form.cleaned_data["role"]
            )
    except ApiError as exc:
        return str(exc.detail)
    return None


# Label Studio's settings tabs -> this page's sections.
LS_SETTINGS_SECTIONS = {
    "general": "general",
    "labeling": "config",
    "ml": "ml",
    "members": "members",
}

SECTIONS = {
    "general",
    "config",
    "sampling",
    "ml",
    "members",
    "member_add",
    "member",
    "quality",
    "delete",
}


def settings_section(asked: str | None, ls_section: str | None = None) -> str:
    """The section a request names (``section`` in the POST or the query, else Label
    Studio's ``/settings/{tab}`` path), ``general`` for anything unknown."""
    section = asked or LS_SETTINGS_SECTIONS.get(ls_section or "", "general")
    return section if section in SECTIONS else "general"


@dataclass
class SettingsOutcome:
    """What the page does after a POST: go to ``redirect`` (a save, a delete), or render
    again with the forms' errors and ``member_errors``."""

    redirect: str | None = None
    member_errors: list[str] = field(default_factory=list)


def _saved(project: Project, section: str) -> SettingsOutcome:
    anchor = "members" if section.startswith("member") else section
    return SettingsOutcome(redirect=f"/projects/{project.pk}/settings?saved={anchor}#{anchor}")


def _fields_save(*, project: Project, section: str, form, user) -> bool:
    """General, labeling config, sampling, ML: the project's own fields."""
    if not form.is_valid():
        return False
    try:
        annotation_services.project_update(project=project, **form.cleaned_data)
    except ApiError as exc:
        form.add_error("label_config" if section == "config" else None, config_error(exc))
        return False
    return True


def _quality_save(*, project: Project, form, user) -> bool:
    """Save the Quality section through the API's service and checks; the API's
    messages land on their fields."""
    if not form.is_valid():
        return False
    fields = dict(form.cleaned_data)
    source = fields.get("benchmark_project")
    if source is not None:
        try:
            fields["benchmark_project"] = perms.project_for(user, source, perms.MANAGE)
        except (NotFound, PermissionDenied):
            form.add_error("benchmark_project", "no such project of yours")
            return False
    try:
        project = annotation_services.project_update(project=project, **fields)
        if project.benchmark_project_id is not None:
            benchmarks.benchmarks_link(project=project, user=user)  # adds only new ones
    except ApiError as exc:
        for item in exc.errors or [{"field": None, "message": str(exc.detail)}]:
            name = item.get("field")
            form.add_error(name if name in form.fields else None, item.get("message"))
        return False
    return True


def _member_add(*, project: Project, form, user) -> bool:
    if not form.is_valid():
        return False
    try:
        project_services.member_add_by_email(
            project=project,
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password"],
            role=form.cleaned_data["role"],
            added_by=user,
        )
    except ApiError as exc:
        form.add_error("email", str(exc.detail))
        return False
    return True


def settings_save(
    *, project: Project, section: str, page_forms: dict, data, user
) -> SettingsOutcome:
    """Save the posted ``section`` of the settings page (one service call per section,
    errors on the section's form). ``delete`` needs the title typed exactly."""
    if section in ("general", "config", "sampling", "ml"):
        saved = _fields_save(project=project, section=section, form=page_forms[section], user=user)
    elif section == "quality":
        saved = _quality_save(project=project, form=page_forms["quality"], user=user)
    elif section == "delete":
        form = page_forms["delete"]
        if form.is_valid() and form.cleaned_data["confirm"].strip() == project.title.strip():
            title = project.title
            annotation_services.project_delete(project=project)
            return SettingsOutcome(redirect=f"/projects/?{urlencode({'deleted': title})}")
        form.add_error("confirm", "Type the title exactly as shown to delete the project.")
        saved = False
    elif section == "member_add":
        saved = _member_add(project=project, form=page_forms["member_add"], user=user)
    elif section == "member":
        form = forms.MemberChangeForm(data)
        if not form.is_valid():
            return SettingsOutcome()
        error = _member_change(project=project, form=form, user=user)
        if error:
            return SettingsOutcome(member_errors=[error])
        saved = True
    else:  # "members": nothing to save
        saved = False
    return _saved(project, section) if saved else SettingsOutcome()
