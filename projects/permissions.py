"""Every access rule in one place.

A user reaches a project through a ProjectMember row with a role; staff users are
admins everywhere. Rules are capabilities per role. A project (or an object in it)
the user cannot see answers 404, and a project they see but may not act on this way
answers 403 (Label Studio's rule). ``object_for_user`` is the one door that fetches an
object and applies it; ``project_for`` is that door for a project.
"""

from collections.abc import Callable
from typing import TypeVar

from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db.models import Model, QuerySet
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


M = TypeVar("M", bound=Model)


def _has_project(model: type[Model]) -> bool:
    try:
        field = model._meta.get_field("project")
    except FieldDoesNotExist:
        return False
    return bool(field.many_to_one or field.one_to_one)


def _by_pk(m, model: type[Model], has_project: bool) -> QuerySet:
    rows = model._default_manager.all()
    if has_project:
        rows = rows.select_related("project")
    return rows.filter(pk=m.int("pk"))


# ``object_for_user``'s read without a queryset or project, compiled once per model
# (labelhub.prepared): every request for a project or a task by id asks it.
_BY_PK = Prepared(_by_pk)


def object_for_user(
    model: type[M],
    *,
    user,
    pk,
    capability: str = VIEW,
    queryset: QuerySet | None = None,
    project: Project | None = None,
    visible: Callable[..., bool] | None = None,
    changeable: Callable[..., bool] | None = None,
    refusal: str = "You may not change this.",
) -> M:
    """The object ``pk`` of ``model`` for ``user``: the one fetch-and-authorize, for a
    project, anything with a ``project`` foreign key, and objects outside any project.

    The rule (Label Studio's), in this order:

    - **404** (``Not found.``) for an object the user cannot see: ``pk`` not an id or no
      such row (in ``queryset``, when given; inside ``project``, when given), ``visible``
      says no (another annotator's annotation, another user's draft), or the user is no
      member of its project. Nothing tells a hidden object from a missing one.
    - **403** for an object the user sees but may not act on this way: a member whose role
      lacks ``capability``, or ``changeable`` says no (``refusal`` is the message).

    An object whose project is null (a global webhook; a label, which has no project) has
    no role to check: ``queryset`` and ``visible`` decide who sees it. One deliberate
    exception, Label Studio's: an annotation submit naming another user's draft in
    ``draft_id`` is a 403 whoever's it is (``annotations.api._submitted_draft``). ``queryset`` may
    also add ``select_related`` for what the caller reads next.
    """
    has_project = _has_project(model)
    try:
        key = int(pk)
        if not 1 <= key <= MAX_ID:  # past a bigint: the database would raise, not miss
            raise ValueError(key)
        if queryset is None and project is None:
            # The common case (a project, a task by id): a query compiled once.
            obj = _BY_PK.first((model, has_project), pk=key)
            if obj is None:
                raise ObjectDoesNotExist(key)
        else:
            rows = queryset if queryset is not None else model._default_manager.all()
            if has_project:
                rows = rows.select_related("project")
                if project is not None:
                    rows = rows.filter(project=project)
            obj = rows.get(pk=key)
    except (ObjectDoesNotExist, TypeError, ValueError, OverflowError) as exc:
        raise NotFound("Not found.") from exc
    if visible is not None and not visible(user, obj):
        raise NotFound("Not found.")
    owner = obj if isinstance(obj, Project) else getattr(obj, "project", None)
    if owner is not None:
        check(user, owner, capability)
    if changeable is not None and not changeable(user, obj):
        raise PermissionDenied(refusal)
    return obj


def project_for(user, project_id, capability: str = VIEW) -> Project:
    """Fetch a project by id for a user, enforcing the capability (``object_for_user``)."""
    return object_for_user(Project, user=user, pk=project_id, capability=capability)


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
