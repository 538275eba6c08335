"""The webhooks step of the Label Studio migration (registered in ``WebhooksConfig.ready``):
each project webhook's URL, actions, payload flags, active flag and headers. The
receiver's URL goes through the same check as a hook made here (a refused one is listed
for the admin, not copied). Label Studio's hooks have no signing secret, so each gets a
new one here."""

import hashlib

import orjson

from labelhub.errors import ApiError
from webhooks.models import Webhook
from webhooks.services import webhook_create, webhook_update

FIELDS = ("url", "send_payload", "send_for_all_actions", "is_active", "headers")


def webhooks_copy(ctx, ls_project: dict, project) -> int:
    copied = 0
    for item in ctx.get("/api/webhooks/", project=ls_project["id"]):
        if item.get("project") != ls_project["id"]:
            continue  # organization-wide hooks are not a project's
        values = {name: item[name] for name in FIELDS if item.get(name) is not None}
        actions = list(item.get("actions") or [])
        stamp = hashlib.sha256(
            orjson.dumps([values, actions], option=orjson.OPT_SORT_KEYS)
        ).hexdigest()[:32]
        found = ctx.known("webhook", item["id"])
        if found and found[1] == stamp and Webhook.objects.filter(pk=found[0]).exists():
            continue
        hook = Webhook.objects.filter(pk=found[0], project=project).first() if found else None
        try:
            if hook is None:
                hook = webhook_create(user=ctx.user, project=project, actions=actions, **values)
            else:
                hook = webhook_update(webhook=hook, actions=actions, **values)
        except ApiError as exc:
            ctx.note(
                f'Project "{project.title}": webhook {values.get("url")} not copied: {exc.detail}'
            )
            continue
        ctx.remember("webhook", item["id"], hook.pk, stamp)
        copied += 1
    return copied
