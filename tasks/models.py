from django.conf import settings
from django.db import models
from django.utils import timezone


class Task(models.Model):
    """One item to label. Ids come from the database sequence, so concurrent imports
    never collide (no ``max + 1``)."""

    # No index of its own: (project, id) below serves every project_id lookup, and one
    # index fewer is cheaper on a million-row COPY import.
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="tasks", db_index=False
    )
    data = models.JSONField()
    meta = models.JSONField(default=dict, blank=True)
    is_labeled = models.BooleanField(default=False)
    # Non-cancelled annotations, cancelled (skipped) ones, and predictions.
    total_annotations = models.IntegerField(default=0)
    cancelled_annotations = models.IntegerField(default=0)
    total_predictions = models.IntegerField(default=0)
    # Mean score of the task's scored predictions (None when it has none): the sort key
    # of the prediction-score samplers, so they read one index instead of aggregating
    # every prediction. Written by the services that write predictions
    # (annotations.services, importers); annotations.sampling.prediction_scores_refresh
    # recomputes it for a project.
    prediction_score = models.FloatField(null=True, blank=True)
    # Mean pairwise agreement of the task's non-cancelled annotations (annotations.metrics),
    # None below two. Kept by the annotation services in the same transaction as the write.
    agreement = models.FloatField(null=True, blank=True)
    # Annotations asked beyond the project's overlap after low agreement (0 to 2, see
    # Project.reassign_low_agreement): the task is labeled at maximum_annotations + this.
    overlap_extra = models.PositiveSmallIntegerField(default=0, db_default=0)
    # A Benchmark QA task: a copy of a benchmark project's ground-truth task with its gold
    # answer, mixed into the Label Stream and scored into benchmark_accuracy; kept out of
    # exports, project agreement, the labeled counters and the Verify Stream.
    is_benchmark = models.BooleanField(default=False, db_default=False)
    benchmark_source = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Active learning's pick order (lowest first), precomputed by the ML prediction job
    # from the newest model's uncertainty (ml.strategy); None until a model
    # has predicted for the task. The active-learning sampler walks task_project_al.
    al_priority = models.FloatField(null=True, blank=True)
    # The uploaded file the task was made of (an ``importers.FileUpload`` id; Label
    # Studio's ``file_upload``), written by the import with the task: a plain id, not a
    # foreign key, as uploads belong to an app above this one. Deleting the upload sets
    # it to None (importers.uploads.upload_delete).
    file_upload_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # (project, id) serves every project_id lookup and the id order; the flag at
            # its end lets a page by OFFSET skip the rows before it in the index alone
            # (the list leaves Benchmark QA copies out): page 334 of 10k tasks on SQLite
            # read 9,990 table rows for the flag, 1.0 ms, against 0.44 ms index-only.
            models.Index(fields=["project", "id", "is_benchmark"], name="task_project_walk"),
            models.Index(
                fields=["project", "is_labeled", "al_priority", "id"], name="task_project_al"
            ),
            models.Index(fields=["project", "is_labeled", "id"], name="task_project_labeled"),
            # prediction-score-min/max walk this forwards or backwards (annotations.sampling).
            models.Index(
                fields=["project", "is_labeled", "prediction_score", "id"],
                name="task_project_score",
            ),
            # Tasks whose score may not be computed yet (bulk writers that skip it): the
            # score samplers fill these in (annotations.sampling.prediction_scores_ensure).
            models.Index(
                fields=["project"],
                name="task_score_missing",
                condition=models.Q(prediction_score__isnull=True, total_predictions__gt=0),
            ),
            # Project agreement and tasks_with_overlap (GET /quality/) read only this.
            models.Index(
                fields=["project", "agreement"],
                name="task_overlap_agreement",
                condition=models.Q(total_annotations__gte=2, is_benchmark=False),
            ),
            models.Index(
                fields=["project", "id"],
                name="task_benchmark",
                condition=models.Q(is_benchmark=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "benchmark_source"],
                name="task_benchmark_once",
                condition=models.Q(benchmark_source__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Task {self.pk}"


class TaskLock(models.Model):
    """A task handed to a user in the Label Stream, until ``expire_at``."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="locks")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    expire_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "user"], name="tasklock_unique_user"),
        ]
        indexes = [models.Index(fields=["user", "expire_at"], name="tasklock_user_expire")]

    def __str__(self) -> str:
        return f"Lock {self.task_id} by {self.user_id}"
