"""Tag tables for the Label Studio labeling-config dialect, and the value-kind checks.

Data plus small predicates, kept apart from ``projects.label_config`` so the parser reads
as logic.
Names follow Label Studio's tag reference (https://labelstud.io/tags) and the result
format of the label-studio-sdk ``label_interface`` package. Tag names are case-sensitive
in configs (``<RectangleLabels>``), result ``type`` values are compared lower-cased.
"""

from __future__ import annotations

import math
from typing import NamedTuple

# Tags that display task data and can be labeled. Each needs ``name`` and ``value="$key"``
# (``Image`` may use ``valueList="$key"`` for an image group instead).
OBJECT_TAGS: frozenset[str] = frozenset(
    {
        "Audio",
        "AudioPlus",
        "Chat",
        "HyperText",
        "Image",
        "List",
        "Markdown",
        "PDF",
        "Paragraphs",
        "Table",
        "Text",
        "TimeSeries",
        "Video",
    }
)

# Tags whose children only shape the layout or feed their parent; never objects or controls.
# ``Filter`` has a ``toName`` that points at a control, so it must not be read as a control.
VISUAL_TAGS: frozenset[str] = frozenset(
    {
        "Bucket",
        "Channel",
        "Choice",
        "Collapse",
        "Filter",
        "Header",
        "Item",
        "Label",
        "Panel",
        "Relation",
        "Relations",
        "Repeater",
        "Shortcut",
        "Style",
        "View",
    }
)

# Children that carry a label / option value for the nearest enclosing control.
LABEL_TAGS: frozenset[str] = frozenset({"Label", "Choice"})

# Region types produced by a labeled geometry or span tool. A generic ``<Labels>`` control
# attached to the same object may emit any of them (the editor merges the geometry and the
# chosen labels into one result whose ``type`` is the geometry's labeled variant).
LABELED_REGION_TYPES: frozenset[str] = frozenset(
    {
        "bitmasklabels",
        "brushlabels",
        "ellipselabels",
        "hypertextlabels",
        "keypointlabels",
        "ocrlabels",
        "paragraphlabels",
        "polygonlabels",
        "rectanglelabels",
        "timelinelabels",
        "timeserieslabels",
        "vectorlabels",
        "videorectangle",
    }
)


def _pair(base: str) -> frozenset[str]:
    return frozenset({base, base + "labels"})


# Control tag -> result ``type`` values it may produce. A labeled tool and its bare geometry
# twin accept each other's type, as Label Studio does. Unknown controls accept their own
# lower-cased tag name only.
CONTROL_RESULT_TYPES: dict[str, frozenset[str]] = {
    "Choices": frozenset({"choices"}),
    "Labels": frozenset({"labels"}) | LABELED_REGION_TYPES,
    "Rectangle": _pair("rectangle"),
    "RectangleLabels": _pair("rectangle"),
    "Polygon": _pair("polygon"),
    "PolygonLabels": _pair("polygon"),
    "KeyPoint": _pair("keypoint"),
    "KeyPointLabels": _pair("keypoint"),
    "Ellipse": _pair("ellipse"),
    "EllipseLabels": _pair("ellipse"),
    "Brush": _pair("brush"),
    "BrushLabels": _pair("brush"),
    "Bitmask": _pair("bitmask"),
    "BitmaskLabels": _pair("bitmask"),
    "Vector": _pair("vector"),
    "VectorLabels": _pair("vector"),
    "MagicWand": frozenset({"magicwand", "brush", "brushlabels"}),
    "HyperTextLabels": frozenset({"hypertextlabels"}),
    "ParagraphLabels": frozenset({"paragraphlabels"}),
    "TimeSeriesLabels": frozenset({"timeserieslabels"}),
    "TimelineLabels": frozenset({"timelinelabels"}),
    "OcrLabels": frozenset({"ocrlabels"}),
    "VideoRectangle": frozenset({"videorectangle"}),
    "TextArea": frozenset({"textarea"}),
    "Rating": frozenset({"rating"}),
    "Number": frozenset({"number"}),
    "DateTime": frozenset({"datetime"}),
    "Taxonomy": frozenset({"taxonomy"}),
    "Pairwise": frozenset({"pairwise"}),
    "Ranker": frozenset({"ranker"}),
}
CONTROL_TAGS: frozenset[str] = frozenset(CONTROL_RESULT_TYPES)

