from django.conf import settings
from django.db import models
from django.utils import timezone


class Annotation(models.Model):
    """A completion: one user's result for one task. ``was_cancelled`` marks a skip."""

    # The FK columns lean on the composite indexes in Meta (task, ...) and (project, ...):
    # single-column indexes beside them would only slow bulk imports.
    task = models.ForeignKey(
        "tasks.Task", on_delete=models.CASCADE, related_name="annotations", db_index=False
    )
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="annotations", db_index=False
    )
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="annotations"
    )
    result = models.JSONField(default=list)
    was_cancelled = models.BooleanField(default=False)
    ground_truth = models.BooleanField(default=False)
    lead_time = models.FloatField(null=True, blank=True)
    parent_prediction = models.ForeignKey(
        "Prediction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    parent_annotation = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["task", "completed_by"], name="annotation_task_user"),
            models.Index(fields=["project", "completed_by"], name="annotation_project_user"),
            models.Index(fields=["project", "ground_truth"], name="annotation_project_gt"),
        ]

    def __str__(self) -> str:
        return f"Annotation {self.pk} on task {self.task_id}"


class Prediction(models.Model):
    """A model's read-only result for a task."""

    task = models.ForeignKey("tasks.Task", on_delete=models.CASCADE, related_name="predictions")
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="predictions", db_index=False
    )
    model_version = models.CharField(max_length=255, blank=True, default="")
    score = models.FloatField(null=True, blank=True)
    result = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["project", "model_version"], name="prediction_project_version"),
        ]

    def __str__(self) -> str:
        return f"Prediction {self.pk} on task {self.task_id}"


class Review(models.Model):
    """A reviewer's thumbs up (accepted) or down on an annotation; one per reviewer."""

    annotation = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews"
    )
    accepted = models.BooleanField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["annotation", "reviewer"], name="review_unique_reviewer"
            ),
        ]

    def __str__(self) -> str:
        return f"Review {self.pk}: {'accepted' if self.accepted else 'rejected'}"
