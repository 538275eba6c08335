"""Writes for annotations, predictions and reviews, with the counters they move, and the
writes on tasks and projects whose effects reach those rows (creating and deleting tasks,
changing a project's overlap, deleting a project).

Each write locks its task row (``select_for_update``; on SQLite the IMMEDIATE
transaction does the same), applies its change to the task's counters and then moves
the project's counters with one F() UPDATE, so concurrent writers never lose a count.
"""

import copy
import dataclasses

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q, Subquery
from django.utils import timezone

from annotations import events, quality, selectors
from annotations.counters import (
    annotation_figures_add,
    annotation_figures_change,
    annotation_figures_remove,
    labeled_state_refresh,
    prediction_scores_refresh,
    project_counters_add,
    project_counters_refresh,
    task_agreement_refresh,
    task_counters_apply,
    tasks_counters_recount,
)
from annotations.ground_truth import ground_truth_check, ground_truth_set
from annotations.models import (
    AgreementPair,
    Annotation,
    AnnotationDraft,
    AnnotatorDay,
    AnnotatorPairTotal,
    AnnotatorTotal,
    LabelCount,
    LabelStreamVisit,
    LeadTimeBucket,
    Prediction,
    ProjectAgreement,
    Review,
    ReviewRecord,
)
from annotations.result_index import result_index_add, result_index_clear_sql, result_index_set
from labelhub import events as domain_events
from labelhub.errors import ApiError
from labelhub.media_files import project_media_delete
from labelhub.prepared import rows_insert
from projects import labels
from projects import services as project_services
from projects.label_config import ParsedConfig
from projects.models import Project
from projects.results import config_orphans_message, validate_result
from tasks.locks import lock_release
from tasks.models import Task, TaskLock
from tasks.services import task_data_check, task_data_keys_add


def _with_custom_labels(project: Project, parsed: ParsedConfig) -> ParsedConfig:
    """The config with the project's linked custom labels (``/api/labels``) added to
    its Taxonomy controls' paths, as Label Studio counts them (one query, only when the
    config has a Taxonomy)."""
    names = [n for n, c in parsed.controls.items() if c.get("type") == "Taxonomy"]
    if not names:
        return parsed
    custom = []
    for value in labels.project_label_values(project=project):
        if isinstance(value, str):
            custom.append([value])
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            custom.append(value)
    if not custom:
        return parsed
    controls = dict(parsed.controls)
    for name in names:
        controls[name] = {**controls[name], "paths": [*controls[name].get("paths", []), *custom]}
    return dataclasses.replace(parsed, controls=controls)


def result_check(*, project: Project, result) -> list[dict]:
    """Check a result list against the project's config (and its custom Taxonomy
    labels); errors as located dicts."""
    parsed = _with_custom_labels(project, ParsedConfig.from_dict(project.parsed_config))
    return [
        {"field": "result", "result_id": error.result_id, "message": error.problem}
        for error in validate_result(parsed, result)
    ]


EMPTY_REFUSED = "This project does not accept empty annotations: label something, or skip the task."


def _empty_check(*, project: Project, result, was_cancelled: bool) -> None:
    """The project's ``enable_empty_annotation`` (Label Studio's setting): when off, a
    submit (not a skip) with an empty result is a 400."""
    if not project.enable_empty_annotation and not was_cancelled and result == []:
        raise ApiError(
            EMPTY_REFUSED,
            [
                {
                    "field": "result",
                    "message": "empty",
                }
            ],
        )


def _result_or_400(*, project: Project, result) -> list:
    errors = result_check(project=project, result=result)
    if errors:
        first = errors[0]
        where = f"result {first['result_id']}: " if first.get("result_id") else ""
        raise ApiError(f"Invalid result: {where}{first['message']}", errors)
    return result


