"""Format name -> writer ``(ctx, tasks) -> Iterator[bytes]``."""

from exporters.formats import media, text, vision

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
    "BRUSH_TO_PNG": media.write_brush_png,
    "ASR_MANIFEST": media.write_asr_manifest,
}
