"""``/api/webhooks/``, ``/api/webhooks/{id}/`` and ``/api/webhooks/info/`` with Label
Studio 1.23.2's fields and status codes.

Who: a project's hooks are seen and changed by its admins (and staff); organization-wide
hooks (no project) by staff only. Beyond Label Studio: ``headers`` values are write-only
(shown as ``********``; that placeholder sent back keeps the stored value), and ``secret``
(the HMAC key of the signature header) is returned once, in the create answer.
"""

from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from labelhub.errors import LabelStudioErrors
from labelhub.validation import id_value
from projects import permissions as perms
from projects.accounts_selectors import ORGANIZATION_ID
from webhooks import actions, selectors, services
from webhooks.models import Webhook


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if value else None


def webhook_dict(webhook: Webhook) -> dict:
    return {
        "id": webhook.pk,
        "organization": ORGANIZATION_ID,  # the one organization
        "project": webhook.project_id,
        "url": webhook.url,
        "send_payload": webhook.send_payload,
        "send_for_all_actions": webhook.send_for_all_actions,
        "headers": {name: services.HIDDEN for name in webhook.headers or {}},
        "is_active": webhook.is_active,
        "actions": sorted(a.action for a in webhook.actions.all()),
        "created_at": _iso(webhook.created_at),
        "updated_at": _iso(webhook.updated_at),
    }


class WebhookIn(serializers.Serializer):
    project = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    url = serializers.URLField(max_length=2048)
    send_payload = serializers.BooleanField(required=False)
    send_for_all_actions = serializers.BooleanField(required=False)
    headers = serializers.JSONField(required=False)
    is_active = serializers.BooleanField(required=False)
    actions = serializers.ListField(
        child=serializers.ChoiceField(choices=list(actions.ACTIONS)), required=False
    )
    secret = serializers.CharField(required=False, min_length=16, max_length=128, write_only=True)


class WebhookListApi(LabelStudioErrors, APIView):
    def get(self, request):
        rows = selectors.webhooks_for_user(user=request.user)
        project = request.query_params.get("project")
        if project is not None and project != "":
            if project == "null":
                rows = rows.filter(project=None)
            else:
                rows = rows.filter(project_id=id_value(project, "project"))
        return Response([webhook_dict(w) for w in rows])

    def post(self, request):
        data = WebhookIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        project_id = fields.pop("project", None)
        if project_id is None:
            # Label Studio 1.23 refuses hooks without a project; staff may make
            # organization-wide ones (the only ones that get PROJECT_CREATED/DELETED).
            if not request.user.is_staff:
                raise NotFound("Project not found.")
            project = None
        else:
            project = perms.project_for(request.user, project_id, perms.MANAGE)
        webhook = services.webhook_create(user=request.user, project=project, **fields)
        body = webhook_dict(webhook)
        body["secret"] = webhook.secret  # once, here; never shown again
        return Response(body, status=status.HTTP_201_CREATED)


class WebhookDetailApi(LabelStudioErrors, APIView):
    def get(self, request, pk):
        return Response(webhook_dict(selectors.webhook_for_user(user=request.user, pk=pk)))

    def patch(self, request, pk, partial=True):
        webhook = selectors.webhook_for_user(user=request.user, pk=pk)
        data = WebhookIn(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields.pop("project", None)  # read-only after create, ignored as Label Studio does
        if not partial:
            fields.setdefault("actions", [])
        services.webhook_update(webhook=webhook, **fields)
        return Response(webhook_dict(selectors.webhook_for_user(user=request.user, pk=pk)))

    def put(self, request, pk):
        return self.patch(request, pk, partial=False)

    def delete(self, request, pk):
        services.webhook_delete(webhook=selectors.webhook_for_user(user=request.user, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookInfoApi(LabelStudioErrors, APIView):
    """Every action, as Label Studio lists them (no sign-in needed, as there);
    ``?organization-only=true|false`` keeps only those with that flag."""

    permission_classes = [AllowAny]

    def get(self, request):
        only = request.query_params.get("organization-only")
        return Response(actions.info(organization_only=None if only is None else only == "true"))