@transaction.atomic
def annotation_create(
    *,
    task: Task,
    user,
    result: list,
    was_cancelled: bool = False,
    ground_truth: bool = False,
    lead_time: float | None = None,
    parent_prediction: Prediction | None = None,
    parent_annotation: Annotation | None = None,
    draft: AnnotationDraft | None = None,
    once: bool = False,
) -> Annotation:
    """Submit (or, ``was_cancelled``, skip) a task. The author's draft of the task goes
    (and ``draft``, the one the editor names by ``draft_id``: a caller checks it is the
    user's, of this task), and the Label Stream history records the annotation.

    ``once`` (annotators): the user may hold one submitted annotation of the task; a
    second submit is a 400 (they update the one they have). Checked under the task's
    row lock, so two racing submits cannot both pass. On a Benchmark QA task this is what
    keeps its score to one per annotator; it holds for every task alike, so the answer
    does not tell a benchmark apart. A skip after a skip (the requeue) stays open."""
    project = task.project
    _empty_check(project=project, result=result, was_cancelled=was_cancelled)
    if not was_cancelled or result:
        _result_or_400(project=project, result=result)
    if ground_truth:
        ground_truth_check(is_benchmark=task.is_benchmark, was_cancelled=was_cancelled, value=True)
    with quality.task_figures_kept(task_id=task.pk):
        if (
            once
            and not was_cancelled
            and Annotation.objects.filter(
                task=task, completed_by=user, was_cancelled=False
            ).exists()
        ):
            message = "You have already submitted this task; update your annotation instead."
            raise ApiError(message, [{"field": "task", "message": "already submitted by you"}])
        annotation = _annotation_insert(
            task=task,
            user=user,
            result=result,
            was_cancelled=was_cancelled,
            lead_time=lead_time,
            parent_prediction=parent_prediction,
            parent_annotation=parent_annotation,
        )
    lock_release(task_id=task.pk, user=user)  # a submit or a skip ends the stream's lock
    _submitted(annotation=annotation, draft_id=draft.pk if draft is not None else None)
    _announce(events.ANNOTATION_CREATED, annotation)
    if ground_truth:  # after the annotation's own event, as an update orders them
        ground_truth_set(project=project, annotation_ids=[annotation.pk], value=True)
        annotation.ground_truth = True
    return annotation


def _submitted(*, annotation: Annotation, draft_id: int | None) -> None:
    """After a submit or a skip: the author's drafts of the task go (and ``draft_id``, the
    one the editor named), and the Label Stream history points at the annotation.
    ``AnnotationDraft.objects.filter(task, user, annotation=None).delete()`` and
    ``LabelStreamVisit.objects.filter(project, user, task).update(annotation=...)`` written
    out, as ``tasks.locks.lock_release`` is: nothing refers to a draft and no signal
    listens, so the ORM's delete is this one DELETE too, after a deletion collector; the
    querysets and the collector cost more than both statements (on every submit)."""
    quote = connection.ops.quote_name
    drafts, visits = AnnotationDraft._meta.db_table, LabelStreamVisit._meta.db_table
    mine = f"({quote('annotation_id')} IS NULL AND {quote('task_id')} = %s AND {quote('user_id')} = %s)"
    params: list = [annotation.task_id, annotation.completed_by_id]
    if draft_id is not None:
        mine += f" OR {quote('id')} = %s"
        params.append(draft_id)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {quote(drafts)} WHERE {mine}", params)
        cursor.execute(
            f"UPDATE {quote(visits)} SET {quote('annotation_id')} = %s WHERE "
            f"{quote('project_id')} = %s AND {quote('task_id')} = %s AND {quote('user_id')} = %s",
            [annotation.pk, annotation.project_id, annotation.task_id, annotation.completed_by_id],
        )


# annotations.events (ML backends) action -> labelhub.events (webhooks) action
_DOMAIN_ACTIONS = {
    events.ANNOTATION_CREATED: domain_events.ANNOTATION_CREATED,
    events.ANNOTATION_UPDATED: domain_events.ANNOTATION_UPDATED,
    events.ANNOTATION_DELETED: domain_events.ANNOTATIONS_DELETED,
}


