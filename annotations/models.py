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
            # Also the quality report's exact median lead time per annotator (an
            # index-only walk to the middle of each annotator's ordered lead times).
            models.Index(
                fields=["project", "completed_by", "lead_time"], name="annotation_project_user_lt"
            ),
            models.Index(fields=["project", "ground_truth"], name="annotation_project_gt"),
        ]

    def __str__(self) -> str:
        return f"Annotation {self.pk} on task {self.task_id}"


class AnnotationDraft(models.Model):
    """Unsubmitted work: a user's result for a task (``annotation`` None) or their
    changes to an existing annotation, saved by the Label Stream as they label and put
    back into the editor when they return (Label Studio's ``AnnotationDraft``).

    One draft per user and task (or per user and annotation): saving again updates it.
    Only its author sees it in the task and the editor; admins and reviewers may read
    every draft of their projects. Removed when its author submits the task, when its
    annotation is updated, and with its task, annotation or project.
    ``project`` is a copy of the task's, for access checks and the project delete."""

    task = models.ForeignKey("tasks.Task", on_delete=models.CASCADE, related_name="drafts")
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    annotation = models.ForeignKey(
        Annotation, null=True, blank=True, on_delete=models.CASCADE, related_name="drafts"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    result = models.JSONField(default=list)
    lead_time = models.FloatField(null=True, blank=True)
    was_postponed = models.BooleanField(default=False)
    import_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # the Label Stream's "the caller's drafts in this project" on each hand-out
            models.Index(fields=["project", "user"], name="draft_project_user"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "user"],
                condition=models.Q(annotation__isnull=True),
                name="draft_unique_task_user",
            ),
            models.UniqueConstraint(
                fields=["annotation", "user"],
                condition=models.Q(annotation__isnull=False),
                name="draft_unique_annotation_user",
            ),
        ]

    def __str__(self) -> str:
        return f"Draft {self.pk} on task {self.task_id}"


class LabelStreamVisit(models.Model):
    """One task the Label Stream handed a user, and the annotation they made of it
    (Label Studio's label stream history, ``/api/projects/{id}/label-stream-history/``).
    The newest ``LABEL_STREAM_HISTORY_LIMIT`` per user and project are kept."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey("tasks.Task", on_delete=models.CASCADE, related_name="+")
    annotation = models.ForeignKey(
        Annotation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user", "task"], name="visit_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} got task {self.task_id}"


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
    comment = models.TextField(blank=True, default="", db_default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["annotation", "reviewer"], name="review_unique_reviewer"
            ),
        ]
        indexes = [
            # The rejected reviews alone: the Label Stream asks for the caller's rejected
            # work on every next task (annotations.benchmarks.rework_next).
            models.Index(
                fields=["annotation"], condition=models.Q(accepted=False), name="review_rejected"
            ),
        ]

    def __str__(self) -> str:
        return f"Review {self.pk}: {'accepted' if self.accepted else 'rejected'}"


class ReviewRecord(models.Model):
    """Every verdict a reviewer gave, kept (``Review`` holds only the current one per
    reviewer, and a rework deletes a rejection). The Verify Stream, the Data Manager
    and the rework banner read the history from here; ``reworked_at`` is set when the
    annotator's update answered a rejection. Written only by
    ``annotations.services.review_set`` and the rework in ``annotation_update``."""

    annotation = models.ForeignKey(
        Annotation, on_delete=models.CASCADE, related_name="review_records"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_records"
    )
    accepted = models.BooleanField()
    comment = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    reworked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["reviewer", "reworked_at"], name="review_record_reviewer"),
        ]

    def __str__(self) -> str:
        return f"ReviewRecord {self.pk}: {'accepted' if self.accepted else 'rejected'}"


class AgreementPair(models.Model):
    """The score of one annotation against another of the same task, stored both ways.

    Written by ``annotations.quality.task_agreement_update`` whenever a result changes,
    for that task only. The quality report reads these with SQL aggregates: annotator
    agreement (pairs with other annotators), ground-truth and benchmark accuracy (pairs
    whose ``other`` is a ground-truth annotation, joined at read time so marking ground
    truth needs no rescoring) and the pairwise matrix. ``score`` is None when the pair
    had nothing scorable (only unsupported result types).
    """

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    task = models.ForeignKey("tasks.Task", on_delete=models.CASCADE, related_name="+")
    annotation = models.ForeignKey(
        Annotation, on_delete=models.CASCADE, related_name="agreement_pairs"
    )
    other = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+"
    )
    other_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+"
    )
    # The task's flag, copied: benchmark tasks are created as such and never change.
    is_benchmark = models.BooleanField(default=False)
    score = models.FloatField(null=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["project", "user"],
                name="pair_benchmark",
                condition=models.Q(is_benchmark=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["annotation", "other"], name="pair_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.annotation_id} vs {self.other_id}: {self.score}"


class LabelCount(models.Model):
    """How many times each label of each control was chosen in a project's non-cancelled
    annotations: the quality page's label distribution, kept by the annotation services
    (an F() upsert per write) so the report never unpacks a million result lists."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    from_name = models.CharField(max_length=255)
    label = models.CharField(max_length=255)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "from_name", "label"], name="labelcount_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_name}/{self.label}: {self.count}"


