"""Sample tasks and sample import files for any labeling config.

The Data Manager's import dialog offers "download a sample file" and "add a sample task";
both come from here. A sample fills every data key the config reads, with a value of the
shape its object tag shows (text, HTML, a list of paragraphs, an image URL...). Media
samples are small files shipped in ``importers/static/importers/samples/``.
"""

import csv
import io

import orjson
from django.templatetags.static import static

from labelhub.errors import ApiError
from projects.label_config import LabelConfigError, ParsedConfig, parse_label_config

TEXTS = [
    "To have faith is to trust yourself to the water.",
    "The delivery was late, but the support team was helpful.",
    "Best purchase of the year: it works exactly as described.",
]
FORMATS = {
    "json": "application/json",
    "jsonl": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
}


def _static(name: str) -> str:
    return static(f"importers/samples/{name}")


def _value(obj: dict, variant: int):
    kind = obj["type"]
    attrs = obj.get("attrs", {})
    text = TEXTS[variant % len(TEXTS)]
    if kind == "Image":
        images = [_static("image.png"), _static("image-2.png")]
        return images if obj.get("value_list") else images[variant % 2]
    if kind in ("Audio", "AudioPlus"):
        return _static("audio.wav")
    if kind == "Video":
        return _static("video.webm")
    if kind == "PDF":
        return _static("document.pdf")
    if kind == "HyperText":
        return f"<p><b>Sample {variant + 1}.</b> {text}</p>"
    if kind == "Markdown":
        return f"## Sample {variant + 1}\n\n{text}"
    if kind == "Paragraphs":
        name_key = attrs.get("nameKey", "author")
        text_key = attrs.get("textKey", "text")
        return [
            {name_key: "Alice", text_key: "Hi, how can I help you?"},
            {name_key: "Bob", text_key: text},
        ]
    if kind == "Table":
        return {"sample": variant + 1, "text": text}
    if kind == "TimeSeries":
        if attrs.get("valueType") == "json":
            return {"time": [0, 1, 2, 3], "value": [0.0, 0.8, 0.3, 0.9]}
        return _static("timeseries.csv")
    if kind == "Chat":
        return [{"role": "user", "content": "Hello!"}, {"role": "assistant", "content": text}]
    if kind == "List":
        return [{"id": i, "title": f"Item {i}", "body": TEXTS[i % 3]} for i in range(1, 4)]
    return text


def sample_data(parsed: ParsedConfig, variant: int = 0) -> dict:
    data: dict = {}
    for obj in parsed.objects.values():
        data.setdefault(obj["value"], _value(obj, variant))
    for control in parsed.controls.values():
        expression = control.get("attrs", {}).get("value", "")
        if control.get("dynamic") and expression.startswith("$"):
            data.setdefault(
                expression[1:],
                [{"value": "Option A"}, {"value": "Option B"}, {"value": "Option C"}],
            )
    for key in parsed.data_keys:
        data.setdefault(key, TEXTS[variant % len(TEXTS)])
    return data


def sample_task(parsed: ParsedConfig) -> dict:
    return {"data": sample_data(parsed)}


def parse_or_400(xml: str) -> ParsedConfig:
    try:
        return parse_label_config(xml)
    except LabelConfigError as exc:
        raise ApiError(
            f"Invalid labeling config: {exc}",
            [{"field": "label_config", "message": m} for m in exc.errors],
        ) from None


def _cell(value) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def sample_file(parsed: ParsedConfig, fmt: str, count: int = 3) -> tuple[bytes, str]:
    """(content, content type) of a small sample file in ``fmt``."""
    if fmt not in FORMATS:
        raise ApiError(f"Unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
    rows = [sample_data(parsed, variant) for variant in range(count)]
    if fmt == "json":
        content = orjson.dumps([{"data": row} for row in rows], option=orjson.OPT_INDENT_2)
    elif fmt == "jsonl":
        content = b"".join(orjson.dumps({"data": row}) + b"\n" for row in rows)
    elif fmt in ("csv", "tsv"):
        out = io.StringIO()
        writer = csv.writer(out, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        keys = list(rows[0])
        writer.writerow(keys)
        writer.writerows([_cell(row[key]) for key in keys] for row in rows)
        content = out.getvalue().encode()
    else:
        if len(parsed.data_keys) != 1:
            raise ApiError(
                "A text file fills one data key, but this labeling config reads "
                f"{len(parsed.data_keys)}: {', '.join(parsed.data_keys)}; use CSV or JSON."
            )
        content = "".join(_cell(row[parsed.data_keys[0]]) + "\n" for row in rows).encode()
    return content, FORMATS[fmt]
