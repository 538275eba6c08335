from django.conf import settings
from django.db import models
from django.db.models import Q


class ProjectQuerySet(models.QuerySet):
    def for_user(self, user) -> "ProjectQuerySet":
        """Projects the user may see: all for staff, else those they are a member of."""
        if user.is_staff:
            return self
        return self.filter(members__user=user)


class Project(models.Model):
    class Sampling(models.TextChoices):
        SEQUENTIAL = "sequential", "Sequential"
        UNIFORM = "uniform", "Uniform (random)"
        SCORE_MIN = "prediction-score-min", "Lowest prediction score first"
        SCORE_MAX = "prediction-score-max", "Highest prediction score first"

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    expert_instruction = models.TextField(blank=True, default="")
    color = models.CharField(max_length=16, blank=True, default="#FFFFFF")
    label_config = models.TextField()
    # The parsed form of label_config (projects.label_config.ParsedConfig.to_dict()),
    # written by the service that writes label_config.
    parsed_config = models.JSONField(default=dict)
    sampling = models.CharField(
        max_length=32, choices=Sampling.choices, default=Sampling.SEQUENTIAL
    )
    maximum_annotations = models.PositiveIntegerField(default=1)
    show_predictions_to_annotators = models.BooleanField(default=True)
    show_skip_button = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Counters, kept by the services that change them (one F() UPDATE each).
    task_number = models.IntegerField(default=0)
    num_tasks_with_annotations = models.IntegerField(default=0)
    total_annotations_number = models.IntegerField(default=0)
    total_predictions_number = models.IntegerField(default=0)
    ground_truth_number = models.IntegerField(default=0)
    skipped_annotations_number = models.IntegerField(default=0)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(maximum_annotations__gte=1), name="project_overlap_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ProjectMember(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        REVIEWER = "reviewer", "Reviewer"
        ANNOTATOR = "annotator", "Annotator"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="member_unique_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.project_id}:{self.role}"
