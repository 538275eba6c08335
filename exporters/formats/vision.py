"""COCO, Pascal VOC, YOLO and YOLO OBB: ZIP archives written as the tasks stream.

Each follows label_studio_sdk's converter (its numbers, names and file layout), with
these deliberate differences, which tests/exporters/test_converter_oracle.py states too:

- One label/XML file per task, from its newest annotation. The converter writes one per
  annotation to the same path, so its file ends up holding the *oldest* one.
- Two tasks whose images share a file name get ``<name>-<task id>`` instead of the
  second overwriting the first.
- COCO's ``result.json`` lists ``images`` and ``annotations`` first and ``categories``
  last: categories can grow while the tasks stream (labels missing from the config), so
  they are known only at the end. Both arrays are spooled to temporary files, not memory.
- Media are read only from this project's uploads through the media storage; anything
  else is named in ``notes.json`` (see resources.py).
"""

import io
import itertools
import math
import os
import tempfile
import xml.dom.minidom
from collections.abc import Iterator
from datetime import datetime

import orjson
from PIL import Image, UnidentifiedImageError

from exporters.formats import data_keys
from exporters.formats.context import WriterContext
from exporters.formats.items import task_items
from exporters.formats.resources import basename_of, read_media
from exporters.formats.zipstream import ZipStream


def categories_from_schema(schema: dict) -> tuple[list[dict], dict[str, int]]:
    """The converter's ``_get_labels``: explicit ``category`` attributes first, then the
    other labels sorted, numbered from the lowest free id."""
    labels: set[str] = set()
    categories: list[dict] = []
    ids: dict[str, int] = {}
    for info in schema.values():
        labels |= set(info["labels"])
        for label, attrs in info["labels_attrs"].items():
            raw = attrs.get("category")
            if raw is None:
                continue
            try:
                category_id = int(raw)
            except (TypeError, ValueError):
                continue
            categories.append({"id": category_id, "name": label})
            ids[label] = category_id
    used = set(ids.values())
    free = (c for c in itertools.count() if c not in used)
    for label, idx in zip(sorted(labels - set(ids)), free, strict=False):
        categories.append({"id": idx, "name": label})
        ids[label] = idx
    return categories, ids


def _keypoint_labels(schema: dict) -> list[str]:
    out: list[str] = []
    for info in schema.values():
        if info["type"] == "KeyPointLabels":
            out.extend(info["labels"])
    return list(dict.fromkeys(out))


def _keypoint_order(schema: dict) -> list[str]:
    block: dict[str, dict] = {}
    for info in schema.values():
        if info["type"] == "KeyPointLabels":
            block.update(info["labels_attrs"])
    pairs, used = [], set()
    for name, attrs in block.items():
        try:
            idx = int(attrs.get("model_index"))
        except (TypeError, ValueError):
            continue
        if idx not in used:
            pairs.append((idx, name))
            used.add(idx)
    return [name for _, name in sorted(pairs)]


def coco_categories(schema: dict) -> tuple[list[dict], dict[str, int]]:
    categories, ids = categories_from_schema(schema)
    keypoints = _keypoint_labels(schema)
    if not keypoints:
        return categories, ids
    kept = [dict(c) for c in categories if c["name"] not in keypoints]
    ids = {c["name"]: c["id"] for c in kept}
    numeric = [c["id"] for c in kept if isinstance(c["id"], int)]
    merged = max(numeric) + 1 if numeric else 0
    kept.append(
        {
            "id": merged,
            "name": "default",
            "supercategory": "default",
            "keypoints": keypoints,
            "skeleton": [],
        }
    )
    for name in keypoints:
        ids[name] = merged
    return kept, ids


def rotated_rectangle(label: dict):
    if "x" not in label or "y" not in label or "width" not in label or "height" not in label:
        return None
    x, y, w, h = label["x"], label["y"], label["width"], label["height"]
    r = label.get("rotation", 0.0)
    if abs(r) > 0:
        alpha = math.atan(h / w)
        beta = math.pi * (r / 180)
        radius = math.sqrt((w / 2) ** 2 + (h / 2) ** 2)
        x0 = x - radius * (math.cos(math.pi - alpha - beta) - math.cos(math.pi - alpha)) + w / 2
        y0 = y + radius * (math.sin(math.pi - alpha - beta) - math.sin(math.pi - alpha)) + h / 2
        thetas = (alpha + beta, math.pi - alpha + beta, math.pi + alpha + beta)
        thetas += (2 * math.pi - alpha + beta,)
        xs = [x0 + radius * math.cos(t) for t in thetas]
        ys = [y0 + radius * math.sin(t) for t in thetas]
        x, y = min(xs), min(ys)
        w, h = max(xs) - x, max(ys) - y
    return x, y, w, h


