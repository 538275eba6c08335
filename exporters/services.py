"""Exports: options checked up front (400 naming the field), then a streamed writer.

``export_stream`` picks the tasks (selectors.export_tasks_queryset), reads them in
keyset chunks (selectors.export_task_dicts) and hands them to the format's writer
(exporters/formats/). Nothing holds the project in memory: JSON and the tables stream
row by row, the archives member by member.
"""

from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import partial

from annotations.video import extract_key_frames
from datamanager import query as query_format
from datamanager import selectors as dm
from datamanager.sql import time_limited
from exporters import selectors
from exporters.formats import FORMATS, FormatInfo, supported_formats
from exporters.formats.context import WriterContext
from exporters.formats.writers import WRITERS
from exporters.selectors import TaskFilter
from labelhub.errors import ApiError
from labelhub.params import FALSE_WORDS, TRUE_WORDS
from labelhub.validation import id_list
from projects.label_config import ParsedConfig, ls_parsed_label_config
from projects.models import Project

ONLY = ("", "ground_truth", "accepted")
ANNOTATOR = ("email", "id")


@dataclass(frozen=True)
class ExportOptions:
    export_type: str = "JSON"
    task_filter: TaskFilter = field(default_factory=TaskFilter)
    full_descriptions: bool = True
    annotator: str = "email"
    download_resources: bool = False
    # The Data Manager's query (filters and selectedItems): export what the user sees.
    query: query_format.Query | None = None
    # Label Studio's interpolate_key_frames: each video track's frames between (and after)
    # its keyframes written out, as the editor interpolates them.
    interpolate_key_frames: bool = False


def query_parse(raw) -> query_format.Query | None:
    """The Data Manager's ``query`` (a JSON string or object): filters and
    ``selectedItems`` through the datamanager engine's allow-list; 400 naming the
    part that is wrong. Ordering is ignored: exports are in task id order."""
    if raw in (None, "", {}):
        return None
    query = dm.parse_query(query_format.load(raw))
    if not query.items and query.selection is None:
        return None
    return query


def _error(field_name: str, message: str) -> ApiError:
    return ApiError(f"{field_name}: {message}", [{"field": field_name, "message": message}])


def flag(params, name: str, default: bool) -> bool:
    raw = params.get(name)
    if raw is None:
        return default
    if isinstance(raw, bool):
        return raw
    value = str(raw).strip().lower()
    if not value:
        return default
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    # labelhub.params reads anything else as false; an export option says so instead.
    raise _error(name, f"must be true or false, not {raw!r}")


def ids_parse(values: list, name: str = "ids") -> tuple[int, ...] | None:
    items: list = []
    for raw in values:
        items.extend(raw.split(",") if isinstance(raw, str) else [raw])
    items = [v for v in items if str(v).strip()]
    if not items:
        return None
    return tuple(id_list([str(v).strip() for v in items], name))


def project_schema(project: Project) -> dict[str, dict]:
    return ls_parsed_label_config(ParsedConfig.from_dict(project.parsed_config))


def export_formats(*, project: Project) -> list[dict]:
    """``GET /export/formats``: every format, disabled where the config can't give it,
    the enabled ones first (Label Studio's order)."""
    allowed = supported_formats(project_schema(project))
    entries = [info.as_api(disabled=name not in allowed) for name, info in FORMATS.items()]
    return sorted(entries, key=lambda entry: entry.get("disabled", False))


def format_check(
    *, project: Project, export_type: str, field_name: str = "exportType"
) -> FormatInfo:
    info = FORMATS.get(export_type)
    if info is None:
        raise _error(field_name, f"unknown format {export_type!r}; one of {', '.join(FORMATS)}")
    if not info.available:
        raise _error(field_name, f"{export_type} is not available in LabelHub")
    if export_type not in supported_formats(project_schema(project)):
        raise _error(field_name, f"{export_type} can't be made from this project's labeling config")
    return info


