"""Agreement between two result lists for the same task, one comparison per control type.

``compare(a, b)`` groups both lists by ``from_name`` and scores each control in [0, 1]:

=====================================================  ==========================================
result types                                           score
=====================================================  ==========================================
choices                                                Jaccard of the chosen sets (single choice:
                                                       1 when equal, else 0)
labels, hypertextlabels, paragraphlabels,              F1 over (start, end, label); exact spans,
timeserieslabels (spans)                               or interval IoU >= 0.5 with
                                                       ``span_partial=True``
rectangle(labels), ocrlabels, polygon(labels),         regions matched one to one by IoU
ellipse(labels), brush(labels)                         (Hungarian matching, IoU >= 0.5), a match
                                                       counts when the labels are equal; then F1
keypoint(labels)                                       matched within 2% of the image diagonal,
                                                       same label; then F1
videorectangle (video tracks)                          tracks matched one to one by their IoU over
                                                       frames (the mean, over every frame either
                                                       track shows a box, of the two boxes' IoU
                                                       on that frame, keyframes interpolated as
                                                       the editor does; a frame only one track
                                                       covers counts 0), IoU >= 0.5 and equal
                                                       labels; then F1
timelinelabels (video/audio timeline spans)            F1 over (frame range, label), exact ranges,
                                                       or frame-interval IoU >= 0.5 with
                                                       ``span_partial=True``
textarea                                               1 - normalized Levenshtein distance of the
                                                       trimmed texts
rating, number                                         equal, or within a per-control tolerance
taxonomy                                               Jaccard of the chosen paths
datetime                                               equal
=====================================================  ==========================================

The pair's score is the mean over the controls present in either list, so a control one
annotator left empty scores 0 for that control. Two empty lists agree (1.0). Result types
not in the table (``relation``, ``ranker``, ``pairwise``, ...) are named
in ``Comparison.unsupported`` and left out of the mean; when nothing scorable remains the
score is ``None``, never a silent 1.

Coordinates are Label Studio's percentages. When a result carries ``original_width`` and
``original_height`` the geometry is scaled to pixels first, so rotated shapes and the
keypoint diagonal are measured as the annotator saw them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz.distance import Levenshtein
from scipy.optimize import linear_sum_assignment
from shapely import affinity
from shapely.geometry import Point, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.validation import make_valid

from annotations.video import track_boxes

IOU_THRESHOLD = 0.5
SPAN_OVERLAP = 0.5
KEYPOINT_DIAGONAL_SHARE = 0.02

CHOICE_TYPES = frozenset({"choices"})
SPAN_TYPES = frozenset({"labels", "hypertextlabels", "paragraphlabels", "timeserieslabels"})
SHAPE_TYPES = frozenset(
    {
        "rectangle",
        "rectanglelabels",
        "ocrlabels",
        "polygon",
        "polygonlabels",
        "ellipse",
        "ellipselabels",
    }
)
BRUSH_TYPES = frozenset({"brush", "brushlabels"})
KEYPOINT_TYPES = frozenset({"keypoint", "keypointlabels"})
SCALAR_TYPES = frozenset({"rating", "number"})
TRACK_TYPES = frozenset({"videorectangle"})
TIMELINE_TYPES = frozenset({"timelinelabels"})
SUPPORTED_TYPES = (
    TRACK_TYPES
    | TIMELINE_TYPES
    | CHOICE_TYPES
    | SPAN_TYPES
    | SHAPE_TYPES
    | BRUSH_TYPES
    | KEYPOINT_TYPES
    | SCALAR_TYPES
    | {"textarea", "taxonomy", "datetime"}
)


@dataclass(frozen=True)
class Options:
    """Knobs of the comparison. ``tolerance`` maps a Rating/Number control's name to the
    largest difference still counted as agreement (default 0: equal)."""

    iou_threshold: float = IOU_THRESHOLD
    span_partial: bool = False
    keypoint_share: float = KEYPOINT_DIAGONAL_SHARE
    tolerance: dict[str, float] = field(default_factory=dict)


DEFAULT_OPTIONS = Options()


@dataclass
class Comparison:
    """``score`` is the mean of ``controls`` (None when no control could be scored)."""

    score: float | None
    controls: dict[str, float]
    unsupported: list[str]


def compare(a: Sequence[dict], b: Sequence[dict], options: Options = DEFAULT_OPTIONS) -> Comparison:
    """Score two result lists of the same task against each other."""
    groups_a, groups_b = _group(a), _group(b)
    controls: dict[str, float] = {}
    unsupported: set[str] = set()
    for name in sorted(set(groups_a) | set(groups_b), key=str):
        items_a, items_b = groups_a.get(name, []), groups_b.get(name, [])
        kind = _type(items_a[0] if items_a else items_b[0])
        scorer = _SCORERS.get(_family(kind))
        if scorer is None:
            unsupported.add(kind or "(no type)")
            continue
        if not items_a or not items_b:
            controls[name] = 0.0
            continue
        controls[name] = float(scorer(items_a, items_b, name, options))
    if controls:
        score = sum(controls.values()) / len(controls)
    else:
        score = None if unsupported else 1.0
    return Comparison(score=score, controls=controls, unsupported=sorted(unsupported))


def score(a: Sequence[dict], b: Sequence[dict], options: Options = DEFAULT_OPTIONS) -> float | None:
    return compare(a, b, options).score


def mean_pairwise(results: Sequence[Sequence[dict]], options: Options = DEFAULT_OPTIONS):
    """Mean of ``score`` over every unordered pair (None below two lists or when no pair
    could be scored)."""
    scores = [
        s for x, y in itertools.combinations(results, 2) if (s := score(x, y, options)) is not None
    ]
    return sum(scores) / len(scores) if scores else None


# ----------------------------------------------------------------------------- grouping


def _type(item: dict) -> str:
    return str(item.get("type") or "").lower()


def _family(kind: str) -> str | None:
    for family, types in _FAMILIES:
        if kind in types:
            return family
    return None


def _group(results: Iterable[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for item in results or ():
        if not isinstance(item, dict):
            continue
        # Relations have no from_name; they are grouped under their type and named unsupported.
        name = item.get("from_name") or f"({_type(item) or 'untyped'})"
        groups.setdefault(name, []).append(item)
    return groups


def _value(item: dict) -> dict:
    value = item.get("value")
    return value if isinstance(value, dict) else {}


def _labels(item: dict) -> frozenset[str]:
    """The labels chosen on a region: the list under the result's type, or ``labels``."""
    value = _value(item)
    chosen = value.get(_type(item))
    if not isinstance(chosen, list):
        chosen = value.get("labels")
    return frozenset(str(x) for x in chosen) if isinstance(chosen, list) else frozenset()


