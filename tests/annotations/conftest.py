"""Fixtures shared by the quality tests."""

import pytest

from importers.services import tasks_import
from projects.models import ProjectMember
from projects.services import member_set
from tasks.models import Task


@pytest.fixture
def second(make_user, project):
    user = make_user("second@example.com")
    member_set(project=project, user=user, role=ProjectMember.Role.ANNOTATOR)
    return user


@pytest.fixture
def tasks(project, owner):
    """Three tasks in a project with overlap 2."""
    project.maximum_annotations = 2
    project.save()
    ids = tasks_import(
        project=project, records=[{"text": f"t{i}"} for i in range(3)], user=owner
    ).task_ids
    return list(Task.objects.filter(pk__in=ids).order_by("pk"))