def _announce(action: str, annotation: Annotation, annotation_id: int | None = None) -> None:
    annotation_id = annotation_id or annotation.pk
    events.announce(
        action,
        project_id=annotation.project_id,
        annotation_id=annotation_id,
        task_id=annotation.task_id,
    )
    domain_events.publish(
        _DOMAIN_ACTIONS[action], project_id=annotation.project_id, ids=[annotation_id]
    )


def _annotation_insert(
    *, task: Task, user, result, was_cancelled, lead_time, **parents
) -> Annotation:
    """Insert an annotation, not ground truth (``ground_truth_set`` marks it after)."""
    project = task.project
    annotation = Annotation(
        task=task,
        project=project,
        completed_by=user,
        result=result,
        was_cancelled=was_cancelled,
        lead_time=lead_time,
        **parents,
    )
    rows_insert([annotation], returning=True)  # Annotation.objects.create, written out
    locked = task_counters_apply(
        task_id=task.pk,
        annotations=0 if was_cancelled else 1,
        cancelled=1 if was_cancelled else 0,
    )
    result_index_add(annotation=annotation)
    annotation_figures_add(annotation=annotation, task=locked)
    return annotation


ANNOTATION_FIELDS = {"result", "was_cancelled", "ground_truth", "lead_time"}


@transaction.atomic
def annotation_update(*, annotation: Annotation, **fields) -> Annotation:
    unknown = set(fields) - ANNOTATION_FIELDS
    if unknown:
        raise ApiError(f"Unknown annotation fields: {', '.join(sorted(unknown))}")
    annotation = Annotation.objects.select_for_update().get(pk=annotation.pk)
    mark = fields.pop("ground_truth", annotation.ground_truth)
    if mark != annotation.ground_truth:
        # The rule of annotations.ground_truth: a benchmark copy's gold answer is its
        # benchmark project's, an answer to a benchmark never becomes gold, a skip is
        # never gold.
        ground_truth_check(
            is_benchmark=Task.objects.filter(pk=annotation.task_id, is_benchmark=True).exists(),
            was_cancelled=fields.get("was_cancelled", annotation.was_cancelled),
            value=mark,
        )
    if "result" in fields:
        _result_or_400(project=annotation.project, result=fields["result"])
    if "result" in fields or "was_cancelled" in fields:
        _empty_check(
            project=annotation.project,
            result=fields.get("result", annotation.result),
            was_cancelled=fields.get("was_cancelled", annotation.was_cancelled),
        )
    if fields or mark == annotation.ground_truth:
        with quality.task_figures_kept(task_id=annotation.task_id):
            annotation = _annotation_change(annotation=annotation, fields=fields)
    _announce(events.ANNOTATION_UPDATED, annotation)
    if mark != annotation.ground_truth:  # its event follows the annotation's own
        ground_truth_set(project=annotation.project, annotation_ids=[annotation.pk], value=mark)
        annotation.refresh_from_db(fields=["ground_truth", "updated_at"])
    return annotation


def _annotation_change(*, annotation: Annotation, fields: dict) -> Annotation:
    """Change an annotation's result, skip and lead time (``ground_truth`` is
    ``ground_truth_set``'s) and move what counts them."""
    was_cancelled = annotation.was_cancelled
    before = copy.copy(annotation)
    for name, value in fields.items():
        setattr(annotation, name, value)
    annotation.updated_at = timezone.now()
    annotation.save(update_fields=[*fields, "updated_at"])
    annotation_figures_change(before=before, annotation=annotation)
    if "result" in fields:
        result_index_set(annotation=annotation)
        # Rework: the annotator's fix clears the rejection; the annotation goes back to
        # the Verify Stream.
        rejected, _ = Review.objects.filter(annotation=annotation, accepted=False).delete()
        if rejected:
            review_records_reworked(annotation=annotation)
        quality.review_totals_apply(annotation=annotation, rejected=-rejected)
        # A new result supersedes every draft of the old one (Label Studio's rule).
        AnnotationDraft.objects.filter(annotation=annotation).delete()
    cancelled_delta = int(annotation.was_cancelled) - int(was_cancelled)
    if cancelled_delta:
        task_counters_apply(
            task_id=annotation.task_id, annotations=-cancelled_delta, cancelled=cancelled_delta
        )
    return annotation


