"""Check annotation and prediction results against a parsed labeling config, and find
what a config edit would orphan among stored results.

Result format reference: https://labelstud.io/guide/task_format and label-studio-sdk's
``label_interface``. Checks are as lenient as Label Studio itself where it is lenient (see
``projects.label_config_tags.CONTROL_RESULT_TYPES``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from projects import label_config_tags as tags
from projects.label_config import (
    INDEX_FLAG_RE,
    LABEL_CONTROLS,
    OPTION_CONTROLS,
    ParsedConfig,
)


@dataclass(frozen=True)
class ResultError:
    """One problem with one result item; ``index`` is its position in the result list."""

    result_id: str | None
    problem: str
    index: int | None = None


# --------------------------------------------------------------------------- parsing


def format_result_error(error: ResultError) -> str:
    """``result[2] (id "abc"): <problem>`` for API messages and logs."""
    where = "result" if error.index is None else f"result[{error.index}]"
    if error.result_id is not None:
        where += f' (id "{error.result_id}")'
    return f"{where}: {error.problem}"


@lru_cache(maxsize=512)
def _name_pattern(name: str) -> re.Pattern[str]:
    """Repeater names like ``page_{{idx}}`` match ``page_0``, ``page_1``..."""
    return re.compile(r"\d+".join(re.escape(part) for part in INDEX_FLAG_RE.split(name)))


def _name_matches(config_name: str, name: str) -> bool:
    if config_name == name:
        return True
    return "{{" in config_name and _name_pattern(config_name).fullmatch(name) is not None


def _lookup(mapping: Mapping[str, dict[str, Any]], name: str) -> dict[str, Any] | None:
    if name in mapping:
        return mapping[name]
    return next((v for k, v in mapping.items() if _name_matches(k, name)), None)


# --------------------------------------------------------------------------- results


def validate_result(
    parsed: ParsedConfig, result: object, *, task_data: Mapping[str, Any] | None = None
) -> list[ResultError]:
    """Check a Label Studio ``result`` list against the config; an empty list means valid.

    Each item must be an object with ``type``, ``from_name``, ``to_name`` and a ``value``
    object. An item whose ``from_name`` names a control of the config must point at one
    of its objects (``to_name``), have a ``type`` the control produces and a ``value``
    with that type's fields and with labels the control defines (skipped for dynamic / ``apiUrl`` controls). Relations must
    point at region ids in the same list. With ``task_data``, Text spans are also checked
    against the text length (in UTF-16 code units, as the editor counts offsets).
    """
    if not isinstance(result, list):
        return [ResultError(None, "result must be a list of regions")]
    if not parsed.controls:
        # A config without controls (Label Studio's default "<View></View>") takes any
        # regions, as Label Studio does; they are checked when a real config is set
        # (config_orphans).
        return [
            ResultError(None, "result item must be an object", index)
            for index, item in enumerate(result)
            if not isinstance(item, dict)
        ]
    region_ids = {
        str(item["id"])
        for item in result
        if isinstance(item, dict) and item.get("type") != "relation" and item.get("id") is not None
    }
    errors = []
    for index, item in enumerate(result):
        result_id = None
        if isinstance(item, dict) and item.get("id") is not None:
            result_id = str(item["id"])
        for problem in _item_problems(parsed, item, region_ids, task_data):
            errors.append(ResultError(result_id, problem, index))
    return errors


def _item_problems(
    parsed: ParsedConfig,
    item: object,
    region_ids: set[str],
    task_data: Mapping[str, Any] | None,
) -> list[str]:
    if not isinstance(item, dict):
        return ["result item must be an object"]
    rtype = item.get("type")
    if not isinstance(rtype, str) or not rtype:
        return ['result item is missing "type"']
    rtype = rtype.lower()
    if rtype == "relation":
        return _relation_problems(parsed, item, region_ids)
    missing = [key for key in ("from_name", "to_name", "value") if key not in item]
    if missing:
        return [f'result item is missing "{key}"' for key in missing]
    from_name, to_name, value = str(item["from_name"]), str(item["to_name"]), item["value"]
    if not isinstance(value, dict):
        return ['"value" must be an object']
    control = _lookup(parsed.controls, from_name)
    if control is None:
        # A control the config does not have (yet): stored as sent, as Label Studio
        # stores it (its own tests annotate with names their config lacks). The editor
        # leaves such items alone (Chat messages name their Chat object, not a control).
        return []
    where = f'{control["type"]} "{from_name}"'
    problems = []
    obj = _lookup(parsed.objects, to_name)
    if not _is_target(control, from_name, to_name):
        if obj is None:
            problems.append(f'to_name "{to_name}" is not an object tag in the config')
        else:
            problems.append(f'to_name "{to_name}" is not a target of {where}')
    allowed = tags.CONTROL_RESULT_TYPES.get(control["type"], frozenset({control["type"].lower()}))
    if rtype not in allowed:
        expected = ", ".join(f'"{t}"' for t in sorted(allowed))
        problems.append(f'type "{rtype}" does not fit {where} (expected {expected})')
        return problems
    object_type = obj["type"] if obj is not None else None
    problems += _shape_problems(rtype, value, object_type)
    problems += _label_problems(parsed, control, from_name, rtype, value, to_name)
    problems += _control_limits(control, where, value)
    if task_data is not None and obj is not None:
        problems += _text_span_problems(obj, rtype, value, task_data)
    return problems


def _is_target(control: dict[str, Any], from_name: str, to_name: str) -> bool:
    targets = control["to_name"]
    if any(_name_matches(target, to_name) for target in targets):
        return True
    # Pairwise results point at the control itself (or at "left,right").
    return control["type"] == "Pairwise" and to_name in (from_name, ",".join(targets))


def _shape_problems(rtype: str, value: dict[str, Any], object_type: str | None) -> list[str]:
    shape = tags.RESULT_SHAPES.get(rtype)
    if shape is None:
        return []  # a control this server does not know: nothing to check
    fields, optional = shape.fields, shape.optional
    if rtype == "labels" and object_type in tags.SPAN_OBJECTS:
        # Text offsets are character indexes; Paragraphs and HyperText may use strings.
        kind = tags.INT if object_type == "Text" else tags.NUMBER_OR_STRING
        span = (("start", kind), ("end", kind))
        offsets = (("startOffset", tags.INT), ("endOffset", tags.INT))
        fields = span + offsets if object_type == "HyperText" else span
        optional = offsets if object_type == "Paragraphs" else ()
    problems = []
    for key, kind in fields:
        if key not in value:
            problems.append(f'{rtype} value is missing "{key}"')
        elif not tags.has_kind(value[key], kind):
            problems.append(f'{rtype} value "{key}" must be {kind}')
    for key, kind in optional:
        if value.get(key) is not None and not tags.has_kind(value[key], kind):
            problems.append(f'{rtype} value "{key}" must be {kind}')
    if rtype in ("brush", "brushlabels", "magicwand"):
        if "rle" in value:
            if not tags.has_kind(value["rle"], tags.RLE):
                problems.append(f'{rtype} value "rle" must be {tags.RLE}')
        elif value.get("format", "rle") == "rle":
            problems.append(f'{rtype} value is missing "rle"')
    start, end = value.get("start"), value.get("end")
    if tags.is_number(start) and tags.is_number(end) and start > end:  # type: ignore[operator]
        problems.append(f'{rtype} value "start" ({start}) is after "end" ({end})')
    return problems


def _is_free(control: dict[str, Any]) -> bool:
    """Options come from task data or an API, or users may add their own."""
    attrs = control["attrs"]
    return bool(control["dynamic"] or attrs.get("apiUrl") or attrs.get("userLabels") == "true")


def _label_values(control: dict[str, Any]) -> set[str]:
    """Accept both a label's alias and its value (exports differ on which they store)."""
    values = set(control["labels"])
    values.update(a["value"] for a in control["labels_attrs"].values() if a.get("value"))
    return values


