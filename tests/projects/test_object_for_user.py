"""Issue #27 item 5: one fetch-and-authorize (``projects.permissions.object_for_user``) for
projects, objects of a project and objects outside any project, with one rule: 404 for an
object the user cannot see, 403 for one they see but may not act on this way."""

import pytest
from rest_framework.exceptions import NotFound, PermissionDenied

from annotations.models import AnnotationDraft
from annotations.selectors import draft_for_user
from importers.services import tasks_import
from projects import labels
from projects import permissions as perms
from projects.models import Label, LabelLink, Project
from projects.selectors import object_for_user
from tasks.models import Task
from webhooks.models import Webhook
from webhooks.selectors import webhook_for_user

pytestmark = pytest.mark.django_db


def _status(call):
    try:
        call()
    except NotFound:
        return 404
    except PermissionDenied:
        return 403
    return 200


def test_the_selectors_door_is_the_permissions_one():
    assert object_for_user is perms.object_for_user


@pytest.mark.parametrize("pk", [None, "", "x", 0, -1, 2**63, "9" * 30, 999_999])
def test_no_such_id_is_404_for_every_kind(owner, project, pk):
    assert _status(lambda: perms.project_for(owner, pk)) == 404
    assert _status(lambda: object_for_user(Task, user=owner, pk=pk)) == 404
    assert _status(lambda: labels.label_for_user(user=owner, pk=pk)) == 404
    assert _status(lambda: webhook_for_user(user=owner, pk=pk)) == 404


def test_a_project_through_the_door(project, owner, annotator, outsider, staff):
    assert perms.project_for(owner, project.pk, perms.MANAGE) == project
    assert object_for_user(Project, user=owner, pk=project.pk) == project
    assert _status(lambda: perms.project_for(annotator, project.pk, perms.MANAGE)) == 403
    assert _status(lambda: perms.project_for(outsider, project.pk)) == 404
    assert _status(lambda: perms.project_for(staff, project.pk, perms.MANAGE)) == 200


def test_outside_the_given_project_is_404(project, owner, make_project):
    other = make_project(project.label_config, "other")
    task_id = tasks_import(project=other, records=[{"text": "x"}], user=owner).task_ids[0]
    assert _status(lambda: object_for_user(Task, user=owner, pk=task_id, project=project)) == 404
    assert _status(lambda: object_for_user(Task, user=owner, pk=task_id, project=other)) == 200


def test_drafts_seen_but_not_changeable_are_403(project, owner, reviewer, annotator, make_user):
    from projects.models import ProjectMember
    from projects.services import member_set

    other = make_user("other@example.com")
    member_set(project=project, user=other, role=ProjectMember.Role.ANNOTATOR)
    task_id = tasks_import(project=project, records=[{"text": "x"}], user=owner).task_ids[0]
    draft = AnnotationDraft.objects.create(
        task_id=task_id, project=project, user=annotator, result=[]
    )
    for user, read, change in (
        (annotator, 200, 200),
        (owner, 200, 403),
        (reviewer, 200, 403),
        (other, 404, 404),
    ):
        assert _status(lambda u=user: draft_for_user(user=u, pk=draft.pk)) == read, user
        assert _status(lambda u=user: draft_for_user(user=u, pk=draft.pk, change=True)) == change, (
            user
        )


def test_labels_and_links(project, owner, annotator, outsider, make_user):
    label = Label.objects.create(created_by=owner, value="Cat", title="Cat")
    link = LabelLink.objects.create(label=label, project=project, from_name="sentiment")
    assert _status(lambda: labels.label_for_change(user=owner, pk=label.pk)) == 200
    # the annotator sees it through the project, and did not make it
    assert _status(lambda: labels.label_for_user(user=annotator, pk=label.pk)) == 200
    assert _status(lambda: labels.label_for_change(user=annotator, pk=label.pk)) == 403
    assert _status(lambda: labels.label_for_user(user=outsider, pk=label.pk)) == 404
    assert _status(lambda: labels.label_for_change(user=outsider, pk=label.pk)) == 404
    assert _status(lambda: labels.link_for_user(user=annotator, pk=link.pk)) == 200
    assert (
        _status(lambda: labels.link_for_user(user=annotator, pk=link.pk, capability=perms.MANAGE))
        == 403
    )
    assert _status(lambda: labels.link_for_user(user=outsider, pk=link.pk)) == 404


def test_webhooks(project, owner, annotator, outsider, staff):
    hook = Webhook.objects.create(project=project, url="https://example.com/hook")
    org_hook = Webhook.objects.create(project=None, url="https://example.com/org")
    assert _status(lambda: webhook_for_user(user=owner, pk=hook.pk)) == 200
    assert _status(lambda: webhook_for_user(user=annotator, pk=hook.pk)) == 403
    assert _status(lambda: webhook_for_user(user=outsider, pk=hook.pk)) == 404
    assert _status(lambda: webhook_for_user(user=owner, pk=org_hook.pk)) == 404
    assert _status(lambda: webhook_for_user(user=staff, pk=org_hook.pk)) == 200
