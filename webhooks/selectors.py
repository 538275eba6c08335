"""Reads for webhooks: who sees which hook, and which hooks an event goes to."""

from django.db.models import Q, QuerySet

from labelhub.prepared import Prepared
from projects import permissions as perms
from projects.models import ProjectMember
from webhooks.actions import ACTIONS
from webhooks.models import Webhook


def webhooks_for_user(*, user) -> QuerySet[Webhook]:
    """The hooks a user may see and change: staff see all (organization-wide ones
    included); anyone else the hooks of the projects they are an admin of."""
    rows = Webhook.objects.prefetch_related("actions").order_by("pk")
    if user.is_staff:
        return rows
    return rows.filter(project__members__user=user, project__members__role=ProjectMember.Role.ADMIN)


def webhook_for_user(*, user, pk) -> Webhook:
    """The hook ``pk`` when the user may manage it (``object_for_user``): 404 when they
    may not see it (another project's hooks are not told apart from missing ones; a
    global hook for anyone but staff), 403 for a member of its project who is not its
    admin, as the project's other admin-only objects answer."""
    return perms.object_for_user(
        Webhook,
        user=user,
        pk=pk,
        capability=perms.MANAGE,
        queryset=Webhook.objects.prefetch_related("actions"),
        visible=lambda who, hook: hook.project_id is not None or who.is_staff,
    )


def webhooks_for_event(*, action: str, project_id: int | None) -> QuerySet[Webhook]:
    """Active hooks that want ``action`` of project ``project_id``: the project's own
    and the organization-wide ones (only those for organization-only actions)."""
    rows = Webhook.objects.filter(is_active=True)
    if ACTIONS[action].organization_only or project_id is None:
        rows = rows.filter(project=None)
    else:
        rows = rows.filter(Q(project_id=project_id) | Q(project=None))
    wanted = Q(send_for_all_actions=True) | Q(actions__action=action)
    return rows.filter(wanted).distinct().order_by("pk")


def webhooks_exist(*, project_id: int | None) -> bool:
    """Whether any active hook could want an event of this project (one cheap query, so
    that a write in a project without hooks queues nothing)."""
    if project_id is None:
        return bool(_ORGANIZATION_HOOKS.run())
    return bool(_PROJECT_HOOKS.run(project=project_id))


# webhooks_exist's questions, asked after every annotation write (a project's) and every
# project create or delete (the organization's): compiled once (labelhub.prepared), the
# SQL of ``.exists()``.
_ORGANIZATION_HOOKS = Prepared(
    lambda m: Webhook.objects.filter(is_active=True, project=None).values_list("pk", flat=True)[:1]
)
_PROJECT_HOOKS = Prepared(
    lambda m: (
        Webhook.objects.filter(is_active=True)
        .filter(Q(project_id=m.int("project")) | Q(project=None))
        .values_list("pk", flat=True)[:1]
    )
)