def _jaccard(a: set, b: set) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


# ----------------------------------------------------------------------------- matching


def _matched_f1(n_a: int, n_b: int, similarity: np.ndarray, ok: np.ndarray) -> float:
    """F1 of a one-to-one matching: 2 * matches / (n_a + n_b).

    The Hungarian algorithm maximizes first the number of acceptable pairs (``ok``), then
    their total similarity: each acceptable pair weighs ``n + similarity`` with ``n`` larger
    than any possible similarity sum of one pair fewer.
    """
    if n_a == 0 and n_b == 0:
        return 1.0
    if n_a == 0 or n_b == 0:
        return 0.0
    big = min(n_a, n_b) + 1
    weight = np.where(ok, big + similarity, 0.0)
    rows, cols = linear_sum_assignment(weight, maximize=True)
    matches = int(ok[rows, cols].sum())
    return 2 * matches / (n_a + n_b)


def _pairwise(a: list, b: list, fn: Callable) -> np.ndarray:
    return np.array([[fn(x, y) for y in b] for x in a], dtype=float).reshape(len(a), len(b))


# ----------------------------------------------------------------------------- scorers


def _score_choices(a, b, name, options) -> float:
    def chosen(items):
        return {str(c) for item in items for c in (_value(item).get("choices") or [])}

    return _jaccard(chosen(a), chosen(b))