@transaction.atomic
def annotation_delete(*, annotation: Annotation) -> None:
    task_id, cancelled, gt = annotation.task_id, annotation.was_cancelled, annotation.ground_truth
    annotation_id = annotation.pk
    with quality.task_figures_kept(task_id=task_id):
        annotation_figures_remove(annotation=annotation)
        verdicts = annotation.reviews.aggregate(
            n_accepted=Count("id", filter=Q(accepted=True)),
            n_rejected=Count("id", filter=Q(accepted=False)),
        )
        quality.review_totals_apply(
            annotation=annotation,
            accepted=-verdicts["n_accepted"],
            rejected=-verdicts["n_rejected"],
        )
        annotation.delete()
        task_counters_apply(
            task_id=task_id,
            annotations=0 if cancelled else -1,
            cancelled=-1 if cancelled else 0,
            ground_truth=-1 if gt else 0,
        )
        if not cancelled:
            task_agreement_refresh(task_id=task_id)
    _announce(events.ANNOTATION_DELETED, annotation, annotation_id)


def _score(score) -> float | None:
    if score is None:
        return None
    if isinstance(score, bool) or not isinstance(score, (int, float)):
        raise ApiError("score must be a number", [{"field": "score", "message": "not a number"}])
    return float(score)


@transaction.atomic
def prediction_create(
    *, task: Task, result: list, score: float | None = None, model_version: str = ""
) -> Prediction:
    _result_or_400(project=task.project, result=result)
    prediction = Prediction.objects.create(
        task=task,
        project_id=task.project_id,
        result=result,
        score=_score(score),
        model_version=str(model_version or ""),
    )
    task_counters_apply(task_id=task.pk, predictions=1)
    prediction_scores_refresh(task_ids=[task.pk])
    result_index_add(prediction=prediction)
    return prediction


@transaction.atomic
def prediction_update(*, prediction: Prediction, **fields) -> Prediction:
    unknown = set(fields) - {"result", "score", "model_version"}
    if unknown:
        raise ApiError(f"Unknown prediction fields: {', '.join(sorted(unknown))}")
    if "result" in fields:
        _result_or_400(project=prediction.project, result=fields["result"])
    if "score" in fields:
        fields["score"] = _score(fields["score"])
    for name, value in fields.items():
        setattr(prediction, name, value)
    prediction.updated_at = timezone.now()
    prediction.save(update_fields=[*fields, "updated_at"])
    if "score" in fields:
        prediction_scores_refresh(task_ids=[prediction.task_id])
    if "result" in fields:
        result_index_set(prediction=prediction)
    return prediction


@transaction.atomic
def prediction_delete(*, prediction: Prediction) -> None:
    task_id = prediction.task_id
    prediction.delete()
    task_counters_apply(task_id=task_id, predictions=-1)
    prediction_scores_refresh(task_ids=[task_id])


@transaction.atomic
def predictions_delete_version(*, project: Project, version: str) -> int:
    """Delete every prediction of ``version`` in the project, then recount the tasks that
    had one (counters, mean scores, result index, project counters). Returns how many."""
    rows = Prediction.objects.filter(project=project, model_version=version)
    task_ids = sorted(set(rows.values_list("task_id", flat=True)))
    deleted = rows.delete()[1].get(Prediction._meta.label, 0)
    if task_ids:
        tasks_counters_recount(project=project, task_ids=task_ids)
    return deleted