def polygon_area(xs, ys) -> float:
    n = len(xs)
    total = sum(xs[i] * ys[i - 1] - ys[i] * xs[i - 1] for i in range(n))
    return float(0.5 * abs(total))


def polygon_bbox(xs, ys) -> list[float]:
    x1, y1, x2, y2 = min(xs), min(ys), max(xs), max(ys)
    return [x1, y1, x2 - x1, y2 - y1]


def _image_url(item: dict, key: str):
    value = item["input"].get(key)
    if isinstance(value, list):
        return value[-1] if value else None
    return value


class _Media:
    """Downloads each task's image once into ``images/`` and keeps names unique."""

    def __init__(self, ctx: WriterContext, archive: ZipStream, folder: str = "images"):
        self.ctx = ctx
        self.archive = archive
        self.folder = folder
        self.names: set[str] = set()
        self.last: tuple[int, dict] | None = None

    def unique(self, name: str, task_id: int) -> str:
        if name in self.names:
            stem, ext = os.path.splitext(name)
            name = f"{stem}-{task_id}{ext}"
        self.names.add(name)
        return name

    def fetch(self, task_id: int, url) -> dict:
        """``{"path", "width", "height", "channels"}`` for the task's image."""
        if self.last and self.last[0] == task_id:
            return self.last[1]
        info: dict = {"path": url, "width": None, "height": None, "channels": 3}
        if self.ctx.download_resources:
            media = read_media(self.ctx.project_id, url, task_id=task_id, notes=self.ctx.notes)
            if media is not None:
                name, body = media
                path = self.archive.write(f"{self.folder}/{self.unique(name, task_id)}", body)
                info["path"] = path
                try:
                    with Image.open(io.BytesIO(body)) as image:
                        info["width"], info["height"] = image.size
                        info["channels"] = len(image.getbands())
                except (UnidentifiedImageError, OSError):
                    self.ctx.notes.add(task_id, f"{url!r} is not an image")
        self.last = (task_id, info)
        return info


_LABEL_KINDS = ("rectanglelabels", "polygonlabels", "keypointlabels", "labels")


