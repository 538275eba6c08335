"""Format name -> writer ``(ctx, tasks) -> Iterator[bytes]``."""

from dataclasses import replace
from importlib import import_module

from exporters.formats import text, vision


def lazy(module: str, name: str):
    """A writer whose module loads at its first use: the brush and audio writers need
    NumPy, which the web process need not load to start."""

    def write(ctx, tasks):
        return getattr(import_module(f"exporters.formats.{module}"), name)(ctx, tasks)

    return write


def with_media(writer):
    """The ``*_WITH_IMAGES`` formats: the writer with the tasks' media bundled."""

    def write(ctx, tasks):
        return writer(replace(ctx, download_resources=True), tasks)

    return write


WRITERS = {
    "JSON": text.write_json,
    "JSON_MIN": text.write_json_min,
    "CSV": text.write_csv,
    "TSV": text.write_tsv,
    "CONLL2003": text.write_conll,
    "COCO": vision.write_coco,
    "VOC": vision.write_voc,
    "YOLO": vision.write_yolo,
    "YOLO_OBB": vision.write_yolo_obb,
    "COCO_WITH_IMAGES": with_media(vision.write_coco),
    "YOLO_WITH_IMAGES": with_media(vision.write_yolo),
    "YOLO_OBB_WITH_IMAGES": with_media(vision.write_yolo_obb),
    "BRUSH_TO_NUMPY": lazy("media", "write_brush_numpy"),
    "BRUSH_TO_PNG": lazy("media", "write_brush_png"),
    "BRUSH_TO_COCO": lazy("brush_coco", "write_brush_coco"),
    "ASR_MANIFEST": lazy("media", "write_asr_manifest"),
}
