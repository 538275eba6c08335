"""Parse Label Studio labeling configs and check annotation results against them.

Pure Python + lxml, no Django: the API, importers, exporters and ML code share this one
parser, and it is tested with plain pytest.

Security contract of ``parse_label_config``: a config is untrusted user input. DOCTYPE and
entity declarations are refused before lxml sees the text (so billion-laughs and XXE
payloads fail in microseconds and nothing is expanded or fetched), the parser itself runs
with entity resolution, DTD loading and network access off and without ``huge_tree`` (so
libxml2's depth and size limits apply), and configs over ``MAX_CONFIG_CHARS`` are refused.

Result format reference: https://labelstud.io/guide/task_format and label-studio-sdk's
``label_interface``. Checks are as lenient as Label Studio itself where it is lenient (see
``projects.label_config_tags.CONTROL_RESULT_TYPES``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from lxml import etree

from projects import label_config_tags as tags

MAX_CONFIG_CHARS = 1_000_000
# Bump when the ParsedConfig dict shape changes; cached copies with another version are stale.
PARSED_CONFIG_VERSION = 1
DTD_MESSAGE = "DTDs and entities are not allowed in a labeling config"

_DTD_RE = re.compile(r"<!\s*(?:DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.IGNORECASE)
_XML_DECLARATION_RE = re.compile(r"^\s*<\?xml\b[^>]*\?>")
_LXML_POSITION_RE = re.compile(r",\s*line \d+, column \d+\s*$")
# "$text" -> "text", "$images[{{idx}}].url" -> "images", "$meta.title" -> "meta".
_DATA_KEY_RE = re.compile(r"^\$([^\s\[\].{}$]+)")
_INDEX_FLAG_RE = re.compile(r"\{\{\w+\}\}")
# Controls whose options are <Label> children ("Labels" included) / that own their options.
_LABEL_CONTROLS = frozenset(t for t in tags.CONTROL_TAGS if t.endswith("Labels"))
_OPTION_CONTROLS = _LABEL_CONTROLS | {"Choices", "Taxonomy"}
# Label Studio's per-region conditions: attribute -> "conditionals.type".
_CONDITIONALS = (("whenTagName", "tag"), ("whenLabelValue", "label"), ("whenChoiceValue", "choice"))


class LabelConfigError(ValueError):
    """Raised for an unparseable or invalid config; str(e) is a human-readable message.

    ``errors`` lists every problem found (one per line in ``str(e)``), so an API can show
    them all at once instead of making the user fix them one by one.
    """

    def __init__(self, errors: str | list[str]) -> None:
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        super().__init__("\n".join(self.errors))


@dataclass
class ParsedConfig:
    """The parts of a labeling config the server needs, in a JSON-friendly shape.

    - ``data_keys``: task data keys the config reads (objects' ``value``/``valueList``,
      ``Repeater on``, dynamic ``value="$x"`` options), in document order, unique.
    - ``objects``: ``{name: {"type", "value", "value_list", "expression", "attrs"}}`` where
      ``value`` is the top-level data key and ``expression`` the raw attribute ("$text").
    - ``controls``: ``{name: {"type", "to_name", "inputs", "labels", "labels_attrs",
      "dynamic", "choice", "required", "per_region", "attrs"}}`` plus ``"paths"`` (option
      value paths from the root, for Taxonomy and nested Choices) and ``"conditionals"``.
      ``labels`` holds each label's ``alias`` or else ``value``, as Label Studio does.
    - ``relation_labels``: values of ``<Relations><Relation value=...>``.
    - ``unknown_tags``: tag names this parser does not know (accepted, worth a UI warning).

    Round-trip through a JSONField with ``to_dict()`` / ``from_dict()``.
    """

    data_keys: list[str]
    objects: dict[str, dict[str, Any]]
    controls: dict[str, dict[str, Any]]
    relation_labels: list[str] = field(default_factory=list)
    unknown_tags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy, tagged with ``PARSED_CONFIG_VERSION``."""
        return {"version": PARSED_CONFIG_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ParsedConfig:
        """Rebuild from ``to_dict()`` output.

        Raises ValueError for a dict from another format version: the caller should then
        re-parse the config text and refresh its cache.
        """
        if data.get("version") != PARSED_CONFIG_VERSION:
            raise ValueError(
                f"parsed config has version {data.get('version')!r}, "
                f"expected {PARSED_CONFIG_VERSION}; parse the config again"
            )
        return cls(
            data_keys=list(data["data_keys"]),
            objects=dict(data["objects"]),
            controls=dict(data["controls"]),
            relation_labels=list(data.get("relation_labels", [])),
            unknown_tags=list(data.get("unknown_tags", [])),
        )


@dataclass(frozen=True)
class ResultError:
    """One problem with one result item; ``index`` is its position in the result list."""

    result_id: str | None
    problem: str
    index: int | None = None


# --------------------------------------------------------------------------- parsing


def parse_label_config(xml: str) -> ParsedConfig:
    """Parse and validate a labeling config.

    Raises LabelConfigError listing every problem: bad XML (with line and column), DTDs,
    a root other than ``<View>``, objects without ``name``/``value="$key"``, controls
    without ``name``/``toName`` or pointing at missing objects, and duplicate names.
    """
    root = _parse_xml(xml)
    builder = _Builder()
    for element in root.iter(etree.Element):
        builder.visit(element)
    return builder.finish()


def _parse_xml(xml: str) -> etree._Element:
    if not isinstance(xml, str):
        raise LabelConfigError("labeling config must be a string")
    if len(xml) > MAX_CONFIG_CHARS:
        raise LabelConfigError(f"labeling config is longer than {MAX_CONFIG_CHARS:,} characters")
    if _DTD_RE.search(xml):
        raise LabelConfigError(DTD_MESSAGE)
    text = xml.lstrip("\ufeff")
    # lxml refuses str input with an encoding declaration; blank it out but keep the line
    # breaks so error positions still match what the user typed.
    declaration = _XML_DECLARATION_RE.match(text)
    if declaration:
        blank = re.sub(r"[^\n]", " ", declaration.group())
        text = blank + text[declaration.end() :]
    if not text.strip():
        raise LabelConfigError("labeling config is empty")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        dtd_validation=False,
    )
    try:
        root = etree.fromstring(text, parser)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        message = _LXML_POSITION_RE.sub("", exc.msg or "syntax error").strip()
        raise LabelConfigError(f"Invalid XML at line {line}, column {column}: {message}") from None
    except ValueError as exc:  # e.g. characters XML cannot hold
        raise LabelConfigError(f"Invalid XML: {exc}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:  # defence in depth
        raise LabelConfigError(DTD_MESSAGE)
    if root.tag != "View":
        raise LabelConfigError(f"the root tag must be <View>, not <{root.tag}>")
    return root


def _data_key(expression: str) -> str | None:
    match = _DATA_KEY_RE.match(expression.strip())
    return match.group(1) if match else None


def _describe(tag: str, name: str | None, element: etree._Element) -> str:
    return f'{tag} "{name}"' if name else f"{tag} (line {element.sourceline})"


class _Builder:
    """Collects objects, controls and labels while walking the tree in document order."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.names: dict[str, str] = {}
        self.data_keys: dict[str, None] = {}
        self.objects: dict[str, dict[str, Any]] = {}
        self.controls: dict[str, dict[str, Any]] = {}
        self.relation_labels: list[str] = []
        self.unknown_tags: list[str] = []

    def visit(self, element: etree._Element) -> None:
        tag = element.tag
        if tag.startswith("{"):
            self.errors.append(f"namespaced tag {tag} is not allowed")
            return
        attrs = {str(k): str(v) for k, v in element.attrib.items()}
        name = attrs.get("name")
        if name is not None:
            self._claim_name(name, tag)
        if tag in tags.OBJECT_TAGS:
            self._add_object(element, tag, attrs)
        elif tag in tags.CONTROL_TAGS:
            self._add_control(element, tag, attrs)
        elif tag in tags.LABEL_TAGS:
            self._add_label(element, tag, attrs)
        elif tag == "Relation":
            value = attrs.get("alias") or attrs.get("value")
            if value and value not in self.relation_labels:
                self.relation_labels.append(value)
        elif tag == "Repeater":
            self._add_data_key(attrs.get("on", ""))
        elif tag not in tags.VISUAL_TAGS:
            # Label Studio's own rule for tags it has no class for: toName makes a control,
            # name + value makes an object.
            if tag not in self.unknown_tags:
                self.unknown_tags.append(tag)
            if "toName" in attrs:
                self._add_control(element, tag, attrs)
            elif name and attrs.get("value", "").startswith("$"):
                self._add_object(element, tag, attrs)

    def _claim_name(self, name: str, tag: str) -> None:
        if name in self.names:
            self.errors.append(
                f'name "{name}" is used by more than one tag ({self.names[name]} and {tag})'
            )
        else:
            self.names[name] = tag

    def _add_data_key(self, expression: str) -> str | None:
        key = _data_key(expression)
        if key is not None:
            self.data_keys.setdefault(key, None)
        return key

    def _add_object(self, element: etree._Element, tag: str, attrs: dict[str, str]) -> None:
        name = attrs.get("name")
        where = _describe(tag, name, element)
        if not name:
            self.errors.append(f'{where}: needs a "name" attribute')
            return
        value_attr = "value" if "value" in attrs else "valueList" if "valueList" in attrs else None
        if value_attr is None:
            self.errors.append(f'{where}: needs a "value" attribute like value="$text"')
            return
        expression = attrs[value_attr]
        key = self._add_data_key(expression)
        if key is None:
            self.errors.append(
                f'{where}: {value_attr} "{expression}" must name a task data field, like "$text"'
            )
            return
        self.objects[name] = {
            "type": tag,
            "value": key,
            "value_list": value_attr == "valueList",
            "expression": expression,
            "attrs": attrs,
        }

    def _add_control(self, element: etree._Element, tag: str, attrs: dict[str, str]) -> None:
        name = attrs.get("name")
        where = _describe(tag, name, element)
        if not name:
            self.errors.append(f'{where}: needs a "name" attribute')
            return
        to_name = [part.strip() for part in attrs.get("toName", "").split(",") if part.strip()]
        if not to_name:
            self.errors.append(f'{where}: needs a "toName" attribute naming the object it labels')
            return
        dynamic = attrs.get("value", "").startswith("$")
        if dynamic:
            self._add_data_key(attrs["value"])
        control: dict[str, Any] = {
            "type": tag,
            "to_name": to_name,
            "inputs": [],
            "labels": [],
            "labels_attrs": {},
            "dynamic": dynamic,
            "choice": attrs.get("choice"),
            "required": attrs.get("required") == "true",
            "per_region": attrs.get("perRegion") == "true",
            "attrs": attrs,
        }
        if control["per_region"]:
            for attr, kind in _CONDITIONALS:
                if attrs.get(attr):
                    control["conditionals"] = {"type": kind, "name": attrs[attr]}
                    break
        self.controls[name] = control

    def _add_label(self, element: etree._Element, tag: str, attrs: dict[str, str]) -> None:
        owner: dict[str, Any] | None = None
        path: list[str] = []
        for ancestor in element.iterancestors():
            if ancestor.tag == "Choice":
                path.insert(0, ancestor.get("alias") or ancestor.get("value") or "")
            control = self.controls.get(ancestor.get("name") or "")
            if control is not None and control["type"] == ancestor.tag:
                owner = control
                break
        if owner is None:  # stray option outside any control: Label Studio ignores it too
            return
        label = attrs.get("alias") or attrs.get("value")
        if not label:
            self.errors.append(f'{_describe(tag, None, element)}: needs a "value" attribute')
            return
        if label not in owner["labels_attrs"]:
            owner["labels"].append(label)
        owner["labels_attrs"][label] = attrs
        if tag == "Choice":
            owner.setdefault("paths", []).append([*path, label])

    def finish(self) -> ParsedConfig:
        for name, control in self.controls.items():
            where = f'{control["type"]} "{name}"'
            for target in control["to_name"]:
                obj = self.objects.get(target)
                if obj is None:
                    self.errors.append(
                        f'{where}: toName "{target}" is not an object tag in this config'
                    )
                else:
                    control["inputs"].append({"type": obj["type"], "value": obj["value"]})
            if control["type"] == "Pairwise" and len(control["to_name"]) != 2:
                self.errors.append(f"{where}: toName must name exactly two object tags")
            needs_options = control["type"] in tags.CONTROLS_NEEDING_OPTIONS
            if needs_options and not control["labels"] and not control["dynamic"]:
                self.errors.append(f'{where}: has no options and no value="$field" to load them')
            paths = control.get("paths", [])
            if control["type"] != "Taxonomy" and all(len(path) == 1 for path in paths):
                control.pop("paths", None)  # flat options: the labels list says it all
        if self.errors:
            raise LabelConfigError(self.errors)
        return ParsedConfig(
            data_keys=list(self.data_keys),
            objects=self.objects,
            controls=self.controls,
            relation_labels=self.relation_labels,
            unknown_tags=self.unknown_tags,
        )


# --------------------------------------------------------------------------- helpers


def ls_parsed_label_config(parsed: ParsedConfig) -> dict[str, dict[str, Any]]:
    """The config in the shape of Label Studio's ``parsed_label_config`` API field.

    ``{control: {"type", "to_name", "inputs", "labels", "labels_attrs"}}``, with
    ``inputs`` as ``{"type", "valueType", "value" | "valueList"}`` and Label Studio's
    optional ``dynamic_labels`` / ``conditionals`` keys when they apply.
    """
    out: dict[str, dict[str, Any]] = {}
    for name, control in parsed.controls.items():
        inputs = []
        for target in control["to_name"]:
            obj = parsed.objects.get(target)
            if obj is not None:
                value_attr = "valueList" if obj["value_list"] else "value"
                inputs.append(
                    {
                        "type": obj["type"],
                        "valueType": obj["attrs"].get("valueType"),
                        value_attr: obj["expression"].lstrip("$"),
                    }
                )
        info: dict[str, Any] = {
            "type": control["type"],
            "to_name": list(control["to_name"]),
            "inputs": inputs,
            "labels": list(control["labels"]),
            "labels_attrs": {k: dict(v) for k, v in control["labels_attrs"].items()},
        }
        if control["dynamic"] or control["attrs"].get("apiUrl"):
            info["dynamic_labels"] = True
        if control.get("conditionals"):
            info["conditionals"] = dict(control["conditionals"])
        out[name] = info
    return out


def data_keys_for_object_types(parsed: ParsedConfig, *, types: Collection[str]) -> list[str]:
    """Data keys of object tags of the given types (case-insensitive, e.g. {"Image"}).

    Importers use it to put an uploaded media file or a TXT line under the right key.
    """
    wanted = {t.lower() for t in types}
    keys: dict[str, None] = {}
    for obj in parsed.objects.values():
        if obj["type"].lower() in wanted:
            keys.setdefault(obj["value"], None)
    return list(keys)


def single_data_key(parsed: ParsedConfig) -> str | None:
    """The data key when all object tags read the same one, else None."""
    keys = {obj["value"] for obj in parsed.objects.values()}
    return keys.pop() if len(keys) == 1 else None


def format_result_error(error: ResultError) -> str:
    """``result[2] (id "abc"): <problem>`` for API messages and logs."""
    where = "result" if error.index is None else f"result[{error.index}]"
    if error.result_id is not None:
        where += f' (id "{error.result_id}")'
    return f"{where}: {error.problem}"


@lru_cache(maxsize=512)
def _name_pattern(name: str) -> re.Pattern[str]:
    """Repeater names like ``page_{{idx}}`` match ``page_0``, ``page_1``..."""
    return re.compile(r"\d+".join(re.escape(part) for part in _INDEX_FLAG_RE.split(name)))


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

    Each item must name a control (``from_name``) and one of its objects (``to_name``),
    have a ``type`` the control produces and a ``value`` with that type's fields and with
    labels the control defines (skipped for dynamic / ``apiUrl`` controls). Relations must
    point at region ids in the same list. With ``task_data``, Text spans are also checked
    against the text length (in UTF-16 code units, as the editor counts offsets).
    """
    if not isinstance(result, list):
        return [ResultError(None, "result must be a list of regions")]
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
        obj = _lookup(parsed.objects, from_name)
        if obj is not None and obj["type"] == "Chat" and rtype == "chatmessage":
            return []  # Chat messages are self-referencing: from_name == to_name == the Chat
        return [f'from_name "{from_name}" is not a control in the config']
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
    if control["labels"] or control["type"] in _OPTION_CONTROLS:
        return _label_values(control), f'{control["type"]} "{name}"'
    # A bare tool (Rectangle, VideoRectangle...) takes its labels from the Labels-type
    # controls on the same object.
    allowed: set[str] = set()
    for other in parsed.controls.values():
        if other["type"] in _LABEL_CONTROLS and any(
            _name_matches(t, to_name) for t in other["to_name"]
        ):
            if _is_free(other):
                return None, ""
            allowed |= _label_values(other)
    return allowed, f'any labels control for "{to_name}"'


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
            isinstance(c, str) or tags.is_str_list(c) for c in chosen
        ):
            return [f'{rtype} value "{key}" must be a list of strings']
        flat = [c for item in chosen for c in ([item] if isinstance(item, str) else item)]
    elif not tags.is_str_list(chosen):
        return [f'{rtype} value "{key}" must be a list of strings']
    else:
        flat = chosen
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
    return "label" if row["label"] not in labels else None


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
    if any("{{" in name for name in (*old.controls, *new.controls)):
        return None
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
        if old.controls[name]["type"] in _LABEL_CONTROLS
        for t in old.controls[name]["to_name"]
    }
    changed |= {
        name
        for name, control in old.controls.items()
        if objects.intersection(control["to_name"])
        and not control["labels"]
        and control["type"] not in _OPTION_CONTROLS
    }
    changed |= {name for name, obj in old.objects.items() if obj["type"] == "Chat"} - set(
        new.objects
    )
    return changed