# Controls that Label Studio's JSON schema requires to have options (children or ``value``).
CONTROLS_NEEDING_OPTIONS: frozenset[str] = frozenset({"Choices", "Labels"})

# Objects whose ``labels`` results are text/time spans and so carry ``start`` and ``end``.
SPAN_OBJECTS: frozenset[str] = frozenset(
    {"Audio", "AudioPlus", "HyperText", "Paragraphs", "Text", "TimeSeries"}
)

# Field kinds understood by the value checker in ``projects.label_config``. The strings are
# the phrases used in problem messages ("... must be a number").
NUMBER = "a number"
INT = "an integer"
STRING = "a string"
NUMBER_OR_STRING = "a number or a string"
POINTS = "a non-empty list of [x, y] number pairs"
VERTICES = "a non-empty list of {x, y} objects"
SEQUENCE = "a non-empty list of keyframes with frame, x, y, width and height"
RANGES = "a non-empty list of {start, end} objects"
TEXTS = "a string or a list of strings"
RANKER = "an object whose values are lists of strings"
RLE = "a list of integers from 0 to 255"


class ResultShape(NamedTuple):
    """What a result ``value`` of one type must hold.

    ``fields`` are required, ``optional`` are type-checked only when present. ``label_key``
    names the list of chosen labels (``None``: the type carries no labels) and
    ``label_required`` says whether that list must be present.
    """

    fields: tuple[tuple[str, str], ...] = ()
    optional: tuple[tuple[str, str], ...] = ()
    label_key: str | None = None
    label_required: bool = True


_RECT = (("x", NUMBER), ("y", NUMBER), ("width", NUMBER), ("height", NUMBER))
_ELLIPSE = (("x", NUMBER), ("y", NUMBER), ("radiusX", NUMBER), ("radiusY", NUMBER))
_POINT = (("x", NUMBER), ("y", NUMBER))
_ROTATION = (("rotation", NUMBER),)
_SPAN = (("start", NUMBER_OR_STRING), ("end", NUMBER_OR_STRING))
_OFFSETS = (("startOffset", INT), ("endOffset", INT))


def _geometry(
    base: str,
    fields: tuple[tuple[str, str], ...],
    optional: tuple[tuple[str, str], ...] = (),
) -> dict[str, ResultShape]:
    """Shapes for a bare geometry type and its labeled twin (``rectangle``/``rectanglelabels``)."""
    return {
        base: ResultShape(fields, optional, None),
        base + "labels": ResultShape(fields, optional, base + "labels"),
    }


RESULT_SHAPES: dict[str, ResultShape] = {
    **_geometry("rectangle", _RECT, _ROTATION),
    **_geometry("ellipse", _ELLIPSE, _ROTATION),
    **_geometry("keypoint", _POINT),
    **_geometry("polygon", (("points", POINTS),)),
    **_geometry("vector", (("vertices", VERTICES),)),
    **_geometry("bitmask", (("imageDataURL", STRING),)),
    # Brush geometry ("rle" or another "format") is checked by hand in the validator.
    **_geometry("brush", ()),
    "magicwand": ResultShape(),
    "ocrlabels": ResultShape(_RECT, _ROTATION, "ocrlabels"),
    # ``labels`` spans depend on the target object; the validator adds start/end for spans.
    "labels": ResultShape((), (), "labels"),
    "hypertextlabels": ResultShape(_SPAN + _OFFSETS, (), "hypertextlabels"),
    "paragraphlabels": ResultShape(_SPAN, _OFFSETS, "paragraphlabels"),
    "timeserieslabels": ResultShape(_SPAN, (), "timeserieslabels"),
    "timelinelabels": ResultShape((("ranges", RANGES),), (), "timelinelabels"),
    "videorectangle": ResultShape((("sequence", SEQUENCE),), (), "labels", label_required=False),
    "choices": ResultShape((), (), "choices"),
    "taxonomy": ResultShape((), (), "taxonomy"),
    "textarea": ResultShape((("text", TEXTS),)),
    "rating": ResultShape((("rating", NUMBER),)),
    "number": ResultShape((("number", NUMBER),)),
    "datetime": ResultShape((("datetime", STRING),)),
    "pairwise": ResultShape((("selected", STRING),)),
    "ranker": ResultShape((("ranker", RANKER),)),
}

