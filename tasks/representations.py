"""The Label Studio JSON shape of a task (and the storage-URI proxy links in its data).

The shape is defined once, over a row of column values (``task_row``), so that bulk
readers such as the export can fetch ``.values(*TASK_COLUMNS)`` and skip building model
instances; ``task_dict`` applies the same shape to a model instance. What a task nests
(annotations, predictions, reviews, drafts) is ``annotations``' to shape
(``annotations.representations``), which calls these.
"""

import base64
import html
import re

STORAGE_SCHEMES = ("s3://", "gs://", "azure-blob://", "redis://")


# A storage URI quoted inside a longer string: HTML such as ``<img src="s3://b/x.png">``
# in a HyperText field, or text quoting one (Label Studio's ``uri_regex`` finds the same).
# The URI runs to the next quote of the kind that opened it, so it may hold spaces and the
# other quote (``"s3://b/it's here.png"``), never ``<``, ``>`` or a control character. One
# lazy, bounded run per opening quote, ended by the next such quote: linear in the string.
EMBEDDED_URI = re.compile(
    r"""(["'])((?:s3|gs|azure-blob|redis)://(?:(?!\1)[^<>\x00-\x1f]){2,4096}?)\1"""
)


def _resolve_path(task_id: int, uri: str) -> str:
    # URL-safe base64 and the path are letters, digits, "/", "?", "=", "_", "-" and ".":
    # nothing that can end an HTML attribute or start a tag or an entity.
    encoded = base64.urlsafe_b64encode(uri.encode()).decode()
    return f"/tasks/{task_id}/resolve/?fileuri={encoded}"


def storage_uris_resolved(task_id: int, data: dict) -> dict:
    """A copy of task data with storage URIs (``s3://``, ``gs://``, ``azure-blob://``,
    ``redis://``, at any depth of dicts and lists) turned into Label Studio's proxy path,
    ``/tasks/{id}/resolve/?fileuri=<base64 of the URI>``, which redirects a project member
    to a fresh presigned URL or streams the object (io_storages.api). A value that is a
    URI is replaced whole; URIs quoted inside a longer value (HTML attributes in a
    HyperText field) are replaced in place, each by its own path, the rest of the string
    untouched. A quoted URI's HTML entities (``&amp;``) are decoded first, as a browser
    reads the attribute. Exports keep the URIs as they are."""
    return _uris_rewritten(task_id, data) if _has_uri(data) else data


# The walkers are module functions, not closures: a recursive closure refers to itself
# through its cell, a reference cycle that only the garbage collector frees, and the task
# list's page made 90 such functions per request (its share of the collector's work).


def _uris_rewritten(task_id: int, value):
    if isinstance(value, str):
        if value.startswith(STORAGE_SCHEMES):
            if len(value.split("://", 1)[1]) > 1:
                return _resolve_path(task_id, value)
            return value
        if "://" in value:
            return EMBEDDED_URI.sub(lambda match: _embedded_resolved(task_id, match), value)
        return value
    if isinstance(value, list):
        return [_uris_rewritten(task_id, item) for item in value]
    if isinstance(value, dict):
        return {key: _uris_rewritten(task_id, item) for key, item in value.items()}
    return value


def _embedded_resolved(task_id: int, match: re.Match) -> str:
    quote, uri = match.group(1), html.unescape(match.group(2))
    return f"{quote}{_resolve_path(task_id, uri)}{quote}"


def _has_uri(value) -> bool:
    if isinstance(value, str):
        return value.startswith(STORAGE_SCHEMES) or (
            "://" in value and any(scheme in value for scheme in STORAGE_SCHEMES)
        )
    if isinstance(value, list):
        return any(_has_uri(item) for item in value)
    if isinstance(value, dict):
        return any(_has_uri(item) for item in value.values())
    return False


def iso_datetime(value):
    """ISO 8601 in UTC with ``Z``; a string is taken to be that already (the export reads
    SQLite's stored text straight into it, ``exporters.selectors._values``)."""
    if isinstance(value, str):
        return value
    return value.isoformat().replace("+00:00", "Z") if value else None


def column_values(instance, columns: tuple[str, ...]) -> dict:
    return {column: getattr(instance, column) for column in columns}


TASK_COLUMNS = (
    "id",
    "project_id",
    "data",
    "meta",
    "is_labeled",
    "total_annotations",
    "cancelled_annotations",
    "total_predictions",
    "created_at",
    "updated_at",
)


def task_row(
    row: dict, *, annotations: list[dict] | None = None, predictions: list[dict] | None = None
) -> dict:
    body = {
        "id": row["id"],
        "project": row["project_id"],
        "data": row["data"],
        "meta": row["meta"],
        "is_labeled": row["is_labeled"],
        "total_annotations": row["total_annotations"],
        "cancelled_annotations": row["cancelled_annotations"],
        "total_predictions": row["total_predictions"],
        "created_at": iso_datetime(row["created_at"]),
        "updated_at": iso_datetime(row["updated_at"]),
    }
    if "agreement" in row:
        body["agreement"] = row["agreement"]
    if annotations is not None:
        body["annotations"] = annotations
    if predictions is not None:
        body["predictions"] = predictions
    return body


def task_dict(task, *, annotations: list[dict] | None = None, predictions=None) -> dict:
    """A task with its counters, as the API and the editor pages show it (storage URIs
    resolved to proxy links); pass ``annotations``/``predictions`` lists of their JSON
    shapes (``annotations.representations``) to nest them."""
    row = column_values(task, (*TASK_COLUMNS, "agreement"))
    if isinstance(row["data"], dict):
        row["data"] = storage_uris_resolved(task.pk, row["data"])
    return task_row(row, annotations=annotations, predictions=predictions)
