"""The Label Stream: which task a user labels next.

Eligibility. A task is offered to a user while

- it has fewer than ``project.maximum_annotations`` non-cancelled annotations plus live
  locks held by other users, and
- the user has not annotated or skipped it (a skip is a cancelled annotation).

Skips follow the project's ``skip_queue`` (Label Studio's): REQUEUE_FOR_OTHERS (the
default) hands a skipped task to others but not back to its skipper; REQUEUE_FOR_ME hands
the skipper their skipped tasks again once nothing else is left, oldest skip first;
IGNORE_SKIPPED counts a skip toward the overlap like an annotation
(``annotations.counters.skips_count``).

Locks (``tasks.locks``). The task handed out is locked for the user for the lock TTL.
Asking again returns the same task while the lock lives; submitting or skipping
releases it.

Concurrency. ``next_task`` runs in one transaction:

1. the candidate is read with ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
   concurrent callers step over a task another caller is taking instead of queueing
   behind it;
2. holding that row lock, it checks the task again in a new statement. Under READ
   COMMITTED a new statement sees every transaction that held the row lock before us
   (they all committed to release it), including task locks they created, which the
   first statement's snapshot may have missed. Every writer that changes a task's
   eligibility holds the same row lock: ``next_task`` here and
   ``annotations.services.annotation_create`` (which also releases the lock);
3. it creates the task lock and commits.

On SQLite, ``transaction_mode=IMMEDIATE`` makes every transaction take the database
write lock at BEGIN, so the whole read-check-lock sequence runs alone; ``FOR UPDATE`` is
ignored there and the same code stays correct.
"""

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, QuerySet, Subquery, Value
from django.utils import timezone

from annotations import benchmarks, selectors, services, visibility
from annotations.counters import done_count, labeled_state_refresh, skips_count
from annotations.models import Annotation, AnnotationDraft, Prediction
from annotations.representations import draft_dict, task_with_annotations_dict
from annotations.sampling import sampler_for
from labelhub.prepared import Markers, Prepared
from projects.models import Project
from tasks import locks
from tasks.models import Task

# Candidates a caller steps over (taken by someone else between the two statements)
# before giving up on a pass; each costs two index probes.
MAX_RETRIES_PER_PASS = 50


def eligible_tasks(
    *, project: Project, user, now, base: QuerySet | None = None, requeued: bool = False
) -> QuerySet:
    """Tasks of the project that ``user`` may be handed now (see the module docstring).

    ``is_labeled=False`` leads so that the (project, is_labeled, ...) indexes skip the
    finished tasks; the overlap check itself reads the counters and live locks.

    "Not annotated by the user" is a scalar subquery (``(SELECT id ... LIMIT 1) IS
    NULL``), not ``NOT EXISTS``: PostgreSQL turns a NOT EXISTS into an anti-join that
    reads all of the user's annotations (in every project) on each call, which grows
    with the user's day; the scalar form stays one probe of the (task, completed_by)
    index per candidate looked at.

    ``base``: the tasks to choose from, with their order (``next_task``'s
    ``candidates``); all of the project's by default. ``requeued``: instead of the tasks
    the user has not touched, those they skipped and did not annotate since
    (REQUEUE_FOR_ME).
    """
    done_by_user = Annotation.objects.filter(task=OuterRef("pk"), completed_by=user).values("pk")[
        :1
    ]
    tasks = (
        (Task.objects.all() if base is None else base)
        .filter(project=project, is_labeled=False)
        .alias(
            others_locks=locks.live_locks_by_others(user=user, now=now),
            done=done_count(skips=skips_count(project)),
        )
        .filter(
            done__lt=Value(project.maximum_annotations) + F("overlap_extra") - F("others_locks")
        )
    )
    if requeued:
        mine = Annotation.objects.filter(task=OuterRef("pk"), completed_by=user)
        return tasks.filter(Exists(mine.filter(was_cancelled=True))).exclude(
            Exists(mine.filter(was_cancelled=False))
        )
    return tasks.alias(done_by_user=Subquery(done_by_user)).filter(done_by_user__isnull=True)


def _stand_in(m: Markers, skips: bool) -> Project:
    """A project for a prepared query's builder: markers for its id and overlap."""
    skip_queue = Project.SkipQueue.IGNORE_SKIPPED if skips else Project.SkipQueue.REQUEUE_FOR_OTHERS
    return Project(pk=m.int("project"), maximum_annotations=m.int("maximum"), skip_queue=skip_queue)


# ``eligible_tasks(...).filter(pk=task).first()``, compiled once (labelhub.prepared): the
# check of the task a user holds, asked on every next-task call that resumes one.
_ELIGIBLE_ONE = Prepared(
    lambda m, skips: (
        eligible_tasks(project=_stand_in(m, skips), user=m.int("user"), now=m.datetime("now"))
        .filter(pk=m.int("task"))
        .order_by("pk")[:1]
    )
)
_OWN_DRAFTS = Prepared(
    lambda m: AnnotationDraft.objects.filter(
        project_id=m.int("project"), user_id=m.int("user"), annotation=None
    ).order_by("id")
)


