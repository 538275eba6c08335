"""The Label Stream's pages: an annotator's stream (``/projects/{id}/label``), one task
opened from the Data Manager (``/projects/{id}/tasks/{task_id}``), and the context both
render the editor with."""

from django.shortcuts import render

from annotations import stream
from annotations.models import Annotation
from annotations.representations import nested_task_dict
from annotations.selectors import with_nested
from datamanager import selectors as dm
from frontend.csp import EDITOR, csp
from frontend.dm_query import query_from_request, query_params
from frontend.views import SHORTCUTS, _error_page, project_nav, project_page
from labelhub.errors import ApiError
from projects import permissions as perms
from projects import services as project_services
from projects.api import user_dict
from tasks.models import Task


@csp(EDITOR)
@project_page(perms.ANNOTATE)
def label_page(request, project):
    """The Label Stream: the next task for this user (locked for them), in the editor.

    One page: after a submit or skip, stream.js asks ``GET /api/projects/{id}/next/``
    (the same service) for the next task and shows it in the mounted editor. When
    nothing is left it says so, with no editor and no spinner; "My annotations" and
    Back stay, so that the user can still fix their work.
    """
    return label_stream_render(request, project)


def label_stream_render(
    request,
    project,
    *,
    candidates=None,
    next_url: str = "",
    dm_url: str = "",
):
    """The Label Stream page; with ``candidates`` (an ordered task queryset) it labels
    those tasks in that order, asking ``next_url`` for the next ones
    (frontend.dm_views.label_displayed_page: "Label tasks as displayed")."""
    task = stream.next_task(project=project, user=request.user, candidates=candidates)
    return render(
        request,
        "frontend/label.html",
        {
            "project": project,
            "task": task,
            "shortcuts": SHORTCUTS,
            "dm_url": dm_url,
            "editor": {
                **label_stream_context(
                    project=project,
                    user=request.user,
                    task=task,
                    next_url=next_url or f"/api/projects/{project.pk}/next/",
                    next_inline=candidates is None,
                ),
                "progress": stream_progress(project=project, user=request.user),
            },
            # cleaned again on the way out: older rows may predate the cleaning on save
            "instructions": project_services.instruction_clean(project.expert_instruction or ""),
            **project_nav(request.user, project, "label"),
        },
    )


def stream_progress(*, project, user) -> dict:
    """The Label Stream's "n of N done": the user's submitted (not skipped) annotations in
    the project, of the tasks it holds for them (its tasks, plus its Benchmark QA copies
    when those are on: every annotator answers each). Both counts include the
    benchmarks, so the count moves on every submit and says nothing about which task
    was one. stream-extras.js adds one per new submit."""
    done = Annotation.objects.filter(
        project=project, completed_by=user, was_cancelled=False
    ).count()
    total = project.task_number
    if project.benchmark_first or project.benchmark_rate:
        total += Task.objects.filter(project=project, is_benchmark=True).count()
    return {"done": done, "total": max(total, done)}


def label_stream_context(*, project, user, task, next_url: str, next_inline: bool = True) -> dict:
    """What stream.js needs: the first task (or None) and where to ask for the next;
    ``next_inline``: the submit asks for it too (``?next=1``), which is the plain
    stream's next task."""
    payload = None
    if task is not None:
        payload = stream.stream_task_dict(task=task, project=project, user=user)
    return {
        "config": project.label_config,
        "task": payload,
        "user": user_dict(user),
        "interfaces": _stream_interfaces(project),
        "preannotate": project.show_predictions_to_annotators,
        "instruction": project.expert_instruction,
        "project": project.pk,
        "next_url": next_url,
        "next_inline": next_inline,
        "history_url": f"/api/projects/{project.pk}/my-annotations/",
        "shortcuts": SHORTCUTS,
    }


def _stream_interfaces(project) -> list[str]:
    interfaces = [
        "panel",
        "controls",
        "topbar",
        "infobar",
        "instruction",
        "side-column",
        "annotations:current",
        "edit-history",
        "submit",
        "update",
    ]
    if project.show_skip_button:
        interfaces.append("skip")
    return interfaces


@csp(EDITOR)
@project_page(perms.DATA_MANAGER)
def task_page(request, project, task_id):
    """One task in the editor with all its annotations and predictions (admins and
    reviewers; reviewers read only)."""

    task = with_nested(
        Task.objects.filter(project=project, pk=task_id), user=request.user, project=project
    ).first()
    if task is None:
        return _error_page(request, 404, "This task does not exist in this project.")
    payload = nested_task_dict(task)
    can_annotate = perms.can(request.user, project, perms.ANNOTATE)
    # Previous and Next in the Data Manager's filter and order, carried in the URL.
    raw, _ = query_from_request(request, project)
    try:
        previous, following = dm.task_neighbours(
            project=project, query=dm.parse_query(raw), task_id=task.pk
        )
    except ApiError:  # a broken query in the URL: plain id order
        previous, following = dm.task_neighbours(
            project=project, query=dm.parse_query({}), task_id=task.pk
        )
    return render(
        request,
        "frontend/task.html",
        {
            "project": project,
            "task": task,
            "previous": previous,
            "next": following,
            "task_query": query_params(request.GET),
            "editor": {
                "config": project.label_config,
                "task": payload,
                "user": user_dict(request.user),
                "interfaces": "task",
                "readOnly": not can_annotate,
                "newAnnotation": False,
                "instruction": project.expert_instruction,
                "shortcuts": SHORTCUTS,
            },
            **project_nav(request.user, project, "data"),
        },
    )