@transaction.atomic
def review_set(*, annotation: Annotation, reviewer, accepted: bool, comment: str = "") -> Review:
    """Record a reviewer's verdict and comment; reviewing again replaces the earlier one.
    A rejection sends the annotation back to its annotator (the Label Stream serves it
    first, with the comment) until they update it. The author's review counts move in
    the same transaction."""
    earlier = (
        Review.objects.select_for_update()
        .filter(annotation=annotation, reviewer=reviewer)
        .values_list("accepted", flat=True)
        .first()
    )
    review, created = Review.objects.update_or_create(
        annotation=annotation,
        reviewer=reviewer,
        defaults={
            "accepted": bool(accepted),
            "comment": str(comment or ""),
            "updated_at": timezone.now(),
        },
    )
    ReviewRecord.objects.create(
        annotation=annotation,
        reviewer=reviewer,
        accepted=bool(accepted),
        comment=str(comment or ""),
        created_at=review.updated_at,
    )
    delta = {True: 0, False: 0}
    delta[bool(accepted)] += 1
    if earlier is not None:
        delta[earlier] -= 1
    quality.review_totals_apply(annotation=annotation, accepted=delta[True], rejected=delta[False])
    if created:
        domain_events.publish(
            domain_events.REVIEW_CREATED, project_id=annotation.project_id, ids=[review.pk]
        )
    return review


def review_records_reworked(*, annotation: Annotation) -> int:
    """Mark the open rejections of ``annotation`` in the review history as answered by
    its author's update (the current ``Review`` rows go; the history keeps them)."""
    return ReviewRecord.objects.filter(
        annotation=annotation, accepted=False, reworked_at__isnull=True
    ).update(reworked_at=timezone.now())


@transaction.atomic
def task_create(*, project: Project, data: dict, meta: dict | None = None) -> Task:
    task_data_check(project=project, data=data, meta=meta)
    task = Task.objects.create(project=project, data=data, meta=meta or {})
    project_counters_add(project_id=project.pk, tasks=1)
    task_data_keys_add(project_id=project.pk, keys=data)
    domain_events.publish(domain_events.TASKS_CREATED, project_id=project.pk, ids=[task.pk])
    return task


@transaction.atomic
def tasks_delete(*, project: Project, task_ids) -> int:
    """Delete tasks (with their annotations and predictions), after taking them out of
    the project's quality figures, and recount the project's counters."""
    task_ids = list(
        Task.objects.filter(project=project, pk__in=task_ids).values_list("pk", flat=True)
    )
    quality.tasks_figures_remove(project=project, task_ids=task_ids)
    deleted = Task.objects.filter(project=project, pk__in=task_ids).delete()[1].get("tasks.Task", 0)
    project_counters_refresh(project_id=project.pk)
    domain_events.publish(domain_events.TASKS_DELETED, project_id=project.pk, ids=task_ids)
    return deleted


def label_config_orphans_check(
    *, project: Project, label_config: str, strict: bool = True, form: bool = False
) -> None:
    """A 400 listing what stored annotations, drafts and predictions would lose their
    control (with how many of each) if the project's config became ``label_config``, as
    Label Studio refuses such a change: ``detail`` is Label Studio's "Validation error",
    ``validation_errors`` holds its message (under ``label_config``, and for ``form``
    answers, ``/validate``'s, also ``non_field_errors``) and ``errors`` one item per
    control or label.

    ``strict=False`` is Label Studio's PATCH: only a lost control, target or result type
    is refused; labels removed from a control that results still use are let through
    (Label Studio logs them). ``/validate`` and the settings page are strict."""
    orphans = selectors.label_config_orphans(project=project, label_config=label_config)
    if not strict:
        orphans = [o for o in orphans if o["reason"] != "label"]
    if orphans:
        message = config_orphans_message(orphans)
        validation_errors = {"label_config": [message]}
        if form:
            validation_errors["non_field_errors"] = [message]
        raise ApiError(
            "Validation error",
            [{"field": "label_config", **orphan} for orphan in orphans],
            validation_errors=validation_errors,
        )


