"""The Data Manager's query as the pages carry it in their URL: the filter form's fields
(``f``, ``op``, ``v``, ``v2``, ``t``, ``conj``, ``within``), ``order``, a JSON ``query`` or a saved
``view``. The Data Manager page and the task editor page (whose Previous and Next follow
the same filter and order) read it here."""

from __future__ import annotations

import json

from datamanager import services as saved_views
from labelhub.errors import ApiError
from labelhub.jsonlimits import check_bytes
from labelhub.params import is_true

# The URL parameters that make up the query (paging and display ones are not in it).
QUERY_PARAMS = ("f", "op", "v", "v2", "t", "conj", "within", "order", "query", "view")


def query_params(params) -> str:
    """Only the query's parameters of a URL's, URL-encoded ("" when there are none)."""
    kept = params.copy()
    for name in list(kept):
        if name not in QUERY_PARAMS:
            del kept[name]
    return kept.urlencode()


def form_query(params) -> dict:
    """The LS query from the filter form's repeated fields (``f``, ``op``, ``v``, ``v2``,
    ``t``) and ``conj``; ``query`` (JSON) wins when given, then a saved ``view``."""
    items = []
    columns, operators = params.getlist("f"), params.getlist("op")
    values, maxima, types = params.getlist("v"), params.getlist("v2"), params.getlist("t")
    for index, column in enumerate(columns):
        if not column:
            continue
        operator = operators[index] if index < len(operators) else "equal"
        value = values[index] if index < len(values) else ""
        type_ = (types[index] if index < len(types) else "") or "String"
        if operator in ("in", "not_in"):
            value = {"min": value, "max": maxima[index] if index < len(maxima) else ""}
        elif operator == "empty" or type_ == "Boolean":
            value = is_true(value)
        items.append(
            {
                "filter": f"filter:tasks:{column}",
                "operator": operator,
                "type": type_,
                "value": value,
            }
        )
    body = {}
    if items:
        body["filters"] = {"conjunction": params.get("conj") or "and", "items": items}
        if params.get("within") == "annotation":
            body["filters"]["match"] = "annotation"
    if params.get("order"):
        body["ordering"] = [params["order"]]
    return body


def query_from_request(request, project) -> tuple[dict, object | None]:
    params = request.GET
    view = None
    if params.get("query"):
        try:
            check_bytes(params["query"], "query")
            raw = json.loads(params["query"])
        except (ValueError, ApiError):
            raw = {"filters": "invalid"}
    else:
        raw = form_query(params)
    if params.get("view"):
        view = (
            saved_views.views_for(project=project).filter(pk=params.get("view")).first()
            if params["view"].isdigit()
            else None
        )
        if view is not None:
            raw = {**saved_views.view_query(view), **raw}
    if params.get("order"):
        raw["ordering"] = [params["order"]]
    return raw, view
