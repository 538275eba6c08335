"""JSON, JSON_MIN, CSV, TSV and CONLL2003: one file each, written task by task."""

import csv
import io
from collections.abc import Iterator
from functools import cache
from operator import itemgetter

import orjson

from exporters.formats import data_keys as schema_data_keys
from exporters.formats.context import WriterContext
from exporters.formats.items import annotator, pretty_rows, task_items
from labelhub.spreadsheet import cell

# Rows buffered before a block is handed to the response: large enough that the
# per-yield cost vanishes, small enough that memory stays flat.
ROWS_PER_BLOCK = 500


def _json_array(records: Iterator) -> Iterator[bytes]:
    """``[``, the records one a line separated by commas, ``]``, in blocks of
    ROWS_PER_BLOCK records."""
    yield b"["
    dumps = orjson.dumps
    separator = b"\n"
    block: list[bytes] = []
    for record in records:
        block.append(dumps(record))
        if len(block) >= ROWS_PER_BLOCK:
            yield separator + b",\n".join(block)
            separator = b",\n"
            block.clear()
    yield (separator + b",\n".join(block) if block else b"") + b"\n]\n"


def _short_task(task: dict) -> dict:
    """Full task descriptions off: ids and results only."""
    return {
        "id": task["id"],
        "annotations": [
            {
                "id": a["id"],
                "completed_by": a["completed_by"],
                "result": a["result"],
            }
            for a in task.get("annotations", [])
        ],
        **(
            {"predictions": [{"id": p["id"], "result": p["result"]} for p in task["predictions"]]}
            if "predictions" in task
            else {}
        ),
    }


def _only_ids(task: dict) -> dict:
    """``annotator=id`` (Label Studio's ``annotations__completed_by.only_id``): the
    annotator's id instead of the expanded user."""
    for a in task.get("annotations", []):
        a["completed_by"] = annotator(a, by="id")
    return task


def write_json(ctx: WriterContext, tasks: Iterator[dict]) -> Iterator[bytes]:
    if ctx.annotator == "id":
        tasks = (_only_ids(task) for task in tasks)
    if not ctx.full_descriptions:
        tasks = (_short_task(task) for task in tasks)
    return _json_array(tasks)


def write_json_min(ctx: WriterContext, tasks: Iterator[dict]) -> Iterator[bytes]:
    """The converter's JSON_MIN: a flat record per annotation (newest first), each
    control's value pretty-printed (``"sentiment": "Neutral"``), ``annotator`` the email."""

    def records() -> Iterator[dict]:
        by = ctx.annotator
        for task in tasks:
            for annotation, outputs in pretty_rows(task, ctx.schema):
                record = dict(task["data"])
                if task.get("id") is not None:
                    record["id"] = task["id"]
                record.update(outputs)
                if annotation is None:
                    record.update(_NO_ANNOTATION)
                    yield record
                    continue
                record["annotator"] = annotator(annotation, by=by)
                record["annotation_id"] = annotation.get("id")
                record["created_at"] = annotation.get("created_at")
                record["updated_at"] = annotation.get("updated_at")
                record["lead_time"] = annotation.get("lead_time")
                yield record

    return _json_array(records())


_FIXED = ("annotator", "annotation_id", "created_at", "updated_at", "lead_time")
_NO_ANNOTATION = dict.fromkeys(_FIXED)


def _dumps(value) -> str:
    return orjson.dumps(value).decode()