def _eligible_one(*, project: Project, user, now, task_id: int) -> Task | None:
    return _ELIGIBLE_ONE.first(
        (skips_count(project),),
        project=project.pk,
        maximum=project.maximum_annotations,
        user=user.pk,
        now=now,
        task=task_id,
    )


def _take(*, queryset: QuerySet, eligible: QuerySet, user, now) -> Task | None:
    """Lock the first task of an ordered queryset that is still eligible."""
    passed: list[int] = []
    for _ in range(MAX_RETRIES_PER_PASS):
        candidates = queryset.exclude(pk__in=passed) if passed else queryset
        pk = (
            candidates.select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)
            .first()
        )
        if pk is None:
            return None
        task = eligible.filter(pk=pk).first()  # a new statement: see the module docstring
        if task is not None:
            locks.lock_take(task=task, user=user, now=now)
            return task
        passed.append(pk)
    return None


def _labeled_state_ensure(project: Project) -> int:
    """``labeled_state_refresh`` once per process and overlap value: only a change of
    ``maximum_annotations`` makes the flags stale (the annotation services and imports
    keep them), and a finished project should not rescan its tasks on every request."""
    key = f"labelhub:labeled:{project.pk}:{project.created_at.timestamp()}"
    overlap = f"{project.maximum_annotations}:{project.skip_queue}"
    if cache.get(key) == overlap:
        return 0
    changed = labeled_state_refresh(project=project)
    transaction.on_commit(lambda: cache.set(key, overlap, None))
    return changed


@transaction.atomic
def next_task(
    *, project: Project, user, candidates: QuerySet | None = None, resume: bool = True
) -> Task | None:
    """Hand ``user`` the next task of ``project`` and lock it for them, or None when
    nothing is left for them. The same task comes back while their lock lives.

    Drafts: a task the user left a draft on (the editor saves one as they label) comes
    back before any other once their lock is gone, so work left in a closed tab is
    finished rather than orphaned; a task whose draft they postponed
    (``was_postponed``) comes only when nothing else is left, as in Label Studio.
    Each task handed out joins the user's Label Stream history.

    ``candidates``: an ordered queryset of the project's tasks to label in that order
    instead of the project's sampling ("label tasks as displayed": the Data Manager
    builds it from its filters and ordering; this app does not know them). The same
    eligibility, overlap and locks apply; rework and Benchmark QA hand-outs do not (the
    user asked for these tasks in this order). ``resume=False`` (with ``candidates``):
    the first of them, even while the user's lock on another lives (Label Studio's Data
    Manager queue: "the lock does not change the sequence"); that lock is then dropped.

    On PostgreSQL the transaction commits without waiting for its WAL flush
    (``synchronous_commit off``): it writes only soft state, task locks and flags derived
    from other rows (a crash that loses the newest lock hands that task out again, as its
    expiry would; the derived flags are recomputed by the next process).
    The flush was the largest single cost of a hand-out on a busy disk.
    """
    task, held = _next_task(project=project, user=user, candidates=candidates, resume=resume)
    if task is not None and not held:  # a held task joined the history when handed out
        services.stream_visit_record(project=project, user=user, task=task)
    return task


