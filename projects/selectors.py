"""Reads for projects. ``object_for_user``, the one way to fetch an object of a project
for a user, is ``projects.permissions``' (where ``project_for`` uses it too); it is named
here as well, where its callers have always found it."""

from django.db.models import F, Q, QuerySet

from labelhub.errors import ApiError
from labelhub.validation import id_value
from projects.models import Project, ProjectInvitation, ProjectMember
from projects.permissions import object_for_user as object_for_user

LIST_ORDERINGS = ("id", "created_at", "updated_at", "title", "pinned_at")


def projects_listed(*, user, params) -> QuerySet:
    """The projects ``user`` sees, with Label Studio's list filters from query
    ``params``: ``ids`` (comma-separated), ``title`` (contains), ``search`` (title or
    description contains), ``filter`` (``all``, ``pinned_only``, ``exclude_pinned``) and
    ``ordering`` (one of ``LIST_ORDERINGS``, ``-`` for descending). By default pinned
    projects come first (newest pin first), then the newest projects. A bad value is a
    400 naming the parameter."""
    projects = Project.objects.for_user(user)
    ids = params.get("ids")
    if ids:
        projects = projects.filter(pk__in=[id_value(i, "ids") for i in ids.split(",") if i.strip()])
    if params.get("title"):
        projects = projects.filter(title__icontains=params["title"])
    if params.get("search"):
        text = params["search"]
        projects = projects.filter(Q(title__icontains=text) | Q(description__icontains=text))
    shown = params.get("filter") or "all"
    if shown not in ("all", "pinned_only", "exclude_pinned"):
        raise ApiError(
            "filter must be all, pinned_only or exclude_pinned",
            [{"field": "filter", "message": f"unknown filter {shown!r}"}],
        )
    if shown != "all":
        projects = projects.filter(pinned_at__isnull=shown == "exclude_pinned")
    ordering = params.get("ordering")
    if ordering:
        field = ordering.lstrip("-")
        if field not in LIST_ORDERINGS:
            raise ApiError(
                f"ordering must be one of {', '.join(LIST_ORDERINGS)} (- for descending)",
                [{"field": "ordering", "message": f"unknown field {field!r}"}],
            )
        return projects.order_by(ordering, "id" if ordering[0] != "-" else "-id")
    return projects.order_by(F("pinned_at").desc(nulls_last=True), "-created_at", "-id")


def member_rows(*, project: Project, staff: bool) -> list[dict]:
    """The project's members and invitations, for its member list (API and settings
    page): ``{"user" (the User, or None), "user_id", "email", "role", "invited",
    "created_at"}``. Someone added by email is listed as the invitation as typed, the same
    whether an account had that email (a member now) or not (``ProjectInvitation``), so
    the list is no account-existence oracle; staff, who see every account anyway, see
    such members as members. Members first, in the order they joined."""
    rows = []
    members = ProjectMember.objects.filter(project=project).select_related("user").order_by("id")
    for member in members:
        invited = bool(member.invited_email) and not staff
        rows.append(
            {
                "user": None if invited else member.user,
                "user_id": None if invited else member.user_id,
                "email": member.invited_email if invited else member.user.email,
                "role": member.role,
                "invited": invited,
                "created_at": member.created_at,
            }
        )
    for invitation in ProjectInvitation.objects.filter(project=project).order_by("id"):
        rows.append(
            {
                "user": None,
                "user_id": None,
                "email": invitation.email,
                "role": invitation.role,
                "invited": True,
                "created_at": invitation.created_at,
            }
        )
    return rows
