"""Every access rule in one place.

A user reaches a project through a ProjectMember row with a role; staff users are
admins everywhere. Rules are capabilities per role. A project (or an object in it)
the user cannot see answers 404, and a project they see but may not act on this way
answers 403.
"""

from rest_framework.exceptions import NotFound, PermissionDenied

from labelhub.prepared import Prepared
from labelhub.validation import MAX_ID
from projects.models import Project, ProjectMember

ADMIN = ProjectMember.Role.ADMIN
REVIEWER = ProjectMember.Role.REVIEWER
ANNOTATOR = ProjectMember.Role.ANNOTATOR

VIEW = "view"  # see the project and read its tasks and predictions
ANNOTATE = "annotate"  # create annotations, and change or delete one's own
READ_ALL_ANNOTATIONS = "read_all_annotations"
REVIEW = "review"  # write reviews, mark ground truth from the Verify Stream
DATA_MANAGER = "data_manager"  # the Data Manager, read-only
MANAGE = "manage"  # settings, members, import, export, tasks, predictions, actions

CAPABILITIES: dict[str, frozenset[str]] = {
    ADMIN: frozenset({VIEW, ANNOTATE, READ_ALL_ANNOTATIONS, REVIEW, DATA_MANAGER, MANAGE}),
    REVIEWER: frozenset({VIEW, READ_ALL_ANNOTATIONS, REVIEW, DATA_MANAGER}),
    ANNOTATOR: frozenset({VIEW, ANNOTATE}),
}


def project_role(user, project: Project | int) -> str | None:
    """The user's role in the project, or None. Cached on the user for the request."""
    if user is None or not user.is_authenticated:
        return None
    if user.is_staff:
        return ADMIN
    project_id = project if isinstance(project, int) else project.pk
    cache = user.__dict__.setdefault("_labelhub_roles", {})
    if project_id not in cache:
        cache[project_id] = (
            ProjectMember.objects.filter(project_id=project_id, user=user)
            .values_list("role", flat=True)
            .first()
        )
    return cache[project_id]


def roles_load(user, project_ids) -> None:
    """Fill ``project_role``'s cache for many projects with one query (a project list)."""
    if user is None or not user.is_authenticated or user.is_staff:
        return
    cache = user.__dict__.setdefault("_labelhub_roles", {})
    wanted = [pk for pk in project_ids if pk not in cache]
    if not wanted:
        return
    found = dict(
        ProjectMember.objects.filter(project_id__in=wanted, user=user).values_list(
            "project_id", "role"
        )
    )
    for pk in wanted:
        cache[pk] = found.get(pk)


def can(user, project: Project | int, capability: str) -> bool:
    role = project_role(user, project)
    return role is not None and capability in CAPABILITIES[role]


def check(user, project: Project | int, capability: str) -> str:
    """Raise NotFound for a non-member, PermissionDenied for a missing capability."""
    role = project_role(user, project)
    if role is None:
        raise NotFound("Not found.")
    if capability not in CAPABILITIES[role]:
        raise PermissionDenied("Your role in this project does not allow this.")
    return role


# Every project-scoped request reads its project: compiled once (labelhub.prepared).
_PROJECT = Prepared(lambda m: Project.objects.filter(pk=m.int("pk")))


def project_for(user, project_id, capability: str = VIEW) -> Project:
    """Fetch a project by id for a user, enforcing the capability."""
    try:
        pk = int(project_id)
        if not 1 <= pk <= MAX_ID:
            raise ValueError(pk)
        project = _PROJECT.first(pk=pk)
    except (TypeError, ValueError, OverflowError) as exc:
        raise NotFound("Not found.") from exc
    if project is None:
        raise NotFound("Not found.")
    check(user, project, capability)
    return project


CREATE_PROJECTS = "projects.add_project"  # the Django permission an admin grants


def may_create_projects(user) -> bool:
    """Who may create projects, for the page and the API alike: staff, and the users a
    staff admin has allowed (``can_create_projects``, stored as Django's
    ``projects.add_project`` permission). Creating a project makes its creator its
    admin, so this is the gate to everything an admin of a project can do."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_staff or user.has_perm(CREATE_PROJECTS)


def may_see_predictions(user, project: Project) -> bool:
    """Admins and reviewers see predictions; annotators only when the project shows
    predictions to annotators."""
    role = project_role(user, project)
    if role is None:
        return False
    return READ_ALL_ANNOTATIONS in CAPABILITIES[role] or project.show_predictions_to_annotators


def visible_annotators(user, project: Project | int, user_ids: list[int]) -> list[int]:
    """The annotator ids of a task the user may see: all of them for those who read all
    annotations, else only the user's own."""
    if can(user, project, READ_ALL_ANNOTATIONS):
        return user_ids
    return [pk for pk in user_ids if pk == user.pk]


def can_change_annotation(user, annotation) -> bool:
    """Admins change any annotation in their projects; annotators only their own."""
    role = project_role(user, annotation.project_id)
    if role == ADMIN:
        return True
    return role == ANNOTATOR and annotation.completed_by_id == user.pk


def can_read_annotation(user, annotation) -> bool:
    if can(user, annotation.project_id, READ_ALL_ANNOTATIONS):
        return True
    return can(user, annotation.project_id, VIEW) and annotation.completed_by_id == user.pk
