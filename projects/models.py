import secrets

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
        ACTIVE_LEARNING = "active-learning", "Active learning"

    class SkipQueue(models.TextChoices):
        """Label Studio's ``skip_queue``: where a skipped task goes."""

        REQUEUE_FOR_OTHERS = "REQUEUE_FOR_OTHERS", "Others get it; the skipper does not"
        REQUEUE_FOR_ME = "REQUEUE_FOR_ME", "The skipper gets it again after the rest"
        IGNORE_SKIPPED = "IGNORE_SKIPPED", "A skip counts as done"

    class Uncertainty(models.TextChoices):
        LEAST_CONFIDENCE = "least-confidence", "Least confidence"
        MARGIN = "margin", "Smallest margin"
        ENTROPY = "entropy", "Highest entropy"

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
    # Label Studio's setting: when off, a submit with an empty result (not a skip) is
    # refused.
    enable_empty_annotation = models.BooleanField(default=True)
    skip_queue = models.CharField(
        max_length=32, choices=SkipQueue.choices, default=SkipQueue.REQUEUE_FOR_OTHERS
    )
    # Quality (annotations.quality). Benchmark QA: the first ``benchmark_first`` tasks an
    # annotator gets are benchmarks, then each next task is one with ``benchmark_rate``.
    # Benchmarks come from ``benchmark_project``'s ground truth (copied in by linking), or
    # from this project's own ground-truth tasks when it is null.
    benchmark_project = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    benchmark_first = models.PositiveIntegerField(default=0)
    benchmark_rate = models.FloatField(default=0.0)
    benchmark_feedback = models.BooleanField(default=False)
    # Tasks that reach their overlap with agreement below this ask for one more
    # annotation (up to maximum_annotations + 2) when reassign_low_agreement is on.
    agreement_threshold = models.FloatField(default=0.5)
    reassign_low_agreement = models.BooleanField(default=False)
    # Machine learning (ml/). Label Studio's names where it has them.
    min_annotations_to_start_training = models.PositiveIntegerField(default=10)
    start_training_on_annotation_update = models.BooleanField(default=False)
    # Train again after this many new annotations (0: only when asked).
    retrain_every = models.PositiveIntegerField(default=20)
    # Which model version's predictions pre-fill the editor ("" = the newest).
    model_version = models.CharField(max_length=255, blank=True, default="")
    # Active learning: random picks until this many annotations (None: the training
    # minimum), the uncertainty measure, and the share of random picks afterwards.
    al_first_batch_size = models.PositiveIntegerField(null=True, blank=True)
    al_uncertainty = models.CharField(
        max_length=32, choices=Uncertainty.choices, default=Uncertainty.MARGIN
    )
    al_epsilon = models.FloatField(default=0.1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Label Studio's pin: pinned projects list first (newest pin first).
    pinned_at = models.DateTimeField(null=True, blank=True)
    # Label Studio's flags for its project wizard and its "publish to annotators" switch,
    # kept and shown for its clients; LabelHub's Label Stream serves members either way.
    is_draft = models.BooleanField(default=False, db_default=False)
    is_published = models.BooleanField(default=False, db_default=False)

    # Counters, kept by the services that change them (one F() UPDATE each).
    task_number = models.IntegerField(default=0)
    num_tasks_with_annotations = models.IntegerField(default=0)
    total_annotations_number = models.IntegerField(default=0)
    total_predictions_number = models.IntegerField(default=0)
    ground_truth_number = models.IntegerField(default=0)
    skipped_annotations_number = models.IntegerField(default=0)
    # Every top-level key of the tasks' ``data`` seen so far, in first-seen order: the
    # Data Manager's data columns and filters. The importers and task creation add to it
    # in their own transaction (``tasks.services.task_data_keys_add``), so a page view
    # never scans the tasks to find them.
    task_data_keys = models.JSONField(default=list, blank=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(maximum_annotations__gte=1), name="project_overlap_positive"
            ),
            models.CheckConstraint(
                condition=Q(benchmark_rate__gte=0, benchmark_rate__lte=1),
                name="project_benchmark_rate_share",
            ),
            models.CheckConstraint(
                condition=Q(agreement_threshold__gte=0, agreement_threshold__lte=1),
                name="project_agreement_threshold_share",
            ),
            models.CheckConstraint(
                condition=Q(al_epsilon__gte=0) & Q(al_epsilon__lte=1),
                name="project_al_epsilon_share",
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
    # The email a project manager typed to add this member (not staff adding by id): the
    # member list then shows the invitation as typed, exactly as it shows one for an
    # email nobody has (``ProjectInvitation``), so adding by email tells nothing about
    # which accounts exist (projects.services.member_invite).
    invited_email = models.CharField(max_length=254, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="member_unique_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.project_id}:{self.role}"


class ProjectInvitation(models.Model):
    """An invitation to a project for an email no account has yet; the account created
    with that email (sign-up, staff) becomes a member with this role."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invitations")
    email = models.CharField(max_length=254)
    role = models.CharField(max_length=16, choices=ProjectMember.Role.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "email"], name="invitation_unique_email"),
        ]

    def __str__(self) -> str:
        return f"{self.email}@{self.project_id}:{self.role}"


def invite_token() -> str:
    """An unguessable invite token (256 bits), URL-safe."""
    return secrets.token_urlsafe(32)


class Organization(models.Model):
    """The one organization of this server (id 1), as Label Studio's open-source edition
    has one: every active user belongs to it. It carries the invite token and the API
    token settings (Label Studio's JWTSettings). ``accounts_services.organization_ensure``
    makes the row when it is missing."""

    title = models.CharField(max_length=1000, default="LabelHub")
    token = models.CharField(max_length=256, unique=True, default=invite_token)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact_info = models.EmailField(blank=True, default="")
    # Personal access tokens (JWT refresh tokens) and the legacy ``Token`` keys: whether
    # each authenticates, and how long a new personal access token lives.
    api_tokens_enabled = models.BooleanField(default=True)
    legacy_api_tokens_enabled = models.BooleanField(default=True)
    api_token_ttl_days = models.PositiveIntegerField(default=200 * 365)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(api_token_ttl_days__gte=1) & Q(api_token_ttl_days__lte=200 * 365),
                name="organization_token_ttl_range",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class UserProfile(models.Model):
    """What Label Studio keeps on its user model and Django's user lacks: the avatar (a
    storage key under ``avatars/``) and the editor's custom hotkeys."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    avatar = models.CharField(max_length=255, blank=True, default="")
    custom_hotkeys = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"profile of {self.user_id}"


class ProductTour(models.Model):
    """A user's state of one product tour (Label Studio's UserProductTour)."""

    class State(models.TextChoices):
        READY = "ready", "Ready"
        COMPLETED = "completed", "Completed"
        SKIPPED = "skipped", "Skipped"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="product_tours"
    )
    name = models.CharField(max_length=256)
    state = models.CharField(max_length=32, choices=State.choices, default=State.READY)
    interaction_data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="product_tour_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.name}:{self.state}"


class Label(models.Model):
    """A custom label kept apart from any labeling config (Label Studio's labels manager):
    ``value`` is what a result carries (e.g. a Taxonomy path ``["Animal", "Cat"]``), and
    each ``LabelLink`` offers it to one control (``from_name``) of one project.

    Label Studio shares labels across its organization; here a label belongs to the user
    who made it (titles are unique per creator) and is seen by its creator and by the
    members of the projects it is linked to (``projects.labels.labels_visible``)."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="labels"
    )
    value = models.JSONField()
    title = models.CharField(max_length=2048)
    description = models.TextField(blank=True, null=True)  # noqa: DJ001 - LS answers null
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="labels_approved",
    )
    approved = models.BooleanField(default=False)
    projects = models.ManyToManyField(Project, through="LabelLink", related_name="labels")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["created_by", "title"], name="label_unique_title"),
        ]

    def __str__(self) -> str:
        return self.title


class LabelLink(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="label_links")
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="links")
    from_name = models.CharField(max_length=2048)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "label"], name="labellink_unique_project"),
        ]

    def __str__(self) -> str:
        return f"{self.label_id}@{self.project_id}:{self.from_name}"
