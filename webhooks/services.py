"""Writes for webhooks, and their delivery.

Subscriptions: ``webhook_create``/``webhook_update``/``webhook_delete``; the URL goes
through the SSRF guard when it is saved (and again at each call, in ``delivery``).

Delivery: ``event_published`` (subscribed to ``labelhub.events`` in ``WebhooksConfig``)
queues ``webhooks.dispatch`` once the publisher's transaction commits, and only when some
active hook could want it. The dispatch (``webhooks.sending``, run by ``webhooks.tasks``)
builds the payload once and queues one ``webhooks.deliver`` per hook; a delivery that fails in a way a later try may fix (no
connection, timeout, 408/429/5xx) is queued again after ``LABELHUB_WEBHOOK_BACKOFF *
2**(attempt-1)`` seconds (capped at ``LABELHUB_WEBHOOK_BACKOFF_MAX``), up to
``LABELHUB_WEBHOOK_ATTEMPTS`` tries. Both tasks run on their own queue
(``LABELHUB_WEBHOOK_QUEUE``, see ``CELERY_TASK_ROUTES``), so a slow receiver never holds
the workers of imports, exports and training.
"""

import logging
import re
import secrets

from django.conf import settings
from django.db import transaction

from labelhub import events
from labelhub.errors import ApiError
from projects.models import Project
from webhooks import delivery, selectors, sending
from webhooks.actions import ACTIONS
from webhooks.models import Webhook, WebhookAction
from webhooks.tasks import dispatch

logger = logging.getLogger(__name__)

# Label Studio's HEADERS_SCHEMA: at most 10, names of letters, digits, "-" and "_",
# string values.
HEADER_NAME = re.compile(r"^[a-zA-Z0-9_-]+$")
MAX_HEADERS = 10
MAX_HEADER_VALUE = 4096
# What the API shows instead of a header's value; sent back unchanged, it keeps the
# stored value.
HIDDEN = "********"


def _bad(field: str, message: str) -> ApiError:
    return ApiError(f"{field}: {message}", [{"field": field, "message": message}])


def url_check(url: str) -> str:
    url = (url or "").strip()
    try:
        delivery.url_vet(url)
    except delivery.DeliveryError as exc:
        raise _bad("url", str(exc)) from None
    return url


def headers_check(headers, *, stored: dict | None = None) -> dict:
    """The headers to store, or a 400 naming the header and what is wrong. A value equal
    to ``HIDDEN`` keeps the stored value of that header."""
    if headers is None:
        return {}
    if not isinstance(headers, dict):
        raise _bad("headers", "must be a JSON object of header names to values")
    if len(headers) > MAX_HEADERS:
        raise _bad("headers", f"at most {MAX_HEADERS} headers")
    stored = stored or {}
    out = {}
    for name, value in headers.items():
        where = f"headers.{name}"
        if not HEADER_NAME.match(name):
            raise _bad(where, "a header name has only letters, digits, '-' and '_'")
        lowered = name.lower()
        if lowered in delivery.RESERVED_HEADERS or lowered.startswith(delivery.RESERVED_PREFIX):
            raise _bad(where, "this header is set by the server")
        if not isinstance(value, str):
            raise _bad(where, "the value must be a string")
        if value == HIDDEN:
            if name not in stored:
                raise _bad(where, f"{HIDDEN} stands for a stored value, and none is stored")
            value = stored[name]
        if len(value) > MAX_HEADER_VALUE or not value.isascii() or not value.isprintable():
            raise _bad(
                where, f"the value must be one line of printable ASCII, at most {MAX_HEADER_VALUE}"
            )
        out[name] = value
    return out


def actions_check(actions, *, project: Project | None) -> list[str]:
    actions = list(dict.fromkeys(actions or []))
    if project is not None and any(ACTIONS[a].organization_only for a in actions):
        raise _bad("actions", "Project webhook can't contain organization-only action.")
    return actions


def _actions_set(webhook: Webhook, actions: list[str]) -> None:
    WebhookAction.objects.filter(webhook=webhook).exclude(action__in=actions).delete()
    have = set(WebhookAction.objects.filter(webhook=webhook).values_list("action", flat=True))
    WebhookAction.objects.bulk_create(
        [WebhookAction(webhook=webhook, action=a) for a in actions if a not in have]
    )


@transaction.atomic
def webhook_create(
    *,
    user,
    project: Project | None,
    url: str,
    actions: list[str] | None = None,
    headers: dict | None = None,
    secret: str | None = None,
    **fields,
) -> Webhook:
    """A new hook. Its signing secret is ``secret`` or a new random one; the caller shows
    it once (``webhook.secret``) and never again."""
    webhook = Webhook.objects.create(
        project=project,
        url=url_check(url),
        headers=headers_check(headers),
        secret=secret or secrets.token_urlsafe(32),
        created_by=user,
        **fields,
    )
    _actions_set(webhook, actions_check(actions, project=project))
    return webhook


UPDATABLE = {"url", "send_payload", "send_for_all_actions", "headers", "is_active", "secret"}


@transaction.atomic
def webhook_update(*, webhook: Webhook, actions: list[str] | None = None, **fields) -> Webhook:
    """Change the given fields; ``actions`` (when given) replaces the hook's actions."""
    unknown = set(fields) - UPDATABLE
    if unknown:
        raise ApiError(f"Unknown webhook fields: {', '.join(sorted(unknown))}")
    webhook = Webhook.objects.select_for_update().get(pk=webhook.pk)
    if "url" in fields:
        fields["url"] = url_check(fields["url"])
    if "headers" in fields:
        fields["headers"] = headers_check(fields["headers"], stored=webhook.headers)
    if not fields.get("secret", True):
        fields.pop("secret")
    for name, value in fields.items():
        setattr(webhook, name, value)
    webhook.save()
    if actions is not None:
        _actions_set(webhook, actions_check(actions, project=webhook.project))
    return webhook


def webhook_delete(*, webhook: Webhook) -> None:
    webhook.delete()


# Delivery


def event_published(event: events.Event) -> None:
    """The ``labelhub.events`` handler: after the commit, queue the event's dispatch
    (in pieces of ``LABELHUB_WEBHOOK_BATCH_SIZE`` objects) when an active hook may want
    it. Never fails the write that published it."""

    def send() -> None:
        try:
            if not selectors.webhooks_exist(project_id=sending.project_of(event)):
                return
            size = max(1, int(settings.LABELHUB_WEBHOOK_BATCH_SIZE))
            items = event.objects or event.ids
            for start in range(0, len(items), size):
                piece = items[start : start + size]
                dispatch.apply_async(
                    (
                        event.action,
                        event.project_id,
                        [] if event.objects else list(piece),
                        list(piece) if event.objects else [],
                    )
                )
        except Exception:  # a webhook must never fail the user's write
            logger.exception("could not queue webhook event %s", event.action)

    transaction.on_commit(send)