@transaction.atomic
def project_update(*, project: Project, strict: bool = True, **fields) -> Project:
    """The project update every page and endpoint calls: ``projects.services.
    project_update`` (the project's own fields and checks; only ``projects`` and the
    Label Studio migration call it directly), plus what it cannot see from below: a new
    config checked against the stored annotations, and when the overlap (or whether
    skips count toward it) changes, ``is_labeled`` recomputed at once (so task lists and
    the Data Manager are right at once, not at the next hand-out)."""
    overlap = (project.maximum_annotations, project.skip_queue)
    if "label_config" in fields:
        label_config_orphans_check(
            project=project, label_config=fields["label_config"], strict=strict
        )
    project = project_services.project_update(project=project, **fields)
    if (project.maximum_annotations, project.skip_queue) != overlap:
        labeled_state_refresh(project=project)
    return project


def _project_rows_delete(*, project_id: int) -> None:
    """One DELETE statement per big per-task table, children first, no rows loaded."""
    review, annotation = Review._meta.db_table, Annotation._meta.db_table
    task, lock = Task._meta.db_table, TaskLock._meta.db_table
    quality_tables = [
        model._meta.db_table
        for model in (
            AnnotationDraft,
            LabelStreamVisit,
            AgreementPair,
            LabelCount,
            AnnotatorDay,
            AnnotatorPairTotal,
            AnnotatorTotal,
            LeadTimeBucket,
            ProjectAgreement,
        )
    ]
    statements = [
        # Benchmark copies in other projects point at this project's tasks.
        f"UPDATE {task} SET benchmark_source_id = NULL WHERE project_id <> %s AND "
        f"benchmark_source_id IN (SELECT id FROM {task} WHERE project_id = %s)",
        *(f"DELETE FROM {table} WHERE project_id = %s" for table in quality_tables),
        *result_index_clear_sql(),
        f"DELETE FROM {review} WHERE annotation_id IN "
        f"(SELECT id FROM {annotation} WHERE project_id = %s)",
        f"DELETE FROM {ReviewRecord._meta.db_table} WHERE annotation_id IN "
        f"(SELECT id FROM {annotation} WHERE project_id = %s)",
        f"DELETE FROM {annotation} WHERE project_id = %s",
        f"DELETE FROM {Prediction._meta.db_table} WHERE project_id = %s",
        f"DELETE FROM {lock} WHERE task_id IN (SELECT id FROM {task} WHERE project_id = %s)",
        f"DELETE FROM {task} WHERE project_id = %s",
    ]
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql, [project_id] * sql.count("%s"))


@transaction.atomic
def project_tasks_delete_all(*, project: Project) -> int:
    """Delete every task of the project (with annotations, predictions, reviews, locks
    and quality figures) by one DELETE per table, as ``project_delete`` does, keeping
    the project, its members and settings. The counters and the seen data keys start
    again from zero. Returns how many tasks went."""
    count = Task.objects.filter(project=project).count()
    _project_rows_delete(project_id=project.pk)
    project_counters_refresh(project_id=project.pk)
    Project.objects.filter(pk=project.pk).update(task_data_keys=[])
    return count


@transaction.atomic
def project_delete(*, project: Project) -> None:
    """Delete a project and everything in it.

    Django's cascading ``delete()`` collects every related row into memory first; for a
    project of a million tasks that held gigabytes in the web worker. The per-task
    tables (reviews, annotations, predictions, task locks, tasks) go instead by one
    DELETE statement each, then the cascade handles the few remaining rows (members,
    saved views, import jobs, storages). It lives here, in the lowest app that sees all
    of those tables. After the commit its media files go too
    (``labelhub.media_files.project_media_delete``).
    """
    project_id = project.pk
    _project_rows_delete(project_id=project_id)
    project.delete()
    # Its uploaded media and export snapshots, once the rows are surely gone.
    transaction.on_commit(lambda: project_media_delete(project_id=project_id))
    domain_events.publish(domain_events.PROJECT_DELETED, project_id=project_id, ids=[project_id])


