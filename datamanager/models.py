"""Saved Data Manager tabs."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class View(models.Model):
    """A saved Data Manager tab, as Label Studio's ``/api/dm/views/`` keeps it: ``data``
    holds ``{"title", "filters", "ordering", "hiddenColumns", ...}``. Filters and ordering
    are checked against the Data Manager's allow-list when saved and again when used."""

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="dm_views"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    order = models.IntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # Created by the tasks app before the Data Manager had an app of its own; the
        # table keeps its name so that moving the model touched no data.
        db_table = "tasks_view"
        indexes = [models.Index(fields=["project", "order", "id"], name="dmview_project_order")]

    def __str__(self) -> str:
        return f"View {self.pk} of project {self.project_id}"
