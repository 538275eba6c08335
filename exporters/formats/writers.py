"""Format name -> writer ``(ctx, tasks) -> Iterator[bytes]``."""

from dataclasses import replace

from exporters.formats import brush_coco, media, text, vision


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
    "BRUSH_TO_NUMPY": media.write_brush_numpy,
    "BRUSH_TO_PNG": media.write_brush_png,
    "BRUSH_TO_COCO": brush_coco.write_brush_coco,
    "ASR_MANIFEST": media.write_asr_manifest,
}