def write_coco(ctx: WriterContext, tasks: Iterator[dict]) -> Iterator[bytes]:
    archive = ZipStream()
    media = _Media(ctx, archive)
    key = data_keys(ctx.schema)[0]
    categories, category_ids = coco_categories(ctx.schema)
    kp_order = _keypoint_order(ctx.schema)
    images_file = tempfile.TemporaryFile()
    annotations_file = tempfile.TemporaryFile()
    counts = {"images": 0, "annotations": 0}

    def add_image(width, height, image_id, path):
        images_file.write(
            (b",\n" if counts["images"] else b"\n")
            + orjson.dumps({"width": width, "height": height, "id": image_id, "file_name": path})
        )
        counts["images"] += 1

    def add_annotation(body: dict):
        annotations_file.write((b",\n" if counts["annotations"] else b"\n") + orjson.dumps(body))
        counts["annotations"] += 1

    for task in tasks:
        for item in task_items(task, ctx.schema, by=ctx.annotator):
            image = media.fetch(item["id"], _image_url(item, key))
            image_id = counts["images"]
            width, height, path = image["width"], image["height"], image["path"]
            if width:
                add_image(width, height, image_id, path)
            if not item["output"]:
                if not width:
                    add_image(width, height, image_id, path)
                continue
            labels = [v for values in item["output"].values() for v in values]
            keypoints = []
            for label in labels:
                for kind in _LABEL_KINDS:
                    names = label.get(kind)
                    if names:
                        break
                else:
                    continue
                if not height or not width:
                    if "original_width" not in label or "original_height" not in label:
                        continue
                    width, height = label["original_width"], label["original_height"]
                    add_image(width, height, image_id, path)
                name = names[0]
                if name not in category_ids:
                    category_ids[name] = len(categories)
                    categories.append({"id": len(categories), "name": name})
                category_id = category_ids[name]
                annotation_id = counts["annotations"]
                if "rectanglelabels" in label or "labels" in label:
                    xywh = rotated_rectangle(label)
                    if xywh is None:
                        continue
                    x, y, w, h = xywh
                    ow, oh = label["original_width"], label["original_height"]
                    x, y, w, h = x * ow / 100, y * oh / 100, w * ow / 100, h * oh / 100
                    add_annotation(
                        {
                            "id": annotation_id,
                            "image_id": image_id,
                            "category_id": category_id,
                            "segmentation": [],
                            "bbox": [x, y, w, h],
                            "ignore": 0,
                            "iscrowd": 0,
                            "area": w * h,
                        }
                    )
                elif "polygonlabels" in label:
                    points = [(px / 100 * width, py / 100 * height) for px, py in label["points"]]
                    xs, ys = zip(*points, strict=True)
                    add_annotation(
                        {
                            "id": annotation_id,
                            "image_id": image_id,
                            "category_id": category_id,
                            "segmentation": [[c for point in points for c in point]],
                            "bbox": polygon_bbox(xs, ys),
                            "ignore": 0,
                            "iscrowd": 0,
                            "area": polygon_area(xs, ys),
                        }
                    )
                elif "keypointlabels" in label:
                    keypoints.append(label)
            if keypoints:
                if not kp_order:
                    ctx.notes.add(item["id"], "key points skipped: no Label has model_index")
                    continue
                add_annotation(_coco_keypoints(keypoints, kp_order, counts, image_id, category_ids))
        if archive.full:
            yield archive.drain()

    now = datetime.now()
    info = {
        "year": now.year,
        "version": "1.0",
        "description": "",
        "contributor": "LabelHub",
        "url": "",
        "date_created": str(now),
    }

    def body() -> Iterator[bytes]:
        yield b'{"images":['
        yield from _replay(images_file)
        yield b'\n],"annotations":['
        yield from _replay(annotations_file)
        yield b'\n],"categories":' + orjson.dumps(categories)
        yield b',"info":' + orjson.dumps(info) + b"}\n"

    yield from archive.write_iter("result.json", body())
    archive.write("notes.json", orjson.dumps(ctx.notes.as_dict(), option=orjson.OPT_INDENT_2))
    yield archive.close()


def _coco_keypoints(labels, kp_order, counts, image_id, category_ids) -> dict:
    keypoints = [0] * (len(kp_order) * 3)
    for kp in labels:
        x = kp["x"] / 100 * kp["original_width"]
        y = kp["y"] / 100 * kp["original_height"]
        names = kp.get("keypointlabels", [])
        for name in names:
            if name in kp_order:
                idx = kp_order.index(name)
                keypoints[3 * idx : 3 * idx + 3] = [int(round(x)), int(round(y)), 2]
    visible = [i for i in range(len(kp_order)) if keypoints[3 * i + 2] > 0]
    xs = [keypoints[3 * i] for i in visible]
    ys = [keypoints[3 * i + 1] for i in visible]
    bbox = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)] if xs else [0, 0, 0, 0]
    return {
        "id": counts["annotations"],
        "image_id": image_id,
        "category_id": category_ids.get(kp_order[0], 0),
        "keypoints": keypoints,
        "num_keypoints": len(visible),
        "bbox": bbox,
        "iscrowd": 0,
    }


def _replay(handle) -> Iterator[bytes]:
    handle.seek(0)
    while chunk := handle.read(256 * 1024):
        yield chunk
    handle.close()


def yolo_box(label: dict):
    try:
        x, y, w, h = label["x"], label["y"], label["width"], label["height"]
        if None in (x, y, w, h):
            return None
        return (x + w / 2) / 100, (y + h / 2) / 100, w / 100, h / 100
    except (KeyError, TypeError):
        return None


