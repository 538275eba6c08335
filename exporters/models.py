from django.conf import settings
from django.db import models

from labelhub.jobmodel import Job


class ExportSnapshot(Job):
    """A JSON export built in the background (Label Studio's ``Export``), with its file
    in the media storage and the formats converted from it."""

    class Status(models.TextChoices):
        # Label Studio's values.
        QUEUED = "created", "Created"
        RUNNING = "in_progress", "In Progress"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    job_kind = "export"

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="export_snapshots"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=2048, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    task_filter_options = models.JSONField(default=dict, blank=True)
    annotation_filter_options = models.JSONField(default=dict, blank=True)
    serialization_options = models.JSONField(default=dict, blank=True)
    # The Data Manager query (filters, selectedItems) the export follows, if any.
    query = models.JSONField(null=True, blank=True)
    # {"task_number", "annotation_number", "prediction_number"}, set when completed.
    counters = models.JSONField(default=dict, blank=True)
    processed = models.IntegerField(default=0)
    total = models.IntegerField(default=0)
    md5 = models.CharField(max_length=32, blank=True, default="")
    # The file's key in the media storage; set only together with ``completed``.
    file = models.CharField(max_length=512, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["project", "-id"], name="exportsnapshot_project")]

    def __str__(self) -> str:
        return f"Export {self.pk} of project {self.project_id} ({self.status})"


class ConvertedFormat(Job):
    """A snapshot converted to another format (``POST .../exports/{pk}/convert``), a job
    of ``labelhub.jobs`` with Label Studio's export statuses; its ``error`` is what Label
    Studio's ``converted_formats`` answer calls ``traceback``."""

    Status = ExportSnapshot.Status

    job_kind = "export_convert"

    snapshot = models.ForeignKey(
        ExportSnapshot, on_delete=models.CASCADE, related_name="converted_formats"
    )
    export_type = models.CharField(max_length=32)
    download_resources = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    file = models.CharField(max_length=512, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "export_type"], name="convertedformat_unique_type"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.export_type} of export {self.snapshot_id}"