def _next_task(
    *, project: Project, user, candidates: QuerySet | None, resume: bool
) -> tuple[Task | None, bool]:
    """``next_task``'s choice, and whether it is the task the user already held."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
    if candidates is None:
        # Before the sampler (annotations.benchmarks): the caller's rejected work, then a
        # Benchmark QA task when the project's rules say this hand-out is one.
        rework = benchmarks.rework_next(project=project, user=user)
        if rework is not None:
            task = rework.task
            task.rework_annotation = rework  # stream_task_dict nests it without a new query
            return task, False
        # Asked only when benchmarks are on: benchmark_next's own transaction is a
        # SAVEPOINT and a RELEASE, two statements of every hand-out otherwise.
        benchmark = (
            benchmarks.benchmark_next(project=project, user=user)
            if benchmarks.benchmarks_enabled(project)
            else None
        )
        if benchmark is not None:
            return benchmark, False
    now = timezone.now()
    # The user's drafts of tasks in this project (a few rows, one probe of their index):
    # they order the hand-out, and the one of the task handed out goes in its answer
    # (``stream_task_dict``) without another query.
    drafts = _OWN_DRAFTS.run(project=project.pk, user=user.pk)

    def found(task: Task, held: bool) -> tuple[Task, bool]:
        task.stream_drafts = [draft for draft in drafts if draft.task_id == task.pk]
        return task, held

    held = locks.lock_of_user(project=project, user=user, now=now)
    if held is not None and (resume or candidates is None):
        if candidates is None:
            task = _eligible_one(project=project, user=user, now=now, task_id=held.task_id)
        else:
            mine = eligible_tasks(project=project, user=user, now=now).filter(pk=held.task_id)
            task = mine.filter(pk__in=candidates.values("pk")).first()
        if task is not None:
            locks.lock_extend(lock=held, now=now)
            return found(task, True)
    # Built only past the held task (most calls resume it): building is most of its cost.
    eligible = eligible_tasks(project=project, user=user, now=now)
    drafted: dict[bool, list[int]] = {False: [], True: []}
    for draft in drafts:
        drafted[draft.was_postponed].append(draft.task_id)
    open_pool = eligible.exclude(pk__in=drafted[True]) if drafted[True] else eligible
    if drafted[False] and candidates is None:
        task = _take(
            queryset=open_pool.filter(pk__in=drafted[False]).order_by("pk"),
            eligible=eligible,
            user=user,
            now=now,
        )
        if task is not None:
            return found(task, False)
    for attempt in range(2):
        if candidates is None:
            passes = sampler_for(project)(project=project, candidates=open_pool)
        else:
            passes = [eligible_tasks(project=project, user=user, now=now, base=candidates)]
            if drafted[True]:
                passes = [passes[0].exclude(pk__in=drafted[True])]
        if drafted[True]:
            passes = [*passes, eligible.filter(pk__in=drafted[True]).order_by("pk")]
        for queryset in passes:
            task = _take(queryset=queryset, eligible=eligible, user=user, now=now)
            if task is not None:
                return found(task, False)
        # Nothing left. If the overlap was raised since tasks were marked labeled, some
        # are open again: fix the flags (once per overlap value) and look again.
        if attempt == 0 and not _labeled_state_ensure(project):
            break
    if project.skip_queue == Project.SkipQueue.REQUEUE_FOR_ME:
        task = _requeued_take(project=project, user=user, now=now, candidates=candidates)
        if task is not None:
            return found(task, False)
    locks.locks_release_for_user(project_id=project.pk, user=user)
    return None, False


def _requeued_take(*, project: Project, user, now, candidates: QuerySet | None) -> Task | None:
    """REQUEUE_FOR_ME, once nothing else is left: the user's skipped tasks again, the
    oldest skip first (or in ``candidates``' order)."""
    eligible = eligible_tasks(project=project, user=user, now=now, requeued=True)
    if candidates is not None:
        queryset = eligible_tasks(
            project=project, user=user, now=now, base=candidates, requeued=True
        )
    else:
        skipped_at = Annotation.objects.filter(
            task=OuterRef("pk"), completed_by=user, was_cancelled=True
        ).order_by("updated_at")
        queryset = eligible.alias(skipped_at=Subquery(skipped_at.values("updated_at")[:1]))
        queryset = queryset.order_by("skipped_at", "pk")
    return _take(queryset=queryset, eligible=eligible, user=user, now=now)


def _predictions(m: Markers, one_version: bool) -> QuerySet:
    rows = Prediction.objects.filter(task_id=m.int("task"))
    if one_version:
        rows = rows.filter(model_version=m.str("version"))
    return rows.order_by(F("score").desc(nulls_last=True), "-id")


_PREDICTIONS = Prepared(_predictions)


def stream_task_dict(*, task: Task, project: Project, user=None) -> dict:
    """The next-task answer, shaped like Label Studio's: the task with its predictions
    (best first: the editor starts a new annotation from the first one) when the
    project shows predictions to annotators, and no annotations (the user has none).

    Rework: when ``user``'s own annotation of the task was rejected, it comes nested
    (with its reviews) and ``rework`` names it with the reviewers' comments; the editor
    updates that annotation instead of adding one.

    ``project.model_version``, as in Label Studio, picks the model whose predictions
    pre-fill the editor; empty means every model's."""
    predictions = []
    if project.show_predictions_to_annotators:
        predictions = _PREDICTIONS.run(
            (bool(project.model_version),), task=task.pk, version=project.model_version
        )
    rework = getattr(task, "rework_annotation", None) if user is not None else None
    if rework is not None and (rework.task_id != task.pk or rework.completed_by_id != user.pk):
        rework = None
    body = task_with_annotations_dict(
        task, annotations=[rework] if rework else [], predictions=predictions
    )
    if user is not None:
        # Label Studio's ``drafts``: the user's own, which the editor puts back (read
        # with the hand-out's draft lookup when ``next_task`` did one).
        drafts = getattr(task, "stream_drafts", None)
        if drafts is None:
            drafts = selectors.own_drafts(task=task, user=user)
        for draft in drafts:
            draft.user = user
        body["drafts"] = [draft_dict(d) for d in drafts]
    if rework is not None:
        body["rework"] = {"annotation": rework.pk, "reviews": benchmarks.rework_reviews(rework)}
    return visibility.task_shown(body=body, task=task, user=user, project=project)