def _allowed_labels(
    parsed: ParsedConfig, control: dict[str, Any], name: str, to_name: str
) -> tuple[set[str] | None, str]:
    """(allowed labels or None when anything goes, description for messages)."""
    if _is_free(control):
        return None, ""
    if control["labels"] or control["type"] in OPTION_CONTROLS:
        return _label_values(control), f'{control["type"]} "{name}"'
    # A bare tool (Rectangle, VideoRectangle...) takes its labels from the Labels-type
    # controls on the same object.
    allowed: set[str] = set()
    for other in parsed.controls.values():
        if other["type"] in LABEL_CONTROLS and any(
            _name_matches(t, to_name) for t in other["to_name"]
        ):
            if _is_free(other):
                return None, ""
            allowed |= _label_values(other)
    return allowed, f'any labels control for "{to_name}"'


def _is_label(value: object) -> bool:
    """A chosen label: a string, or a number as Label Studio stores ``<Choice value="1"/>``
    picked by a script (``"choices": [1]``); numbers are kept as sent."""
    return isinstance(value, str) or tags.is_number(value)


def label_text(value: object) -> str:
    """A chosen label as the config's option text: numbers by their JSON spelling, as
    ``annotations.selectors.result_usage`` reads them from the database."""
    return value if isinstance(value, str) else str(value)


