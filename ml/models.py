from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from labelhub.jobmodel import Job


class MLBackend(models.Model):
    """A model that predicts for a project: a built-in scikit-learn model trained here
    (``kind=builtin``), or a Label Studio ML backend reached over HTTP (``kind=remote``)."""

    class Kind(models.TextChoices):
        BUILTIN = "builtin", "Built-in model"
        REMOTE = "remote", "Label Studio ML backend"

    class State(models.TextChoices):
        # Label Studio's codes.
        CONNECTED = "CO", "Connected"
        DISCONNECTED = "DI", "Disconnected"
        ERROR = "ER", "Error"
        TRAINING = "TR", "Training"
        PREDICTING = "PR", "Predicting"

    class AuthMethod(models.TextChoices):
        NONE = "NONE", "None"
        BASIC_AUTH = "BASIC_AUTH", "Basic auth"

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="ml_backends"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.REMOTE)
    # Built-in: "text-classifier" | "image-classifier" | "ner" (ml.builtin.MODELS).
    model = models.CharField(max_length=64, blank=True, default="")
    url = models.TextField(blank=True, default="")  # "" for a built-in model (API: null)
    title = models.CharField(max_length=255, blank=True, default="")
    description = models.TextField(blank=True, default="")
    is_interactive = models.BooleanField(default=False)
    auth_method = models.CharField(
        max_length=16, choices=AuthMethod.choices, default=AuthMethod.NONE
    )
    basic_auth_user = models.CharField(max_length=255, blank=True, default="")
    basic_auth_pass = models.CharField(max_length=255, blank=True, default="")
    extra_params = models.JSONField(default=dict, blank=True)
    timeout = models.FloatField(default=100.0)
    state = models.CharField(max_length=2, choices=State.choices, default=State.DISCONNECTED)
    error_message = models.TextField(blank=True, default="")
    # The version in use: the newest completed training (built-in), or what the remote
    # backend reported.
    model_version = models.CharField(max_length=255, blank=True, default="")
    # The training job whose model file is in use (built-in only).
    current_job = models.ForeignKey(
        "TrainingJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Annotations counted when the last training started (auto-retraining cadence).
    annotations_at_last_train = models.IntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "model"],
                condition=Q(kind="builtin"),
                name="mlbackend_one_builtin_model_per_project",
            ),
        ]

    def __str__(self) -> str:
        return self.title or self.model or (self.url or "")


class TrainingJob(Job):
    """One training run of a backend. ``model_version`` goes up by one per run of a
    built-in backend; ``model_file`` (media storage) is written before the job is marked
    ``completed``, under a new name, so a killed worker never leaves a half-written model
    in use."""

    Status = Job.Status
    job_kind = "training"

    backend = models.ForeignKey(MLBackend, on_delete=models.CASCADE, related_name="jobs")
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    model_version = models.IntegerField(null=True, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    annotations_used = models.IntegerField(default=0)
    model_file = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["backend", "-id"], name="trainingjob_backend")]
        constraints = [
            models.UniqueConstraint(
                fields=["backend", "model_version"], name="trainingjob_unique_version"
            ),
        ]

    def __str__(self) -> str:
        return f"TrainingJob {self.pk} ({self.status})"

    @property
    def version_name(self) -> str:
        """The one name of the model version this run makes, the one its predictions
        carry: ``<model>-v<n>`` for a built-in model. A remote backend names its own
        versions in its ``/predict`` answers, which a run here does not learn, so its run
        names none ("") rather than a number no prediction carries."""
        if self.model_version is None or self.backend.kind != MLBackend.Kind.BUILTIN:
            return ""
        return model_version_name(self.backend.model, self.model_version)


def model_version_name(model: str, number: int) -> str:
    return f"{model}-v{number}"


class PredictionJob(Job):
    """Predicting with one model version for the tasks that have no prediction from it,
    in batches. Results that break the labeling config are dropped and counted."""

    Status = Job.Status
    job_kind = "prediction"

    backend = models.ForeignKey(MLBackend, on_delete=models.CASCADE, related_name="prediction_jobs")
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    model_version = models.CharField(max_length=255, blank=True, default="")
    total = models.IntegerField(default=0)
    processed = models.IntegerField(default=0)
    written = models.IntegerField(default=0)
    dropped = models.IntegerField(default=0)
    dropped_errors = models.JSONField(default=list, blank=True)
    # Only these tasks (the Data Manager action); None: every task of the project.
    task_ids = models.JSONField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["backend", "-id"], name="predictionjob_backend")]

    def __str__(self) -> str:
        return f"PredictionJob {self.pk} ({self.status})"
