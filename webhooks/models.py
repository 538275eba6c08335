from django.conf import settings
from django.db import models

from webhooks.actions import ACTIONS


class Webhook(models.Model):
    """A subscription: POST the chosen actions to ``url``. ``project`` null is an
    organization-wide hook (staff only), which also gets the organization-only actions."""

    project = models.ForeignKey(
        "projects.Project",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhooks",
    )
    url = models.URLField(max_length=2048)
    send_payload = models.BooleanField(default=True)
    send_for_all_actions = models.BooleanField(default=True)
    # Extra request headers, name -> value; write-only values in the API (they usually
    # carry a receiver's token).
    headers = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    # The HMAC-SHA256 key of the signature header; never returned after the create answer.
    secret = models.CharField(max_length=128)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"webhook {self.pk} -> {self.url}"


class WebhookAction(models.Model):
    """One action a hook with ``send_for_all_actions`` off is sent."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="actions")
    action = models.CharField(
        max_length=128, choices=[(key, value.name) for key, value in ACTIONS.items()]
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["webhook", "action"], name="webhook_action_unique"),
        ]
        indexes = [models.Index(fields=["action"], name="webhook_action_action")]

    def __str__(self) -> str:
        return f"{self.webhook_id}:{self.action}"