def _score_taxonomy(a, b, name, options) -> float:
    def paths(items):
        return {
            tuple(str(p) for p in path) if isinstance(path, list) else (str(path),)
            for item in items
            for path in (_value(item).get("taxonomy") or [])
        }

    return _jaccard(paths(a), paths(b))


def _score_datetime(a, b, name, options) -> float:
    def values(items):
        return sorted(str(_value(item).get("datetime")) for item in items)

    return float(values(a) == values(b))


def _score_scalar(a, b, name, options) -> float:
    tolerance = float(options.tolerance.get(name, 0))

    def values(items):
        out = []
        for item in items:
            value = _value(item)
            number = value.get("rating", value.get("number"))
            out.append(float(number) if isinstance(number, int | float) else math.nan)
        return sorted(out)

    va, vb = values(a), values(b)
    if len(va) != len(vb):
        return 0.0
    return float(all(abs(x - y) <= tolerance for x, y in zip(va, vb, strict=True)))


def _score_textarea(a, b, name, options) -> float:
    def text(items):
        parts = []
        for item in items:
            value = _value(item).get("text")
            parts.extend(value if isinstance(value, list) else [value or ""])
        return "\n".join(str(p).strip() for p in parts).strip()

    return 1.0 - Levenshtein.normalized_distance(text(a), text(b))


def _span_units(items: list[dict]) -> list[tuple]:
    """One (start, end, startOffset, endOffset, label) per chosen label of each span."""
    units = []
    for item in items:
        value = _value(item)
        span = (
            value.get("start"),
            value.get("end"),
            value.get("startOffset"),
            value.get("endOffset"),
        )
        for label in sorted(_labels(item)) or [""]:
            units.append((*span, label))
    return units


def _interval(unit: tuple) -> tuple[float, float] | None:
    start, end, start_offset, end_offset, _ = unit
    if isinstance(start, int | float) and isinstance(end, int | float):
        return float(start), float(end)
    if isinstance(start_offset, int | float) and isinstance(end_offset, int | float):
        return float(start_offset), float(end_offset)
    return None


def _span_overlap(x: tuple, y: tuple) -> float:
    """Interval IoU of two spans. Spans addressed by XPath or paragraph index compare their
    offsets only when both start in the same node and end in the same node."""
    if x[:4] == y[:4]:
        return 1.0
    if not isinstance(x[0], int | float) and (x[0], x[1]) != (y[0], y[1]):
        return 0.0
    ix, iy = _interval(x), _interval(y)
    if ix is None or iy is None:
        return 0.0
    inter = min(ix[1], iy[1]) - max(ix[0], iy[0])
    union = max(ix[1], iy[1]) - min(ix[0], iy[0])
    if inter <= 0 or union <= 0:
        return 0.0
    return inter / union


def _score_spans(a, b, name, options) -> float:
    ua, ub = _span_units(a), _span_units(b)
    overlap = _pairwise(ua, ub, _span_overlap)
    same_label = _pairwise(ua, ub, lambda x, y: x[4] == y[4]).astype(bool)
    if options.span_partial:
        ok = (overlap >= SPAN_OVERLAP) & same_label
    else:
        ok = (overlap >= 1.0) & same_label
    return _matched_f1(len(ua), len(ub), overlap, ok)


def _scale(item: dict) -> tuple[float, float]:
    """Percent -> pixels when the result knows its image size."""
    width, height = item.get("original_width"), item.get("original_height")
    if isinstance(width, int | float) and isinstance(height, int | float) and width and height:
        return width / 100.0, height / 100.0
    return 1.0, 1.0


def _shape(item: dict) -> BaseGeometry | None:
    value, kind = _value(item), _type(item)
    sx, sy = _scale(item)
    rotation = float(value.get("rotation") or 0)
    try:
        if kind.startswith("polygon"):
            points = value.get("points") or []
            geometry = Polygon([(float(x) * sx, float(y) * sy) for x, y in points])
            return geometry if geometry.is_valid else make_valid(geometry)
        x, y = float(value["x"]) * sx, float(value["y"]) * sy
        if kind.startswith("ellipse"):
            rx, ry = float(value["radiusX"]) * sx, float(value["radiusY"]) * sy
            geometry = affinity.scale(Point(x, y).buffer(1.0, quad_segs=64), rx, ry)
        else:  # rectangle, ocrlabels: rotated around the top-left corner, as Label Studio does
            w, h = float(value["width"]) * sx, float(value["height"]) * sy
            geometry = box(x, y, x + w, y + h)
        # Image y points down, so shapely's counter-clockwise turn is the editor's clockwise.
        return affinity.rotate(geometry, rotation, origin=(x, y)) if rotation else geometry
    except (KeyError, TypeError, ValueError):
        return None


