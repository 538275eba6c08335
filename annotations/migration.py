"""The drafts step of the Label Studio migration (registered in ``AnnotationsConfig.ready``):
each Label Studio draft (from the export's ``drafts``), with its author (by email), its
task, the annotation it edits, result, lead time, postponed flag and timestamps.

Label Studio deletes a draft when its author submits; a re-run that reads the task
again (submitting moves it) deletes the copy here too, unless someone went on with it in
LabelHub (its ``updated_at`` is no longer Label Studio's): work is never removed."""

import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from annotations.models import AnnotationDraft


def _when(value):
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, datetime.UTC)
    return parsed or timezone.now()


def drafts_copy(ctx, ls_project: dict, project) -> int:
    copied = 0
    for task_id, draft in ctx.project_drafts:
        stamp = str(draft.get("updated_at") or "")[:64]
        found = ctx.known("draft", draft["id"])
        if found and found[1] == stamp:
            continue
        user_id = ctx.user_id(draft.get("user"))
        if user_id is None:
            ctx.note(
                f'Project "{project.title}": draft {draft["id"]} of an unknown user '
                f"({draft.get('user')}) was not copied"
            )
            continue
        annotation_id = ctx.annotation_id(draft["annotation"]) if draft.get("annotation") else None
        values = {
            "project": project,
            "result": draft.get("result") or [],
            "lead_time": draft.get("lead_time"),
            "was_postponed": bool(draft.get("was_postponed")),
            "created_at": _when(draft.get("created_at")),
            "updated_at": _when(draft.get("updated_at")),
        }
        row, _ = AnnotationDraft.objects.update_or_create(
            task_id=task_id, user_id=user_id, annotation_id=annotation_id, defaults=values
        )
        ctx.remember("draft", draft["id"], row.pk, stamp)
        copied += 1
    _gone(ctx, {draft["id"] for _, draft in ctx.project_drafts})
    return copied


def _gone(ctx, present: set) -> None:
    """Delete the copies of drafts Label Studio no longer holds, on the tasks just read."""
    read = set(ctx.read_task_ids)
    for ls_id, (pk, stamp) in ctx.copies("draft").items():
        if ls_id in present:
            continue
        row = AnnotationDraft.objects.filter(pk=pk, task_id__in=read).first()
        if row is not None and row.updated_at == _when(stamp):
            row.delete()


def drafts_count(project) -> int:
    return AnnotationDraft.objects.filter(project=project).count()
