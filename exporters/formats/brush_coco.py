"""BRUSH_TO_COCO: brush masks (and polygons and rectangles) as COCO, the converter's rules.

Each brush region's mask (its RLE's alpha channel) becomes one COCO annotation per outer
contour, traced as the converter traces it (OpenCV ``findContours``, external contours,
simple chain approximation: the same points, box and area). Polygons become one
annotation each (points rounded to pixels), rectangles a box. Images are numbered by
converter item (an item without an image path or any region still takes its number),
and an image is listed once it has a size and a region. ``result_coco.json`` is written
from temporary files, so memory stays flat.
"""

import hashlib
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime

import numpy as np
import orjson

from exporters.formats.context import WriterContext
from exporters.formats.items import task_items
from exporters.formats.media import decode_rle
from exporters.formats.zipstream import ZipStream

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp")


def _color(name: str) -> str:
    """A stable colour per category (the converter picks a random one)."""
    return "#" + hashlib.sha256(name.encode()).hexdigest()[:6]


def mask_contours(rle, width: int, height: int) -> list[tuple[list[int], list[int], int]]:
    """``(segmentation, bbox, area)`` for each outer contour of the mask with 3+ points."""
    try:
        # The RLE's first 32 bits give its length: a mask of another size is refused
        # before anything that size is allocated.
        if int.from_bytes(bytes(rle[:4]), "big") != width * height * 4:
            return []
        alpha = decode_rle(rle).reshape([height, width, 4])[:, :, 3].astype("uint8")
    except (ValueError, TypeError, IndexError, OverflowError):
        return []
    import cv2  # OpenCV: loaded by the first BRUSH_TO_COCO export, not at start

    contours, _ = cv2.findContours(alpha, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out = []
    for contour in contours:
        if len(contour) < 3:
            continue
        flat = [int(c) for point in contour for c in point[0]]
        x, y, w, h = cv2.boundingRect(contour)
        out.append((flat, [int(x), int(y), int(w), int(h)], int(cv2.contourArea(contour))))
    return out


def polygon_shape(points, width: int, height: int) -> tuple[list[int], list[int], int]:
    import cv2

    pixels = [[round(x * width / 100), round(y * height / 100)] for x, y in points]
    contour = np.array(pixels, dtype=np.float32).reshape((-1, 1, 2))
    bbox = [int(c) for c in cv2.boundingRect(contour)]
    return [c for point in pixels for c in point], bbox, int(cv2.contourArea(contour))


def _image_path(item: dict) -> str | None:
    for value in (item["input"] or {}).values():
        if isinstance(value, str) and value.lower().endswith(IMAGE_EXTENSIONS):
            return value
    return None


def _labels(region: dict) -> tuple[list, str] | None:
    for key in ("brushlabels", "polygonlabels", "rectanglelabels", "labels"):
        if key in region:
            return region[key] or [], key
    return None


def write_brush_coco(ctx: WriterContext, tasks: Iterator[dict]) -> Iterator[bytes]:
    archive = ZipStream()
    images_file = tempfile.TemporaryFile()
    annotations_file = tempfile.TemporaryFile()
    counts = {"images": 0, "annotations": 0, "items": 0}
    categories: list[dict] = []
    category_ids: dict[str, int] = {}

    def add(handle, key: str, body: dict) -> None:
        handle.write((b",\n" if counts[key] else b"\n") + orjson.dumps(body))
        counts[key] += 1

    for task in tasks:
        for item in task_items(task, ctx.schema, by=ctx.annotator):
            image_id = counts["items"]
            counts["items"] += 1
            path = _image_path(item)
            if path is None or not item["output"]:
                continue
            width = height = None
            found = False
            who = "unknown" if item["completed_by"] is None else str(item["completed_by"])
            for regions in item["output"].values():
                for region in regions:
                    if width is None and "original_width" in region:
                        width, height = region["original_width"], region.get("original_height")
                    labeled = _labels(region)
                    if labeled is None:
                        continue
                    names, kind = labeled
                    for name in names:
                        if name not in category_ids:
                            category_ids[name] = len(categories) + 1
                            categories.append(
                                {
                                    "id": category_ids[name],
                                    "name": name,
                                    "supercategory": "",
                                    "color": _color(str(name)),
                                    "metadata": {},
                                }
                            )
                        base = {"image_id": image_id, "category_id": category_ids[name]}
                        sized = "original_width" in region and "original_height" in region
                        shapes: list[dict] = []
                        if "rle" in region and kind == "brushlabels":
                            if not sized:
                                continue
                            for segmentation, bbox, area in mask_contours(
                                region["rle"], region["original_width"], region["original_height"]
                            ):
                                shapes.append(
                                    {"segmentation": [segmentation], "area": area, "bbox": bbox}
                                )
                        elif "points" in region and kind == "polygonlabels":
                            if not sized:
                                continue
                            segmentation, bbox, area = polygon_shape(
                                region["points"],
                                region["original_width"],
                                region["original_height"],
                            )
                            shapes.append(
                                {"segmentation": [segmentation], "area": area, "bbox": bbox}
                            )
                        elif (
                            str(region.get("type", "")).lower() == "rectanglelabels"
                            or kind == "labels"
                        ):
                            if not sized or any(
                                k not in region for k in ("x", "y", "width", "height")
                            ):
                                continue
                            ow, oh = region["original_width"], region["original_height"]
                            x, y = region["x"] * ow / 100, region["y"] * oh / 100
                            w, h = region["width"] * ow / 100, region["height"] * oh / 100
                            shapes.append({"segmentation": [], "area": w * h, "bbox": [x, y, w, h]})
                        for shape in shapes:
                            add(
                                annotations_file,
                                "annotations",
                                {
                                    "id": counts["annotations"],
                                    **base,
                                    "segmentation": shape["segmentation"],
                                    "area": shape["area"],
                                    "bbox": shape["bbox"],
                                    "iscrowd": 0,
                                    "annotator": who,
                                },
                            )
                            found = True
            if width is not None and height is not None and found:
                add(
                    images_file,
                    "images",
                    {
                        "id": image_id,
                        "file_name": os.path.basename(path),
                        "path": path,
                        "width": width,
                        "height": height,
                    },
                )
        if archive.full:
            yield archive.drain()

    now = datetime.now()
    info = {
        "year": now.year,
        "version": "1.0",
        "description": "Exported from LabelHub",
        "contributor": "LabelHub",
        "date_created": str(now),
    }

    def replay(handle) -> Iterator[bytes]:
        handle.seek(0)
        while chunk := handle.read(256 * 1024):
            yield chunk
        handle.close()

    def body() -> Iterator[bytes]:
        yield b'{"images":['
        yield from replay(images_file)
        yield b'\n],"annotations":['
        yield from replay(annotations_file)
        yield b'\n],"categories":' + orjson.dumps(categories)
        yield b',"info":' + orjson.dumps(info) + b"}\n"

    yield from archive.write_iter("result_coco.json", body())
    if ctx.notes.skipped:
        archive.write("notes.json", orjson.dumps(ctx.notes.as_dict(), option=orjson.OPT_INDENT_2))
    yield archive.close()
