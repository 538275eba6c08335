"""Reads for projects: the one way to fetch an object of a project for a user."""

from collections.abc import Callable
from typing import TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import F, Model, Q, QuerySet
from rest_framework.exceptions import NotFound

from labelhub.errors import ApiError
from labelhub.validation import MAX_ID, id_value
from projects import permissions as perms
from projects.models import Project, ProjectInvitation, ProjectMember

M = TypeVar("M", bound=Model)


def object_for_user(
    model: type[M],
    *,
    user,
    pk,
    capability: str = perms.VIEW,
    queryset: QuerySet | None = None,
    project: Project | None = None,
    visible: Callable[..., bool] | None = None,
) -> M:
    """The object ``pk`` of ``model`` (anything with a ``project`` foreign key), for a
    user who holds ``capability`` in its project.

    Answers as the permission rules say (``projects.permissions``): 404 when the object
    does not exist, lies outside ``project`` (when given), is not ``visible`` to the user
    (e.g. another annotator's annotation), or belongs to a project the user is not a
    member of; 403 when the user is a member without the capability. ``queryset`` may add
    ``select_related`` for what the caller reads next.
    """
    rows = (queryset if queryset is not None else model._default_manager.all()).select_related(
        "project"
    )
    if project is not None:
        rows = rows.filter(project=project)
    try:
        key = int(pk)
        if not 1 <= key <= MAX_ID:  # past a bigint: the database would raise, not miss
            raise ValueError(key)
        obj = rows.get(pk=key)
    except (ObjectDoesNotExist, TypeError, ValueError, OverflowError) as exc:
        raise NotFound("Not found.") from exc
    if visible is not None and not visible(user, obj):
        raise NotFound("Not found.")
    perms.check(user, getattr(obj, "project"), capability)  # noqa: B009 - any model
    return obj


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
