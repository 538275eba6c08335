"""Saved Data Manager tabs (``/api/dm/views/``): reads and writes.

A view's ``data`` is Label Studio's tab shape. Its ``filters`` and ``ordering`` are
validated by the engine on save, so a stored view can never carry a column off the
allow-list, and they are validated again whenever the view is used.
"""

from __future__ import annotations

import json

from django.db.models import QuerySet
from django.utils import timezone

from datamanager import columns as cols
from datamanager import query as query_format
from datamanager.models import View
from labelhub.errors import ApiError

MAX_VIEW_BYTES = 64 * 1024


def view_data_check(data) -> dict:
    if data in (None, ""):
        return {}
    if not isinstance(data, dict):
        raise ApiError(
            "data must be a JSON object", [{"field": "data", "message": "not an object"}]
        )
    if len(json.dumps(data)) > MAX_VIEW_BYTES:
        raise ApiError(
            "data is too large", [{"field": "data", "message": f"over {MAX_VIEW_BYTES} bytes"}]
        )
    if data.get("filters") not in (None, {}):
        query_format.parse_filters(data["filters"], known=cols.KNOWN)
    query_format.parse_ordering(data.get("ordering"), orderable=cols.ORDERABLE)
    title = data.get("title")
    if title is not None and (not isinstance(title, str) or len(title) > 200):
        raise ApiError(
            "title must be a string of at most 200 characters",
            [{"field": "data.title", "message": "bad title"}],
        )
    return data


def views_for(*, project) -> QuerySet:
    return View.objects.filter(project=project).order_by("order", "id")


def view_create(*, project, user, data) -> View:
    data = view_data_check(data)
    order = views_for(project=project).count()
    return View.objects.create(project=project, user=user, data=data, order=order)


def view_update(*, view: View, data, partial: bool = True) -> View:
    merged = {**view.data, **(data or {})} if partial else data
    view.data = view_data_check(merged)
    view.updated_at = timezone.now()
    view.save(update_fields=["data", "updated_at"])
    return view


def views_order(*, project, ids: list[int]) -> int:
    """Label Studio's ``POST /api/dm/views/order/``: each listed view of the project gets
    its place in ``ids`` as its ``order``; ids of other projects' views (or of none) are
    ignored, as Label Studio does. One UPDATE for all (``bulk_update``)."""
    place = {view_id: n for n, view_id in enumerate(ids)}
    views = list(View.objects.filter(project=project, pk__in=place))
    for view in views:
        view.order = place[view.pk]
    View.objects.bulk_update(views, ["order"])
    return len(views)


def view_delete(*, view: View) -> None:
    view.delete()


def views_reset(*, project) -> int:
    return View.objects.filter(project=project).delete()[0]


def view_query(view: View) -> dict:
    """The LS query a view stands for."""
    return {"filters": view.data.get("filters") or {}, "ordering": view.data.get("ordering") or []}


def view_dict(view: View) -> dict:
    return {
        "id": view.pk,
        "project": view.project_id,
        "user": view.user_id,
        "order": view.order,
        "data": view.data,
    }