RELATION_DIRECTIONS: frozenset[str] = frozenset({"left", "right", "bi"})
PAIRWISE_CHOICES: frozenset[str] = frozenset({"left", "right"})


def is_number(value: object) -> bool:
    """A finite JSON number; ``True``/``False`` are not numbers here."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def is_int(value: object) -> bool:
    return is_number(value) and float(value).is_integer()  # type: ignore[arg-type]


def is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def has_kind(value: object, kind: str) -> bool:
    """Whether a result value field is of ``kind`` (one of the constants above)."""
    if kind == NUMBER:
        return is_number(value)
    if kind == INT:
        return is_int(value)
    if kind == STRING:
        return isinstance(value, str)
    if kind == NUMBER_OR_STRING:
        return isinstance(value, str) or is_number(value)
    if kind == TEXTS:
        return isinstance(value, str) or is_str_list(value)
    if kind == RLE:
        return isinstance(value, list) and all(
            isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in value
        )
    if kind == RANKER:
        return isinstance(value, dict) and all(is_str_list(v) for v in value.values())
    if not isinstance(value, list) or not value:
        return False
    if kind == POINTS:
        return all(
            isinstance(p, list | tuple) and len(p) == 2 and all(map(is_number, p)) for p in value
        )
    required = {
        VERTICES: ("x", "y"),
        RANGES: ("start", "end"),
        SEQUENCE: ("frame", "x", "y", "width", "height"),
    }[kind]
    return all(isinstance(v, dict) and all(is_number(v.get(k)) for k in required) for v in value)


# Tags each embedded editor can show (``LABELHUB_EDITOR``), lower-cased as the editor looks
# them up: the names its tag registry holds (``Registry.addTag`` in its bundle; the
# ``*region`` entries are its internal region models, not config tags), plus ``Repeater``,
# which its config reader unrolls before the registry sees it. A config with any other tag
# shows a blank editor, so the server refuses it at save (``projects.services``).
_EDITOR_1_23 = """
    Audio AudioPlus Bitmask BitmaskLabels Brush BrushLabels Bucket Channel Choice Choices
    Collapse CustomInterface DateTime Dialog Ellipse EllipseLabels Filter Header HyperText
    HyperTextLabels Image KeyPoint KeyPointLabels Label Labels List MagicWand Markdown
    MultiChannel Number PagedView Pairwise Panel ParagraphLabels Paragraphs PDF Polygon
    PolygonLabels Ranker Rating Rectangle RectangleLabels Relation Relations Repeater Shortcut
    Style Table Taxonomy Text TextArea TimelineLabels TimeSeries TimeSeriesLabels Vector
    VectorLabels Video VideoRectangle View
"""
_EDITOR_1_4 = """
    Audio AudioPlus Brush BrushLabels Channel Choice Choices Collapse Dialog Ellipse
    EllipseLabels Filter Header HyperText HyperTextLabels Image KeyPoint KeyPointLabels Label
    Labels List Number Pairwise Panel ParagraphLabels Paragraphs Polygon PolygonLabels Ranker
    Rating Rectangle RectangleLabels Relation Relations Repeater Shortcut Style Table Taxonomy
    Text TextArea TimeSeries TimeSeriesLabels Video View
"""
EDITOR_TAGS: dict[str, dict[str, str]] = {
    version: {tag.lower(): tag for tag in names.split()}
    for version, names in (("1.23", _EDITOR_1_23), ("1.4", _EDITOR_1_4))
}
EDITOR_NAMES: dict[str, str] = {
    "1.23": "Label Studio 1.23.2's editor",
    "1.4": "the Label Studio Frontend 1.4.0 editor (LABELHUB_EDITOR=1.4)",
}
