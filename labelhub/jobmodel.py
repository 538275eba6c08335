"""The fields every job shares (``labelhub.jobs`` runs them).

Apart from the runner so that the apps' models, which ``django.setup()`` imports, do not
load the job queue (Celery) with them.
"""

from typing import ClassVar

from django.db import models
from django.utils import timezone


class Job(models.Model):
    """The fields every job shares. A kind's model may narrow ``Status`` to the values
    its API answers, but keeps the four roles (``QUEUED``, ``RUNNING``, ``COMPLETED``,
    ``FAILED``), and redeclares ``status`` with those choices."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    error = models.TextField(blank=True, default="")
    errors = models.JSONField(default=list, blank=True)
    attempts = models.IntegerField(default=0)
    worker = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # The kind's name in the registry (``register``): set by each concrete model.
    job_kind: ClassVar[str] = ""

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.COMPLETED, self.Status.FAILED)