def _iou(x: BaseGeometry | None, y: BaseGeometry | None) -> float:
    if x is None or y is None or x.is_empty or y.is_empty:
        return 0.0
    union = x.union(y).area
    return x.intersection(y).area / union if union > 0 else 0.0


def _regions_f1(a: list, b: list, iou: np.ndarray, options: Options) -> float:
    same_label = _pairwise(a, b, lambda x, y: _labels(x) == _labels(y)).astype(bool)
    ok = (iou >= options.iou_threshold) & same_label
    return _matched_f1(len(a), len(b), iou, ok)


def _score_shapes(a, b, name, options) -> float:
    shapes_a, shapes_b = [_shape(x) for x in a], [_shape(y) for y in b]
    return _regions_f1(a, b, _pairwise(shapes_a, shapes_b, _iou), options)


def _mask(item: dict) -> np.ndarray | None:
    """The brush region's pixels (alpha > 0) from Label Studio's RLE, or None."""
    value = _value(item)
    rle = value.get("rle")
    width, height = item.get("original_width"), item.get("original_height")
    if not isinstance(rle, list) or not rle or not width or not height:
        return None
    try:
        pixels = rle_decode(rle)
    except (ValueError, IndexError):
        return None
    if pixels.size != int(width) * int(height) * 4:
        return None
    return pixels.reshape(int(height), int(width), 4)[:, :, 3] > 0


def _mask_iou(x: np.ndarray | None, y: np.ndarray | None) -> float:
    if x is None or y is None or x.shape != y.shape:
        return 0.0
    union = np.count_nonzero(x | y)
    return np.count_nonzero(x & y) / union if union else 0.0


def _score_brush(a, b, name, options) -> float:
    masks_a, masks_b = [_mask(x) for x in a], [_mask(y) for y in b]
    return _regions_f1(a, b, _pairwise(masks_a, masks_b, _mask_iou), options)


def _point(item: dict) -> tuple[float, float, float] | None:
    """(x, y, diagonal) in pixels when the image size is known, else in percent."""
    value = _value(item)
    sx, sy = _scale(item)
    try:
        x, y = float(value["x"]) * sx, float(value["y"]) * sy
    except (KeyError, TypeError, ValueError):
        return None
    return x, y, math.hypot(100.0 * sx, 100.0 * sy)


def _score_keypoints(a, b, name, options) -> float:
    points_a, points_b = [_point(x) for x in a], [_point(y) for y in b]

    def closeness(p, q) -> float:
        if p is None or q is None:
            return 0.0
        limit = options.keypoint_share * max(p[2], q[2])
        distance = math.hypot(p[0] - q[0], p[1] - q[1])
        return 1.0 - distance / limit if distance <= limit and limit > 0 else -1.0

    near = _pairwise(points_a, points_b, closeness)
    same_label = _pairwise(a, b, lambda x, y: _labels(x) == _labels(y)).astype(bool)
    return _matched_f1(len(a), len(b), np.clip(near, 0, 1), (near >= 0) & same_label)


def _track_iou(x: dict[int, tuple], y: dict[int, tuple]) -> float:
    """Mean per-frame IoU over every frame either track shows a box on."""
    frames = set(x) | set(y)
    if not frames:
        return 0.0
    total = 0.0
    for frame in frames:
        if frame in x and frame in y:
            total += _iou(_track_box(x[frame]), _track_box(y[frame]))
    return total / len(frames)


def _track_box(box_: tuple) -> BaseGeometry:
    x, y, width, height, rotation = box_
    geometry = box(x, y, x + width, y + height)
    return affinity.rotate(geometry, rotation, origin=(x, y)) if rotation else geometry