def export_options_parse(*, project: Project, params) -> ExportOptions:
    """The query parameters of ``GET /api/projects/{id}/export``."""
    export_type = params.get("exportType") or params.get("export_type") or "JSON"
    format_check(project=project, export_type=export_type)
    only = params.get("only", "")
    if only not in ONLY:
        raise _error("only", f"must be ground_truth or accepted, not {only!r}")
    annotator = params.get("annotator", "email")
    if annotator not in ANNOTATOR:
        raise _error("annotator", f"must be email or id, not {annotator!r}")
    getlist = getattr(params, "getlist", lambda key: [params[key]] if key in params else [])
    task_filter = TaskFilter(
        task_ids=ids_parse(getlist("ids") + getlist("ids[]")),
        download_all_tasks=flag(params, "download_all_tasks", False),
        exclude_cancelled=flag(params, "exclude_cancelled", False),
        include_predictions=flag(params, "include_predictions", True),
        include_benchmarks=flag(params, "include_benchmarks", False),
        only_ground_truth=only == "ground_truth",
        only_accepted=only == "accepted",
    )
    return ExportOptions(
        export_type=export_type,
        task_filter=task_filter,
        full_descriptions=flag(params, "full_descriptions", True),
        annotator=annotator,
        download_resources=flag(params, "download_resources", False),
        query=query_parse(params.get("query")),
        interpolate_key_frames=flag(params, "interpolate_key_frames", False),
    )


def chunk_guard(query: query_format.Query | None):
    """What wraps each chunk's task query: the Data Manager's time limit when the query
    has a regex filter, else nothing (and then the next chunk is read ahead while this
    one is written; see selectors._prefetched)."""
    if query is not None and query.has_regex:
        return partial(time_limited, True)
    return nullcontext


def export_stream(*, project: Project, options: ExportOptions, tasks=None) -> Iterator[bytes]:
    """The export's bytes. ``tasks`` (a Task queryset) narrows the selection further,
    e.g. to the Data Manager's filtered tasks."""
    format_check(project=project, export_type=options.export_type)
    queryset = selectors.export_tasks_queryset(
        project=project, task_filter=options.task_filter, query=options.query
    )
    if tasks is not None:
        queryset = queryset.filter(pk__in=tasks.values("pk"))
    if options.query is not None and options.query.has_regex:
        # The whole filter once, under the time limit, before the response starts: a
        # pattern the database refuses or one too slow is a 400 now, not a 200 whose
        # body stops in the middle. (Each chunk below runs under the limit too.)
        with time_limited(True):
            queryset.count()
    ctx = WriterContext(
        project_id=project.pk,
        schema=project_schema(project),
        annotator=options.annotator,
        download_resources=options.download_resources,
        full_descriptions=options.full_descriptions,
        data_keys=lambda: selectors.task_data_keys(queryset),
    )
    task_dicts = selectors.export_task_dicts(
        queryset,
        task_filter=options.task_filter,
        guard=chunk_guard(options.query),
        items_only=FORMATS[options.export_type].from_items,
    )
    if options.interpolate_key_frames:
        task_dicts = with_key_frames(task_dicts)
    return WRITERS[options.export_type](ctx, task_dicts)


def with_key_frames(task_dicts: Iterator[dict]) -> Iterator[dict]:
    """Each annotation's and prediction's ``videorectangle`` results with every frame of
    the track (``label_studio_sdk``'s ``extract_key_frames``, which Label Studio's export
    runs): the keyframes as stored, and between two enabled keyframes (and from the last
    enabled one to the video's end) one box per frame, linearly interpolated and marked
    ``"auto": true``. Other results pass unchanged."""
    for task in task_dicts:
        for key in ("annotations", "predictions"):
            for item in task.get(key) or ():
                result = item.get("result") if isinstance(item, dict) else None
                if isinstance(result, list) and any(
                    isinstance(r, dict) and str(r.get("type", "")).lower() == "videorectangle"
                    for r in result
                ):
                    item["result"] = extract_key_frames(result)
        yield task
