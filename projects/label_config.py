"""Parse Label Studio labeling configs (``projects.results`` checks results against them).

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
from dataclasses import dataclass, field
from typing import Any

import orjson
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
INDEX_FLAG_RE = re.compile(r"\{\{\w+\}\}")
# Controls whose options are <Label> children ("Labels" included) / that own their options.
LABEL_CONTROLS = frozenset(t for t in tags.CONTROL_TAGS if t.endswith("Labels"))
OPTION_CONTROLS = LABEL_CONTROLS | {"Choices", "Taxonomy"}
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
        """A JSON-serialisable copy, tagged with ``PARSED_CONFIG_VERSION``: a deep copy
        through JSON, the shape the JSONField keeps (``dataclasses.asdict``'s recursive
        copy was a twentieth of a project create's time)."""
        return {"version": PARSED_CONFIG_VERSION, **orjson.loads(orjson.dumps(vars(self)))}

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


def editor_unsupported_tags(xml: str, *, editor: str) -> list[str]:
    """The tags of ``xml`` that the embedded ``editor`` (``"1.23"`` or ``"1.4"``) cannot
    show, in document order (tag names compared case-insensitively, as the editor does).
    Raises ``LabelConfigError`` for XML that does not parse."""
    known = tags.EDITOR_TAGS[editor]
    found: list[str] = []
    for element in _parse_xml(xml).iter():
        tag = element.tag
        if isinstance(tag, str) and tag.lower() not in known and tag not in found:
            found.append(tag)
    return found


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
            elif name:
                # A template value (``<embed src='$image'/>``): the keys it reads, as
                # Label Studio's ``extract_data_types`` finds them (``$\w+``).
                for key in re.findall(r"\$(\w+)", attrs.get("value", "")):
                    self.data_keys.setdefault(key, None)

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
        if key is None and (value_attr == "valueList" or "$" in expression):
            self.errors.append(
                f'{where}: {value_attr} "{expression}" must name a task data field, like "$text"'
            )
            return
        # A value without "$" is shown as written (``<Text name="t" value="pdf"/>``), as
        # Label Studio takes it: an object that reads no task data (``value`` None).
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
        if obj["type"].lower() in wanted and obj["value"] is not None:
            keys.setdefault(obj["value"], None)
    return list(keys)


def single_data_key(parsed: ParsedConfig) -> str | None:
    """The data key when all object tags read the same one, else None."""
    keys = {obj["value"] for obj in parsed.objects.values() if obj["value"] is not None}
    return keys.pop() if len(keys) == 1 else None


# Label Studio's ``config_suitable_for_bulk_annotation``: controls whose results are
# regions (they need a person to draw them) rule bulk labeling out.
_REGION_CONTROLS = frozenset(
    {
        "Labels",
        "Brush",
        "BrushLabels",
        "Ellipse",
        "EllipseLabels",
        "KeyPoint",
        "KeyPointLabels",
        "Polygon",
        "PolygonLabels",
        "Rectangle",
        "RectangleLabels",
        "HyperTextLabels",
        "ParagraphLabels",
        "TimeSeriesLabels",
        "VideoRectangle",
    }
)
_BULK_CONTROLS = frozenset({"Choices", "Taxonomy", "DateTime", "Number", "Rating", "TextArea"})


def suitable_for_bulk_annotation(parsed: ParsedConfig) -> bool:
    """Whether one answer can be given to many tasks at once from the Data Manager: no
    region controls, no per-region or per-item controls, no options read from task
    data, and no Taxonomy that labels regions or loads its tree from an API."""
    for control in parsed.controls.values():
        kind, attrs = control["type"], control["attrs"]
        if kind in _REGION_CONTROLS:
            return False
        if kind not in _BULK_CONTROLS:
            continue
        if any(attrs.get(a, "false").lower() == "true" for a in ("perRegion", "perItem")):
            return False
        if kind in ("Choices", "Taxonomy") and "value" in attrs:
            return False
        if kind == "Taxonomy" and (
            attrs.get("labeling", "false").lower() == "true" or "apiUrl" in attrs
        ):
            return False
    return True