def _label_problems(
    parsed: ParsedConfig,
    control: dict[str, Any],
    name: str,
    rtype: str,
    value: dict[str, Any],
    to_name: str,
) -> list[str]:
    shape = tags.RESULT_SHAPES.get(rtype)
    if shape is None or shape.label_key is None:
        return []
    key: str | None = shape.label_key
    if key not in value:
        # A merged region from a generic <Labels> control may keep its labels under "labels".
        merged = rtype in tags.LABELED_REGION_TYPES and "labels" in value
        key = "labels" if merged else None
    if key is None:
        return [f'{rtype} value is missing "{shape.label_key}"'] if shape.label_required else []
    chosen = value[key]
    if rtype == "taxonomy":
        if not (isinstance(chosen, list) and all(tags.is_str_list(p) for p in chosen)):
            return [f'{rtype} value "{key}" must be a list of paths (lists of strings)']
        if _is_free(control):
            return []
        known = {tuple(path) for path in control.get("paths", [])}
        return [
            f'taxonomy path "{" / ".join(path)}" is not in {control["type"]} "{name}"'
            for path in chosen
            if tuple(path) not in known
        ]
    if rtype == "choices":
        # Choices with allowNested store paths (lists) instead of single strings.
        if not isinstance(chosen, list) or not all(
            _is_label(c) or tags.is_str_list(c) for c in chosen
        ):
            return [f'{rtype} value "{key}" must be a list of strings']
        flat = [c for item in chosen for c in (item if isinstance(item, list) else [item])]
    elif not (isinstance(chosen, list) and all(_is_label(c) for c in chosen)):
        return [f'{rtype} value "{key}" must be a list of strings']
    else:
        flat = chosen
    flat = [label_text(c) for c in flat]
    allowed, where = _allowed_labels(parsed, control, name, to_name)
    if allowed is None:
        return []
    noun = "choice" if rtype == "choices" else "label"
    unknown = [label for label in dict.fromkeys(flat) if label not in allowed]
    return [f'{noun} "{label}" is not in {where}' for label in unknown]


def _float_attr(attrs: Mapping[str, str], name: str) -> float | None:
    try:
        return float(attrs[name])
    except (KeyError, ValueError):
        return None


def _control_limits(control: dict[str, Any], where: str, value: dict[str, Any]) -> list[str]:
    kind, attrs = control["type"], control["attrs"]
    if kind == "Rating" and tags.is_number(value.get("rating")):
        top = _float_attr(attrs, "maxRating") or 5.0
        if not 0 <= value["rating"] <= top:
            return [f"rating {value['rating']} is outside 0..{top:g} of {where}"]
    elif kind == "Number" and tags.is_number(value.get("number")):
        low, high = _float_attr(attrs, "min"), _float_attr(attrs, "max")
        if low is not None and value["number"] < low:
            return [f"number {value['number']} is below min {low:g} of {where}"]
        if high is not None and value["number"] > high:
            return [f"number {value['number']} is above max {high:g} of {where}"]
    elif kind == "Pairwise" and isinstance(value.get("selected"), str):
        if value["selected"] not in tags.PAIRWISE_CHOICES:
            return ['pairwise value "selected" must be "left" or "right"']
    return []