def yolo_obb(label: dict):
    needed = ("original_width", "original_height", "x", "y", "width", "height", "rotation")
    if not all(k in label for k in needed):
        return None
    ow, oh = label["original_width"], label["original_height"]
    x, y = label["x"] / 100 * ow, label["y"] / 100 * oh
    w, h = label["width"] / 100 * ow, label["height"] / 100 * oh
    r = math.radians(label.get("rotation", 0))
    cos, sin = math.cos(r), math.sin(r)
    corners = [
        (x, y),
        (x + w * cos, y + w * sin),
        (x + w * cos - h * sin, y + w * sin + h * cos),
        (x - h * sin, y + h * cos),
    ]
    return [(cx / ow, cy / oh) for cx, cy in corners]


def _yolo_lines(labels, categories, category_ids, *, obb: bool) -> list[str]:
    """A line per label name: the class id, then the region's numbers (the same for each
    of a region's names, so they are formatted once)."""
    lines = []
    for label in labels:
        names = [
            n for k in ("rectanglelabels", "polygonlabels", "labels") for n in label.get(k) or []
        ]
        if not names:
            continue
        ids = []
        for name in names:
            if name not in category_ids:
                category_ids[name] = len(categories)
                categories.append({"id": len(categories), "name": name})
            ids.append(category_ids[name])
        if "rectanglelabels" in label or "rectangle" in label or "labels" in label:
            if obb:
                corners = yolo_obb(label)
                if corners is None:
                    continue
                numbers = [c for corner in corners for c in corner]
            else:
                box = yolo_box(label)
                if box is None:
                    continue
                numbers = list(box)
        elif "polygonlabels" in label or "polygon" in label:
            if "points" not in label:
                continue
            numbers = [c / 100 for point in label["points"] for c in point]
        else:
            continue
        tail = " " + " ".join(map(str, numbers)) + "\n" if numbers else "\n"
        lines.extend(f"{category_id}{tail}" for category_id in ids)
    return lines


def _yolo_keypoint_lines(labels, categories, kp_order) -> list[str]:
    class_map = {c["name"]: c["id"] for c in categories}
    boxes: dict = {}
    for item in labels:
        if item["type"].lower() == "rectanglelabels" and item.get("rectanglelabels"):
            idx = class_map.get(item["rectanglelabels"][0])
            if idx is None:
                continue
            x, y = item["x"] / 100.0, item["y"] / 100.0
            w, h = item["width"] / 100.0, item["height"] / 100.0
            boxes[item.get("id")] = {"base": [idx, x + w / 2.0, y + h / 2.0, w, h], "kp": {}}
    for item in labels:
        if item["type"].lower() == "keypointlabels" and item.get("keypointlabels"):
            parent = boxes.get(item.get("parentID"))
            if parent is not None:
                parent["kp"][item["keypointlabels"][0]] = (
                    item["x"] / 100.0,
                    item["y"] / 100.0,
                    2,
                )
    lines = []
    for box in boxes.values():
        values = list(box["base"])
        for name in kp_order:
            values.extend(box["kp"].get(name, (0.0, 0.0, 0)))
        lines.append(" ".join(map(str, values)))
    return ["\n".join(lines)] if lines else []


def write_yolo(ctx: WriterContext, tasks: Iterator[dict], *, obb: bool = False) -> Iterator[bytes]:
    archive = ZipStream()
    media = _Media(ctx, archive)
    key = data_keys(ctx.schema)[0]
    keypoint_mode = bool(_keypoint_labels(ctx.schema))
    if keypoint_mode:
        points = _keypoint_labels(ctx.schema)
        rects = list(
            dict.fromkeys(
                label
                for info in ctx.schema.values()
                if info["type"] == "RectangleLabels"
                for label in info["labels"]
            )
        )
        categories = [{"id": i, "name": n, "keypoints": points} for i, n in enumerate(rects)]
        category_ids = {n: i for i, n in enumerate(rects)}
    else:
        categories, category_ids = categories_from_schema(ctx.schema)
    kp_order = _keypoint_order(ctx.schema)
    labels_seen: set[str] = set()
    for task in tasks:
        items = task_items(task, ctx.schema, by=ctx.annotator)
        item = next(iter(items), None)  # the newest annotation (see the module docstring)
        if item is None:
            continue
        url = _image_url(item, key)
        image = media.fetch(item["id"], url)
        stem = os.path.splitext(basename_of(image["path"]))[0][: 255 - 4]
        name = f"labels/{stem}.txt"
        if name in labels_seen:
            name = f"labels/{stem}-{item['id']}.txt"
        labels_seen.add(name)
        labels = [v for values in item["output"].values() for v in values]
        if keypoint_mode:
            lines = _yolo_keypoint_lines(labels, categories, kp_order)
        else:
            lines = _yolo_lines(labels, categories, category_ids, obb=obb)
        archive.write(name, "".join(lines).encode())
        if archive.full:
            yield archive.drain()
    archive.write("classes.txt", "".join(c["name"] + "\n" for c in categories).encode())
    notes = {
        "categories": categories,
        "info": {"year": datetime.now().year, "version": "1.0", "contributor": "LabelHub"},
        **ctx.notes.as_dict(),
    }
    archive.write("notes.json", orjson.dumps(notes, option=orjson.OPT_INDENT_2))
    yield archive.close()


