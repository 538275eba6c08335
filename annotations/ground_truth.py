"""The one owner of ground-truth marks: ``ground_truth_set`` marks and unmarks, for the
Data Manager's mark and unmark actions, the Ground Truth Manager's sample and reset, and
a single annotation's ``ground_truth`` on create and update (``annotations.services``,
which refuse what it would leave unmarked with a 400 first: ``ground_truth_check``).

- **Benchmark QA tasks are never touched.** A benchmark copy's gold answer is its
  benchmark project's ground truth, copied in by linking; resetting or unmarking the
  production project's ground truth must not clear it (Benchmark QA would stop scoring),
  and marking must not make an annotator's benchmark answer gold. Change the gold in the
  benchmark project and link again.
- **Cancelled completions are never marked.**
- **One counter rule.** The project's ``ground_truth_number`` moves by the exact number
  of rows whose flag changed (the rows are locked, then updated by id; one F() UPDATE),
  as a single annotation's create, update and delete move it (``counters``), instead of
  a recount here, a reset to 0 there.
- The quality totals that read the flag (ground-truth accuracy) are recounted once, and
  ``GROUND_TRUTH_CHANGED`` names the annotations whose flag changed.

Deleting a ground-truth annotation moves ``ground_truth_number`` by -1 with its other
counters (``counters.task_counters_apply``): that is a delete, not an unmark.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from annotations.counters import project_counters_add
from annotations.models import Annotation
from annotations.quality import quality_totals_recount
from labelhub import events
from labelhub.errors import ApiError
from projects.models import Project

BATCH = 1000


def ground_truth_check(*, is_benchmark: bool, was_cancelled: bool, value: bool) -> None:
    """The 400 a single annotation's change gets where ``ground_truth_set`` would leave
    it as it is (the bulk paths skip those rows instead): a Benchmark QA task's
    annotations, and marking a skip."""
    if is_benchmark:
        message = "A Benchmark QA task's gold answer is set in its benchmark project."
        raise ApiError(message, [{"field": "ground_truth", "message": message}])
    if value and was_cancelled:
        message = "A skipped (cancelled) annotation cannot be ground truth."
        raise ApiError(message, [{"field": "ground_truth", "message": message}])


@transaction.atomic
def ground_truth_set(*, project: Project, annotation_ids: Iterable[int], value: bool) -> list[int]:
    """Set the ground-truth flag of these annotations of ``project`` to ``value``; returns
    the ids whose flag changed (annotations of benchmark tasks, of other projects, and
    cancelled ones when marking, are left as they are)."""
    wanted = list(dict.fromkeys(annotation_ids))
    changed: list[int] = []
    now = timezone.now()
    for start in range(0, len(wanted), BATCH):
        rows = Annotation.objects.filter(
            pk__in=wanted[start : start + BATCH],
            project=project,
            task__is_benchmark=False,
            ground_truth=not value,
        )
        if value:
            rows = rows.filter(was_cancelled=False)
        ids = list(rows.order_by("pk").select_for_update(of=("self",)).values_list("pk", flat=True))
        if ids:
            Annotation.objects.filter(pk__in=ids).update(ground_truth=value, updated_at=now)
            changed.extend(ids)
    if changed:
        project_counters_add(
            project_id=project.pk, ground_truth=len(changed) if value else -len(changed)
        )
        quality_totals_recount(project=project, lead_times=False)
        events.publish(events.GROUND_TRUTH_CHANGED, project_id=project.pk, ids=changed)
    return changed


def ground_truth_clear(*, project: Project) -> list[int]:
    """Unmark every ground-truth annotation of the project (benchmark copies' gold kept)."""
    marked = Annotation.objects.filter(
        project=project, ground_truth=True, task__is_benchmark=False
    ).values_list("pk", flat=True)
    return ground_truth_set(project=project, annotation_ids=list(marked), value=False)