def _text_span_problems(
    obj: dict[str, Any], rtype: str, value: dict[str, Any], task_data: Mapping[str, Any]
) -> list[str]:
    if obj["type"] != "Text" or rtype != "labels" or obj["attrs"].get("valueType") == "url":
        return []
    text, start, end = task_data.get(obj["value"]), value.get("start"), value.get("end")
    if not (isinstance(text, str) and tags.is_int(start) and tags.is_int(end)):
        return []
    length = len(text.encode("utf-16-le")) // 2  # the editor counts JavaScript string units
    if start < 0 or end > length:
        return [f'span {start}..{end} is outside "{obj["value"]}" ({length} characters)']
    return []


def _relation_problems(
    parsed: ParsedConfig, item: dict[str, Any], region_ids: set[str]
) -> list[str]:
    problems = []
    for key in ("from_id", "to_id"):
        ref = item.get(key)
        if not isinstance(ref, str | int) or isinstance(ref, bool) or ref == "":
            problems.append(f'relation is missing "{key}"')
        elif str(ref) not in region_ids:
            problems.append(f'relation {key} "{ref}" does not match any region id in this result')
    direction = item.get("direction")
    if direction is not None and direction not in tags.RELATION_DIRECTIONS:
        problems.append(f'relation direction "{direction}" must be "left", "right" or "bi"')
    labels = item.get("labels")
    if labels is not None:
        if not tags.is_str_list(labels):
            problems.append('relation "labels" must be a list of strings')
        else:
            allowed = set(parsed.relation_labels)
            unknown = [label for label in labels if label not in allowed]
            problems += [f'relation label "{label}" is not in Relations' for label in unknown]
    return problems


# --------------------------------------------------------------------------- config changes


def _orphan_reason(parsed: ParsedConfig, row: Mapping[str, Any]) -> str | None:
    """Why the config has no place for one ``result_usage`` row (None: it fits)."""
    from_name, to_name, rtype = str(row["from_name"]), str(row["to_name"]), str(row["type"])
    control = _lookup(parsed.controls, from_name)
    if control is None:
        obj = _lookup(parsed.objects, from_name)
        if obj is not None and obj["type"] == "Chat" and rtype == "chatmessage":
            return None
        return "from_name" if row["label"] is None else None
    if row["label"] is None:
        allowed = tags.CONTROL_RESULT_TYPES.get(control["type"], {control["type"].lower()})
        if rtype not in allowed:
            return "type"
        if not _is_target(control, from_name, to_name):
            return "to_name"
        return None
    labels, _ = _allowed_labels(parsed, control, from_name, to_name)
    if labels is None or rtype not in tags.CONTROL_RESULT_TYPES.get(control["type"], {rtype}):
        return None
    return "label" if label_text(row["label"]) not in labels else None