def _orphan_line(orphan: Mapping[str, Any]) -> str:
    counts = ", ".join(
        f"{orphan[source]} {source[:-1] if orphan[source] == 1 else source}"
        for source in ("annotations", "predictions")
        if orphan[source]
    )
    where = f"from_name={orphan['from_name']}, to_name={orphan['to_name']}, type={orphan['type']}"
    if orphan["reason"] == "label":
        return f'label "{orphan["label"]}" of {where} ({counts})'
    return f"{counts} with {where}"


def config_orphans(
    old: ParsedConfig, new: ParsedConfig, usage: Collection[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """What stored results a config change would leave without a control: each
    (``from_name``, ``to_name``, ``type``, ``label``) the old config took and the new one
    does not (a dropped control, a changed control type or target, a removed label),
    with the ``annotations`` and ``predictions`` that hold it and a ``message``.

    ``usage`` rows are ``annotations.selectors.result_usage``'s. Results that already
    did not fit the old config (imported oddities) do not block the change.
    """
    found: dict[tuple, dict[str, Any]] = {}
    for row in usage:
        reason = _orphan_reason(new, row)
        if reason is None or _orphan_reason(old, row) is not None:
            continue
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
ORPHANS_LABELS = "These labels still exist in annotations or predictions:"


def config_orphans_message(orphans: Collection[Mapping[str, Any]]) -> str:
    """Label Studio's wording: the controls part, then the labels part, one per line."""
    controls = [o["message"] for o in orphans if o["reason"] != "label"]
    labels = [o["message"] for o in orphans if o["reason"] == "label"]
    parts = []
    if controls:
        parts.append("\n".join([ORPHANS_CONTROLS, *controls]))
    if labels:
        parts.append("\n".join([ORPHANS_LABELS, *labels]))
    return "\n".join(parts)
