"""Import jobs.

An ``ImportJob`` is a background import: the files it reads live in ``work_dir`` (under
the data directory, which web and worker share) until it ends. Its status moves
``created`` -> ``in_progress`` -> ``completed`` or ``failed``; ``completed`` is written in
the same transaction as the tasks, so it never shows for a partial import.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from labelhub.jobmodel import Job


class ImportJob(Job):
    class Status(models.TextChoices):
        # Label Studio's values.
        QUEUED = "created", "Created"
        RUNNING = "in_progress", "In progress"
        FAILED = "failed", "Failed"
        COMPLETED = "completed", "Completed"

    job_kind = "import"

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="import_jobs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
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
    duration = models.FloatField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["project", "-id"], name="importjob_project")]

    def __str__(self) -> str:
        return f"Import {self.pk} into project {self.project_id}: {self.status}"


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


class LabelStudioCopy(models.Model):
    """One Label Studio object copied into LabelHub: the migration's mapping table.

    Keyed by the Label Studio instance (its normalized URL), the kind of object and its
    id there. ``ls_updated`` is Label Studio's ``updated_at`` (or a digest of the
    object's settings where it has none) when it was copied, so a later run copies only
    what is new or changed. Written in the same transaction as the copies themselves.
    """

    source = models.CharField(max_length=512)
    kind = models.CharField(max_length=32)
    ls_id = models.BigIntegerField()
    ls_project = models.BigIntegerField(null=True, blank=True)
    lh_id = models.BigIntegerField()
    ls_updated = models.CharField(max_length=64, blank=True, default="")
    copied_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "kind", "ls_id"], name="lscopy_unique"),
        ]
        indexes = [
            models.Index(fields=["source", "kind", "ls_project"], name="lscopy_project"),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.kind} {self.ls_id} -> {self.lh_id}"


class MigrationJob(Job):
    """A migration from a running Label Studio started from the staff page.

    The token is kept only while the job waits or runs (the worker needs it) and is
    blanked when the job finishes; it is never shown back.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    job_kind = "lsmigrate"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    url = models.CharField(max_length=512)
    token = models.TextField(blank=True, default="")
    project_ids = models.JSONField(default=list, blank=True)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    # Where it is: {"projects_done", "projects_total", "project", "tasks_done", "tasks_total"}
    stage = models.JSONField(default=dict, blank=True)
    report = models.TextField(blank=True, default="")

    def __str__(self) -> str:
        return f"Migration {self.pk} from {self.url}: {self.status}"