def write_yolo_obb(ctx: WriterContext, tasks: Iterator[dict]) -> Iterator[bytes]:
    return write_yolo(ctx, tasks, obb=True)


def _voc_xml(item, labels, *, image_name, folder, channels) -> bytes | None:
    if "original_width" not in labels[0] or "original_height" not in labels[0]:
        return None
    width, height = labels[0]["original_width"], labels[0]["original_height"]
    doc = xml.dom.minidom.getDOMImplementation().createDocument(None, "annotation", None)
    root = doc.documentElement

    def child(tag, text, parent):
        node = doc.createElement(tag)
        node.appendChild(doc.createTextNode(text))
        parent.appendChild(node)

    child("folder", folder, root)
    child("filename", image_name, root)
    source = doc.createElement("source")
    child("database", "MyDatabase", source)
    child("annotation", "COCO2017", source)
    child("image", "flickr", source)
    child("flickrid", "NULL", source)
    who = item["completed_by"]
    child("annotator", "" if who is None else str(who), source)
    root.appendChild(source)
    owner = doc.createElement("owner")
    child("flickrid", "NULL", owner)
    child("name", "Label Studio", owner)
    root.appendChild(owner)
    size = doc.createElement("size")
    child("width", str(width), size)
    child("height", str(height), size)
    child("depth", str(channels), size)
    root.appendChild(size)
    child("segmented", "0", root)
    for box in labels:
        key = (
            "rectanglelabels"
            if "rectanglelabels" in box
            else ("labels" if "labels" in box else None)
        )
        if key is None or not box[key]:
            continue
        x, y = int(box["x"] / 100 * width), int(box["y"] / 100 * height)
        w, h = int(box["width"] / 100 * width), int(box["height"] / 100 * height)
        obj = doc.createElement("object")
        child("name", box[key][0], obj)
        child("pose", "Unspecified", obj)
        child("truncated", "0", obj)
        child("difficult", "0", obj)
        bnd = doc.createElement("bndbox")
        for tag, value in (("xmin", x), ("ymin", y), ("xmax", x + w), ("ymax", y + h)):
            child(tag, str(value), bnd)
        obj.appendChild(bnd)
        root.appendChild(obj)
    out = io.StringIO()
    doc.writexml(out, addindent="", newl="\n", encoding="utf-8")
    return out.getvalue().encode()


def write_voc(ctx: WriterContext, tasks: Iterator[dict]) -> Iterator[bytes]:
    archive = ZipStream()
    media = _Media(ctx, archive)
    key = data_keys(ctx.schema)[0]
    seen: set[str] = set()
    for task in tasks:
        item = next(iter(task_items(task, ctx.schema, by=ctx.annotator)), None)
        if item is None:
            continue
        image = media.fetch(item["id"], _image_url(item, key))
        labels = [v for values in item["output"].values() for v in values]
        if not labels:
            continue
        image_name = basename_of(image["path"])
        body = _voc_xml(
            item, labels, image_name=image_name, folder="images", channels=image["channels"]
        )
        if body is None:
            continue
        name = f"Annotations/{os.path.splitext(image_name)[0]}.xml"
        if name in seen:
            name = f"Annotations/{os.path.splitext(image_name)[0]}-{item['id']}.xml"
        seen.add(name)
        archive.write(name, body)
        if archive.full:
            yield archive.drain()
    archive.write("notes.json", orjson.dumps(ctx.notes.as_dict(), option=orjson.OPT_INDENT_2))
    yield archive.close()