def write_table(ctx: WriterContext, tasks: Iterator[dict], *, sep: str) -> Iterator[bytes]:
    """CSV/TSV as the converter writes them (sorted columns, QUOTE_NONNUMERIC, a row per
    annotation), with formula cells made inert (``labelhub.spreadsheet.cell``), streamed: the header is known before the first row because the columns
    are the exported tasks' data keys (one query) plus every control of the config,
    where the converter makes a pass over all the data first."""
    controls = set(ctx.schema)
    inputs = set(ctx.data_keys())
    colliding = inputs & controls
    columns = {"id", *_FIXED, *controls}
    columns |= {f"_data_{k}" if k in colliding else k for k in inputs}
    buffer = io.StringIO()
    # csv.writer over a row in header order: DictWriter's bytes (missing columns are "")
    # without its per-row generator and extra-key check. Each row starts as a copy of
    # an all-"" dict in header order, so its values() are the row.
    fieldnames = sorted(columns)
    empty = dict.fromkeys(fieldnames, "")
    data_columns = {k: f"_data_{k}" if k in colliding else k for k in inputs}
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, delimiter=sep)
    writer.writerow([cell(name) for name in fieldnames])  # data keys are anyone's text
    writerow = writer.writerow
    by = ctx.annotator
    rows = 0
    for task in tasks:
        data = task["data"]
        for annotation, outputs in pretty_rows(task, ctx.schema):
            record = empty.copy()
            record["id"] = task["id"]
            for name, pretty in outputs.items():
                record[name] = pretty if isinstance(pretty, str) else _dumps(pretty)
            for name, value in data.items():
                column = data_columns.get(name, name)
                if column not in empty:
                    continue  # a key the header query did not see: never a ragged row
                record[column] = _dumps(value) if isinstance(value, (dict, list)) else value
            if annotation is None:
                record.update(_NO_ANNOTATION)
            else:
                who = annotator(annotation, by=by)
                record["annotator"] = None if who is None else str(who)
                record["annotation_id"] = annotation.get("id")
                record["created_at"] = annotation.get("created_at")
                record["updated_at"] = annotation.get("updated_at")
                record["lead_time"] = annotation.get("lead_time")
            writerow([cell(value) for value in record.values()])
            rows += 1
            if rows % ROWS_PER_BLOCK == 0:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue().encode()


def write_csv(ctx: WriterContext, tasks: Iterator[dict]) -> Iterator[bytes]:
    return write_table(ctx, tasks, sep=",")


def write_tsv(ctx: WriterContext, tasks: Iterator[dict]) -> Iterator[bytes]:
    return write_table(ctx, tasks, sep="\t")


@cache
def _tokenizer():
    """nltk's Treebank tokenizer; nltk pulls in scikit-learn, so it loads on first use."""
    from nltk.tokenize.treebank import TreebankWordTokenizer

    return TreebankWordTokenizer()


def tokens_and_tags(text: str, spans: list[dict] | None) -> tuple[list[str], list[str]]:
    """BIO tags for the Treebank tokens of ``text``: the converter's
    ``create_tokens_and_tags``, token for token (quirks included, so files match)."""
    tokens_and_idx = [(text[s:e], s) for s, e in _tokenizer().span_tokenize(text)]
    if not (spans and all(s.get("start") is not None and s.get("end") is not None for s in spans)):
        return [t for t, _ in tokens_and_idx], ["O"] * len(tokens_and_idx)
    spans = sorted(spans, key=itemgetter("start"))
    span = spans.pop(0)
    span_start, span_end, prefix = span["start"], span["end"] - 1, "B-"
    tokens, tags = [], []
    for token, token_start in tokens_and_idx:
        tokens.append(token)
        token_end = token_start + len(token) - 1
        if token_start > span_end:
            while spans:
                span = spans.pop(0)
                span_start, span_end, prefix = span["start"], span["end"] - 1, "B-"
                if token_start <= span_end:
                    break
        if not span or token_end < span_start or not span.get("labels"):
            tags.append("O")
        elif span_start <= token_end and span_end >= token_start:
            tags.append(prefix + span["labels"][0])
            prefix = "I-"
        else:
            tags.append("O")
    return tokens, tags


def write_conll(ctx: WriterContext, tasks: Iterator[dict]) -> Iterator[bytes]:
    key = schema_data_keys(ctx.schema)[0]
    yield b"-DOCSTART- -X- O\n"
    block: list[str] = []
    for task in tasks:
        for item in task_items(task, ctx.schema, by=ctx.annotator):
            spans = next(
                (v for v in item["output"].values() if v[0]["type"].lower() == "labels"), None
            )
            text = item["input"].get(key)
            if not isinstance(text, str):
                ctx.notes.add(item["id"], f"data key {key!r} is not text")
                continue
            tokens, tags = tokens_and_tags(text, spans)
            block.extend(f"{token} -X- _ {tag}\n" for token, tag in zip(tokens, tags, strict=True))
            block.append("\n")
        if len(block) >= ROWS_PER_BLOCK * 20:
            yield "".join(block).encode()
            block.clear()
    yield "".join(block).encode()