def _score_tracks(a, b, name, options) -> float:
    tracks_a = [track_boxes(_value(item)) for item in a]
    tracks_b = [track_boxes(_value(item)) for item in b]
    return _regions_f1(a, b, _pairwise(tracks_a, tracks_b, _track_iou), options)


def _timeline_units(items: list[dict]) -> list[tuple]:
    """One (start, end, label) per range and chosen label of each timeline region."""
    units = []
    for item in items:
        ranges = _value(item).get("ranges")
        for span in ranges if isinstance(ranges, list) else ():
            if not isinstance(span, dict):
                continue
            start, end = span.get("start"), span.get("end")
            if not isinstance(start, int | float) or not isinstance(end, int | float):
                continue
            for label in sorted(_labels(item)) or [""]:
                units.append((float(start), float(end), label))
    return units


def _frames_overlap(x: tuple, y: tuple) -> float:
    """IoU of two inclusive frame ranges (a one-frame range is one frame long)."""
    inter = min(x[1], y[1]) - max(x[0], y[0]) + 1
    union = max(x[1], y[1]) - min(x[0], y[0]) + 1
    return inter / union if inter > 0 and union > 0 else 0.0


def _score_timeline(a, b, name, options) -> float:
    ua, ub = _timeline_units(a), _timeline_units(b)
    overlap = _pairwise(ua, ub, _frames_overlap)
    same_label = _pairwise(ua, ub, lambda x, y: x[2] == y[2]).astype(bool)
    threshold = SPAN_OVERLAP if options.span_partial else 1.0
    return _matched_f1(len(ua), len(ub), overlap, (overlap >= threshold) & same_label)


_FAMILIES: tuple[tuple[str, frozenset[str]], ...] = (
    ("tracks", TRACK_TYPES),
    ("timeline", TIMELINE_TYPES),
    ("choices", CHOICE_TYPES),
    ("spans", SPAN_TYPES),
    ("shapes", SHAPE_TYPES),
    ("brush", BRUSH_TYPES),
    ("keypoints", KEYPOINT_TYPES),
    ("scalar", SCALAR_TYPES),
    ("textarea", frozenset({"textarea"})),
    ("taxonomy", frozenset({"taxonomy"})),
    ("datetime", frozenset({"datetime"})),
)
_SCORERS: dict[str | None, Callable] = {
    "tracks": _score_tracks,
    "timeline": _score_timeline,
    "choices": _score_choices,
    "spans": _score_spans,
    "shapes": _score_shapes,
    "brush": _score_brush,
    "keypoints": _score_keypoints,
    "scalar": _score_scalar,
    "textarea": _score_textarea,
    "taxonomy": _score_taxonomy,
    "datetime": _score_datetime,
}


# ----------------------------------------------------------------------------- brush RLE


def rle_decode(rle: Sequence[int]) -> np.ndarray:
    """Decode Label Studio's brush RLE (the ``@thi.ng/rle-pack`` bit stream the editor
    writes) into a flat uint8 RGBA array. Header: 32-bit value count, 5-bit word size - 1,
    four 4-bit run-length widths - 1; then runs: 1 bit repeat flag, 2 bits width index,
    the run length - 1, and one word (repeat) or that many words (literal)."""
    bits = np.unpackbits(np.asarray(rle, dtype=np.uint8))
    position = 0

    def read(width: int) -> int:
        nonlocal position
        chunk = bits[position : position + width]
        if len(chunk) < width:
            raise ValueError("brush RLE ends early")
        position += width
        out = 0
        for bit in chunk:
            out = (out << 1) | int(bit)
        return out

    count = read(32)
    word = read(5) + 1
    widths = [read(4) + 1 for _ in range(4)]
    out = np.zeros(count, dtype=np.uint8)
    i = 0
    while i < count:
        repeat = read(1)
        j = min(count, i + 1 + read(widths[read(2)]))
        if repeat:
            out[i:j] = read(word)
            i = j
        else:
            while i < j:
                out[i] = read(word)
                i += 1
    return out