class AnnotatorDay(models.Model):
    """One annotator's annotations, skips and lead time in a project on one day (UTC, by
    ``Annotation.created_at``): the throughput part of the quality report, kept by the
    annotation services with one upsert per write, so the report sums at most
    annotators x days rows instead of scanning every annotation."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    annotations = models.IntegerField(default=0)
    skipped = models.IntegerField(default=0)
    lead_time_sum = models.FloatField(default=0)
    lead_time_count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user", "day"], name="annotatorday_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.day}: {self.annotations}"


class AnnotatorPairTotal(models.Model):
    """Sum and count of the pair scores between two annotators in a project (production
    tasks only, both directions stored): the pairwise matrix and each annotator's
    agreement, kept with every ``AgreementPair`` change."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    other_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    score_sum = models.FloatField(default=0)
    scored = models.IntegerField(default=0)  # pairs with a score
    tasks = models.IntegerField(default=0)  # pairs (one per shared task)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "user", "other_user"], name="annotatorpair_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} vs {self.other_user_id}: {self.score_sum}/{self.scored}"


class AnnotatorTotal(models.Model):
    """One annotator's review verdicts (on their annotations) and ground-truth and
    benchmark pair scores in a project: the rest of the report's annotator row, kept in
    the transaction of each write that moves them (a review set or deleted, an
    annotation written or deleted, ground truth marked or unmarked) and recounted by
    ``annotations.quality.quality_totals_recount`` after bulk changes.

    ``gt_tasks``/``benchmark_tasks`` count tasks where the annotator has a pair with a
    ground-truth annotation; ``*_scored``/``*_score_sum`` the pairs that had a score."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reviews_accepted = models.IntegerField(default=0)
    reviews_rejected = models.IntegerField(default=0)
    gt_score_sum = models.FloatField(default=0)
    gt_scored = models.IntegerField(default=0)
    gt_tasks = models.IntegerField(default=0)
    benchmark_score_sum = models.FloatField(default=0)
    benchmark_scored = models.IntegerField(default=0)
    benchmark_tasks = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="annotatortotal_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.project_id}"


class ProjectAgreement(models.Model):
    """The project's agreement figures: how many production tasks have two or more
    annotations (``overlap_tasks``) and the sum and count of their non-null
    ``Task.agreement``. Kept from each task's old and new state by the single-annotation
    writes, recounted after bulk changes."""

    project = models.OneToOneField("projects.Project", on_delete=models.CASCADE, related_name="+")
    overlap_tasks = models.IntegerField(default=0)
    agreement_sum = models.FloatField(default=0)
    agreement_count = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.project_id}: {self.agreement_sum}/{self.agreement_count}"


class LeadTimeBucket(models.Model):
    """How many of an annotator's annotations in a project have a lead time in bucket
    ``bucket`` (``annotations.quality.LEAD_TIME_BOUNDS``: geometric, 5% wide). The report
    finds the bucket holding each annotator's middle lead time here, then reads the
    exact middle value(s) by a short index walk inside that bucket."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    bucket = models.SmallIntegerField()
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "user", "bucket"], name="leadtimebucket_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} bucket {self.bucket}: {self.count}"


class ResultLabel(models.Model):
    """One label, choice or class name of an annotation's or a prediction's result: the
    index the Data Manager's result filters read instead of the JSON (see
    ``annotations.result_index``, which writes it, and ``datamanager.sql.result_label_q``).

    A row is (``key``, ``value``): ``key`` is a key of a result item's ``value`` object
    (``choices``, ``labels``, ``rectanglelabels``, ``taxonomy``, ``text``...) and ``value``
    a string in its list (or, for nested lists such as taxonomy paths, one level down).
    Exactly one of ``annotation`` and ``prediction`` is set; the rows go with them by
    cascade. ``task`` and ``project`` are copies kept for bulk fills and deletes, without a
    foreign-key constraint or index (each would only slow the writes).
    """

    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    task = models.ForeignKey(
        "tasks.Task",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    annotation = models.ForeignKey(
        Annotation, null=True, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    prediction = models.ForeignKey(
        Prediction, null=True, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    key = models.CharField(max_length=64)
    value = models.CharField(max_length=255)

    class Meta:
        indexes = [
            # "this annotation (prediction) has the label": the probe inside the Data
            # Manager's EXISTS, and the cascade's DELETE by annotation (prediction)
            models.Index(fields=["annotation", "key", "value"], name="resultlabel_annotation"),
            models.Index(fields=["prediction", "key", "value"], name="resultlabel_prediction"),
            # "the project's tasks with the label": drives a filter from the label side
            models.Index(
                fields=["project", "key", "value", "task"],
                condition=models.Q(annotation__isnull=False),
                name="resultlabel_annotation_tasks",
            ),
            models.Index(
                fields=["project", "key", "value", "task"],
                condition=models.Q(prediction__isnull=False),
                name="resultlabel_prediction_tasks",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"
