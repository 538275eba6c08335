"""Import jobs.

An ``ImportJob`` is a background import: the files it reads live in ``work_dir`` (under
the data directory, which web and worker share) until it ends. Its status moves
``created`` -> ``in_progress`` -> ``completed`` or ``failed``; ``completed`` is written in
the same transaction as the tasks, so it never shows for a partial import.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ImportJob(models.Model):
    class Status(models.TextChoices):
        CREATED = "created", "Created"
        IN_PROGRESS = "in_progress", "In progress"
        FAILED = "failed", "Failed"
        COMPLETED = "completed", "Completed"

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="import_jobs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED)
    # [{"path": "/abs/path", "name": "what the user called it"}]
    files = models.JSONField(default=list)
    work_dir = models.CharField(max_length=1024, blank=True, default="")
    options = models.JSONField(default=dict, blank=True)
    total_bytes = models.BigIntegerField(default=0)
    # Records read so far (while running) and in all (when known).
    processed = models.IntegerField(default=0)
    total = models.IntegerField(null=True, blank=True)
    task_count = models.IntegerField(default=0)
    annotation_count = models.IntegerField(default=0)
    prediction_count = models.IntegerField(default=0)
    skipped_count = models.IntegerField(default=0)
    # Task ids as [[first, last], ...]: a million contiguous ids are one pair.
    task_id_ranges = models.JSONField(default=list, blank=True)
    detail = models.TextField(blank=True, default="")
    errors = models.JSONField(default=list, blank=True)
    attempts = models.IntegerField(default=0)
    worker = models.CharField(max_length=255, blank=True, default="")
    duration = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["project", "-id"], name="importjob_project")]

    def __str__(self) -> str:
        return f"Import {self.pk} into project {self.project_id}: {self.status}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.COMPLETED, self.Status.FAILED)


class FileUpload(models.Model):
    """A file uploaded with ``commit_to_project=false`` (Label Studio's two-step import):
    kept in the media storage under ``upload/<project>/<name>`` (served to members by
    ``/data/upload/...``) until a re-import turns it into tasks. ``task_id_ranges``
    holds the ids of the tasks its last re-import made (``[[first, last], ...]``), so the
    next re-import of it replaces exactly those."""

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="file_uploads"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    file = models.CharField(max_length=1024)
    name = models.CharField(max_length=1024)
    size = models.BigIntegerField(default=0)
    task_id_ranges = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["project", "id"], name="fileupload_project")]

    def __str__(self) -> str:
        return self.name
