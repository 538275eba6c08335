"""Video object tracks (``videorectangle`` results): the box on every frame.

A track's ``value.sequence`` holds keyframes ``{frame, enabled, x, y, width, height,
rotation, time}``. The editor shows the box on each frame between two keyframes by linear
interpolation from the earlier one, and from an enabled keyframe with no later one to the
video's end (``framesCount``); a keyframe with ``enabled: false`` ends the track there
until the next keyframe. Exports (Label Studio's ``interpolate_key_frames``) and agreement
(IoU frame by frame) both read tracks through here.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

GEOMETRY = ("x", "y", "width", "height", "rotation")


def _number(item: dict, key: str) -> float:
    value = item.get(key, 0)
    return value if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _keyframes(value: dict) -> list[dict]:
    sequence = value.get("sequence") if isinstance(value, dict) else None
    frames = [
        item
        for item in (sequence if isinstance(sequence, list) else ())
        if isinstance(item, dict) and isinstance(item.get("frame"), int | float)
    ]
    return sorted(frames, key=lambda item: item["frame"])


def track_boxes(value: dict, *, frames_count: int | None = None) -> dict[int, tuple[float, ...]]:
    """``{frame: (x, y, width, height, rotation)}`` for every frame the track is shown on.
    From an enabled keyframe up to the frame before the next keyframe the box moves
    linearly toward that keyframe; after the last enabled keyframe it stays until the
    video's end (``frames_count``, default the value's ``framesCount``; without either
    the track ends at its last keyframe)."""
    keyframes = _keyframes(value)
    end = frames_count if frames_count is not None else int(_number(value, "framesCount"))
    boxes: dict[int, tuple[float, ...]] = {}
    for index, first in enumerate(keyframes):
        if first.get("enabled", True) is False:
            continue
        start = int(first["frame"])
        a = [_number(first, key) for key in GEOMETRY]
        following = keyframes[index + 1] if index + 1 < len(keyframes) else None
        if following is None:
            for frame in range(start, max(end, start) + 1):
                boxes[frame] = tuple(a)
            continue
        stop = int(following["frame"])
        b = [_number(following, key) for key in GEOMETRY]
        for frame in range(start, stop):
            share = (frame - start) / (stop - start)
            boxes[frame] = tuple(x + share * (y - x) for x, y in zip(a, b, strict=True))
    return boxes


def _between(
    first: dict, second: dict | None, frames_count: int, duration: float, skip_first: bool
):
    """Label Studio's ``_construct_result_from_frames`` (label-studio-sdk
    ``postprocessing/video.py``): the frames after ``first`` up to ``second`` (or to the
    video's end), each a copy of ``first`` moved by the share of the way, ``auto``."""
    if first.get("enabled", True) is False:
        return []
    second = second or {}
    if second:
        if first["frame"] > second["frame"]:
            return []
        count = int(second["frame"] - first["frame"] + 1)
    else:
        count = int(frames_count - first["frame"] + 1)
    made = []
    for i in range(1 if skip_first else 0, count):
        frame = i + first["frame"]
        share = i / max(1, count - 1)
        deltas = {}
        for key in (*GEOMETRY, "time"):
            a, b = _number(first, key), second.get(key)
            deltas[key] = 0 if (not second or a == b) else (_number(second, key) - a) * share
        item = deepcopy(first)
        for key in GEOMETRY:
            item[key] = _number(first, key) + deltas[key]
        item["frame"] = frame
        item["time"] = round(_number(first, "time") + deltas["time"], 2)
        if frame not in (first.get("frame"), second.get("frame")):
            item["auto"] = True
            if deltas["time"] == 0 and duration > 0:
                item["time"] = round(
                    _number(first, "time") + share * (duration - _number(first, "time")), 2
                )
            made.append(item)
    return made


def extract_key_frames(results: list[Any]) -> list[Any]:
    """Label Studio's export with ``interpolate_key_frames``: each ``videorectangle``
    result's sequence gets one item for every interpolated frame (``"auto": true``) next
    to its keyframes, sorted by frame; other results pass unchanged. The same output as
    label-studio-sdk's ``extract_key_frames`` (tests/annotations/test_video.py), but a
    keyframe missing ``rotation``, ``time`` or ``enabled`` (imported results may) reads
    as 0, 0 and true instead of failing."""
    out: list[Any] = []
    for result in results:
        if not isinstance(result, dict) or str(result.get("type", "")).lower() != "videorectangle":
            out.append(result)
            continue
        value = result.get("value") if isinstance(result.get("value"), dict) else {}
        keyframes = _keyframes(value)
        if not keyframes:
            continue
        made = deepcopy(result)
        frames_count = _number(value, "framesCount")
        duration = _number(value, "duration")
        skip_first = False
        extra: list[dict] = []
        for index, first in enumerate(keyframes):
            second = keyframes[index + 1] if index + 1 < len(keyframes) else None
            extra.extend(_between(first, second, frames_count, duration, skip_first))
            skip_first = first.get("enabled", True) is not False
        made["value"]["sequence"] = sorted(
            [item for item in made["value"]["sequence"] if isinstance(item, dict)] + extra,
            key=lambda item: item.get("frame", 0),
        )
        out.append(made)
    return out
