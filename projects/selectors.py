"""Reads for projects: the one way to fetch an object of a project for a user."""

from collections.abc import Callable
from typing import TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet
from rest_framework.exceptions import NotFound

from labelhub.validation import MAX_ID
from projects import permissions as perms
from projects.models import Project

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