# --------------------------------------------------------------------- drafts


def _draft_result(result) -> list:
    """A draft's result is kept as the editor sends it, unchecked against the config
    (work in progress may be incomplete), but it must be a list of result items."""
    if not isinstance(result, list) or not all(isinstance(item, dict) for item in result):
        raise ApiError(
            "A draft's result must be a list of result objects",
            [{"field": "result", "message": "not a list of objects"}],
        )
    return result


DRAFT_FIELDS = {"result", "lead_time", "was_postponed", "import_id"}


@transaction.atomic
def draft_save(
    *, task: Task, user, annotation: Annotation | None = None, **fields
) -> AnnotationDraft:
    """Create the user's draft of ``task`` (or of ``annotation``, one of the task's), or
    update it when they have one: one draft per user and task (per user and
    annotation), so the editor's periodic saves never pile up rows. Two saves racing
    for the first insert meet the unique constraint; the loser updates the winner's."""
    unknown = set(fields) - DRAFT_FIELDS
    if unknown:
        raise ApiError(f"Unknown draft fields: {', '.join(sorted(unknown))}")
    fields["result"] = _draft_result(fields.get("result", []))
    rows = AnnotationDraft.objects.filter(task=task, user=user, annotation=annotation)
    draft = rows.select_for_update().first()
    if draft is None:
        try:
            with transaction.atomic():
                return AnnotationDraft.objects.create(
                    task=task,
                    project_id=task.project_id,
                    user=user,
                    annotation=annotation,
                    **fields,
                )
        except IntegrityError:
            draft = rows.select_for_update().get()
    fields.pop("import_id", None)  # the import's id stays the first one
    return draft_update(draft=draft, **fields)


@transaction.atomic
def draft_update(*, draft: AnnotationDraft, **fields) -> AnnotationDraft:
    unknown = set(fields) - DRAFT_FIELDS
    if unknown:
        raise ApiError(f"Unknown draft fields: {', '.join(sorted(unknown))}")
    if "result" in fields:
        _draft_result(fields["result"])
    for name, value in fields.items():
        setattr(draft, name, value)
    draft.updated_at = timezone.now()
    draft.save(update_fields=[*fields, "updated_at"])
    return draft


def draft_delete(*, draft: AnnotationDraft) -> None:
    draft.delete()


@transaction.atomic
def annotation_to_draft(*, annotation: Annotation, user) -> AnnotationDraft:
    """Label Studio's convert-to-draft: the annotation's result becomes ``user``'s
    draft of its task and the annotation is deleted (with its counters and figures)."""
    draft = draft_save(
        task=annotation.task,
        user=user,
        result=annotation.result if isinstance(annotation.result, list) else [],
        lead_time=annotation.lead_time,
    )
    annotation_delete(annotation=annotation)
    return draft


# ------------------------------------------------------------ Label Stream history


def stream_visit_record(*, project: Project, user, task: Task) -> None:
    """Add a task handed out by the Label Stream to the user's history (once per task),
    keeping the newest ``LABEL_STREAM_HISTORY_LIMIT``: an INSERT that skips a task
    already there (the unique constraint) and a look past the limit."""
    LabelStreamVisit.objects.bulk_create(
        [LabelStreamVisit(project=project, user=user, task=task)], ignore_conflicts=True
    )
    limit = settings.LABEL_STREAM_HISTORY_LIMIT
    visits = LabelStreamVisit.objects.filter(project=project, user=user)
    # one DELETE (nothing refers to a visit, so Django deletes without loading rows)
    visits.filter(id__lte=Subquery(visits.order_by("-id").values("id")[limit : limit + 1])).delete()
