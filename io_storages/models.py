"""One model family for every storage kind (s3, gcs, azure, redis, localfiles).

A source (``ImportStorage``) and a target (``ExportStorage``) is each the row of its own
sync job (``labelhub.jobs.Job``: one runner, lock, progress and dead-worker sweep for
every job), as Label Studio's ``StorageInfo`` keeps the sync's state on the storage:
``status`` with Label Studio's values, ``last_sync``, ``last_sync_count``,
``last_sync_job`` and ``meta``; Label Studio's ``traceback`` is the job's ``error``.
What differs per kind lives in two JSON columns: ``options`` (bucket, prefix, endpoint,
host, ...; shown in the API) and ``credentials`` (keys, passwords, service-account JSON;
write-only, never shown). The fields each kind accepts are declared once in
``io_storages.kinds``.
"""

from django.db import models
from django.utils import timezone

from labelhub.jobmodel import Job


class Kind(models.TextChoices):
    S3 = "s3", "AWS S3"
    GCS = "gcs", "Google Cloud Storage"
    AZURE = "azure", "Microsoft Azure"
    REDIS = "redis", "Redis"
    LOCALFILES = "localfiles", "Local files"


class Status(models.TextChoices):
    # Label Studio's values; QUEUED, RUNNING, COMPLETED and FAILED are the job's roles.
    INITIALIZED = "initialized", "Initialized"
    QUEUED = "queued", "Queued"
    RUNNING = "in_progress", "In progress"
    FAILED = "failed", "Failed"
    COMPLETED = "completed", "Completed"
    COMPLETED_WITH_ERRORS = "completed_with_errors", "Completed with errors"


class StorageBase(Job):
    """A storage and its sync: the row is queued again for each sync (``created_at`` is
    the storage's), so a storage has one sync at a time and its last one's state."""

    Status = Status

    kind = models.CharField(max_length=16, choices=Kind.choices)
    title = models.CharField(max_length=256, null=True, blank=True)  # noqa: DJ001 - null as Label Studio answers
    description = models.TextField(null=True, blank=True)  # noqa: DJ001 - null as Label Studio answers
    options = models.JSONField(default=dict, blank=True)
    credentials = models.JSONField(default=dict, blank=True)
    regex_filter = models.TextField(null=True, blank=True)  # noqa: DJ001 - null as Label Studio answers
    use_blob_urls = models.BooleanField(default=False)
    synchronizable = models.BooleanField(default=True)
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.INITIALIZED)
    last_sync = models.DateTimeField(null=True, blank=True)
    last_sync_count = models.PositiveIntegerField(null=True, blank=True)
    last_sync_job = models.CharField(max_length=256, null=True, blank=True)  # noqa: DJ001 - null as Label Studio answers
    meta = models.JSONField(default=dict, blank=True, null=True)

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        """Nothing to run: only a queued sync (or a running one whose worker died and
        whose message came back) is run."""
        return self.status not in (Status.QUEUED, Status.RUNNING)

    def option(self, name: str, default=None):
        value = (self.options or {}).get(name)
        return default if value in (None, "") else value

    def secret(self, name: str, default=None):
        value = (self.credentials or {}).get(name)
        return default if value in (None, "") else value


class ImportStorage(StorageBase):
    """A source: each sync adds a task for every object it has not imported yet."""

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="import_storages"
    )
    presign = models.BooleanField(default=True)
    presign_ttl = models.PositiveSmallIntegerField(default=1)  # minutes
    recursive_scan = models.BooleanField(default=False)

    job_kind = "import_sync"

    class Meta:
        indexes = [models.Index(fields=["project", "kind"], name="importstorage_project")]

    def __str__(self) -> str:
        return f"{self.kind} source {self.pk} of project {self.project_id}"


class ExportStorage(StorageBase):
    """A target: one object per annotation, written on sync and after each change."""

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="export_storages"
    )
    can_delete_objects = models.BooleanField(null=True, blank=True)

    job_kind = "export_sync"

    class Meta:
        indexes = [models.Index(fields=["project", "kind"], name="exportstorage_project")]

    def __str__(self) -> str:
        return f"{self.kind} target {self.pk} of project {self.project_id}"


class ImportStorageLink(models.Model):
    """An object key a source has imported: a re-sync skips it by one keyed lookup per
    listed page. ``task`` is null for keys carried over from the old S3 table (which did
    not record the task)."""

    storage = models.ForeignKey(ImportStorage, on_delete=models.CASCADE, related_name="links")
    task = models.ForeignKey(
        "tasks.Task", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    key = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["storage", "key"], name="importlink_key")]

    def __str__(self) -> str:
        return self.key


class ExportStorageLink(models.Model):
    """An annotation a target holds (its object is ``<prefix>/<annotation id>``)."""

    storage = models.ForeignKey(ExportStorage, on_delete=models.CASCADE, related_name="links")
    annotation_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["storage", "annotation_id"], name="exportlink_unique")
        ]

    def __str__(self) -> str:
        return f"annotation {self.annotation_id} in {self.storage_id}"