def _narrowed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether a control takes fewer results than before (see ``_orphan_reason``): another
    type, a target or a label or taxonomy path less, or options no longer free."""
    if old["type"] != new["type"] or not set(old["to_name"]) <= set(new["to_name"]):
        return True
    if _is_free(new):
        return False
    if _is_free(old) or not _label_values(old) <= _label_values(new):
        return True
    paths = {tuple(p) for p in new.get("paths") or []}
    return not {tuple(p) for p in old.get("paths") or []} <= paths


def config_changed_names(old: ParsedConfig, new: ParsedConfig) -> set[str] | None:
    """The ``from_name`` values whose stored results a change from ``old`` to ``new``
    may orphan: controls dropped or narrowed (see ``_narrowed``), the bare tools on the
    same objects as a narrowed labels control, and dropped Chat objects. An empty set:
    nothing stored can lose its control, so no data need be read. None: names with
    ``{{idx}}`` (Repeater), which only a pattern matches, so every result is looked at."""
    if not old.controls or any("{{" in name for name in (*old.controls, *new.controls)):
        return None  # an open config took anything: look at every stored result
    changed = {
        name
        for name, control in old.controls.items()
        if name not in new.controls or _narrowed(control, new.controls[name])
    }
    # Bare tools (a Rectangle without labels of its own) take their labels from the
    # labels controls on the same object.
    objects = {
        t
        for name in changed
        if old.controls[name]["type"] in LABEL_CONTROLS
        for t in old.controls[name]["to_name"]
    }
    changed |= {
        name
        for name, control in old.controls.items()
        if objects.intersection(control["to_name"])
        and not control["labels"]
        and control["type"] not in OPTION_CONTROLS
    }
    changed |= {name for name, obj in old.objects.items() if obj["type"] == "Chat"} - set(
        new.objects
    )
    return changed


SOURCES = ("annotations", "drafts", "predictions")


def _counts_text(orphan: Mapping[str, Any]) -> str:
    """``1 annotation, 2 drafts`` (Label Studio's ``display_count``; predictions are ours:
    Label Studio does not look at them)."""
    return ", ".join(
        f"{orphan[source]} {source[:-1] if orphan[source] == 1 else source}"
        for source in SOURCES
        if orphan.get(source)
    )


def _orphan_line(orphan: Mapping[str, Any]) -> str:
    where = f"from_name={orphan['from_name']}, to_name={orphan['to_name']}, type={orphan['type']}"
    if orphan["reason"] == "label":
        return f'label "{orphan["label"]}" of {where} ({_counts_text(orphan)})'
    return f"{_counts_text(orphan)} with {where}"


def config_orphans(
    old: ParsedConfig, new: ParsedConfig, usage: Collection[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """What stored results a config change would leave without a control: each
    (``from_name``, ``to_name``, ``type``, ``label``) the old config took and the new one
    does not (a dropped control, a changed control type or target, a removed label),
    with the ``annotations``, ``drafts`` and ``predictions`` that hold it and a
    ``message``.

    ``usage`` rows are ``annotations.selectors.result_usage``'s. Results that already
    did not fit the old config (imported oddities) do not block the change, unless the
    old config had no controls at all (it took anything, so everything is checked).
    """
    found: dict[tuple, dict[str, Any]] = {}
    for row in usage:
        reason = _orphan_reason(new, row)
        if reason is None or (old.controls and _orphan_reason(old, row) is not None):
            continue  # fits, or did not fit a real old config either (imported oddities)
        key = (row["from_name"], row["to_name"], row["type"], row["label"])
        orphan = found.setdefault(
            key,
            {
                "reason": reason,
                "from_name": row["from_name"],
                "to_name": row["to_name"],
                "type": row["type"],
                "label": row["label"],
                "annotations": 0,
                "drafts": 0,
                "predictions": 0,
            },
        )
        orphan[row["source"]] += row["count"]
    orphans = sorted(
        found.values(),
        key=lambda o: (o["reason"] == "label", str(o["from_name"]), str(o["label"] or "")),
    )
    return [{**orphan, "message": _orphan_line(orphan)} for orphan in orphans]


ORPHANS_CONTROLS = "Created annotations are incompatible with provided labeling schema, we found:"
ORPHANS_LABELS = "These labels still exist in annotations or drafts:"


def config_orphans_message(orphans: Collection[Mapping[str, Any]]) -> str:
    """Label Studio's wording (``Project.validate_config``): the lost controls, each as
    ``<count> with from_name=..., to_name=..., type=...``; otherwise, per control, its
    lost labels as ``<label> (<n> annotations, <n> drafts)`` and ``Please add labels to
    tag with name="<control>".``. Label Studio stops at the first control; this lists
    every one. Each item's own counts are in ``errors``."""
    controls = [o for o in orphans if o["reason"] != "label"]
    if controls:
        lines = [
            f"{sum(o.get(s, 0) for s in SOURCES)} with from_name={o['from_name']}, "
            f"to_name={o['to_name']}, type={o['type']}"
            for o in controls
        ]
        return "\n".join([ORPHANS_CONTROLS, *lines])
    by_control: dict[str, list[Mapping[str, Any]]] = {}
    for orphan in orphans:
        by_control.setdefault(str(orphan["from_name"]), []).append(orphan)
    blocks = []
    for control, items in by_control.items():
        lines = "".join(f"{o['label']} ({_counts_text(o)})\n" for o in items)
        blocks.append(f'{ORPHANS_LABELS}\n{lines}Please add labels to tag with name="{control}".')
    return "\n".join(blocks)
