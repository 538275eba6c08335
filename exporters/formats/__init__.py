"""Export formats: one writer per format, each streaming bytes with flat memory.

``FORMATS`` lists them in Label Studio's order with the converter's titles and
descriptions; ``supported_formats(schema)`` gates them on the labeling config exactly as
label_studio_sdk's ``Converter._get_supported_formats`` does, so ``/export/formats`` and
the 400 for "a format this config can't give" agree with Label Studio.
"""

from dataclasses import dataclass, field

DOCS = "https://labelstud.io/guide/export.html"


@dataclass(frozen=True)
class FormatInfo:
    name: str
    title: str
    description: str
    anchor: str
    tags: tuple[str, ...] = ()
    archive: bool = False  # a ZIP, else one file
    extension: str = "json"
    content_type: str = "application/json"
    extra: dict = field(default_factory=dict)
    # Written from the converter's items (formats/items.py), which read only a task's id
    # and data and its completions' results and annotators; JSON writes whole tasks.
    from_items: bool = True

    # The writer's option: bundle the tasks' media (the ``*_WITH_IMAGES`` formats).
    with_media: bool = False
    # False: listed as Label Studio lists it, always disabled (LabelHub has no writer).
    available: bool = True
    link: str = ""  # the format's page when it is not in Label Studio's export guide

    def as_api(self, *, disabled: bool) -> dict:
        """Label Studio's entry: ``tags`` only when the format has some, ``disabled``
        only when true (its converter's ``_FORMAT_INFO`` plus ``name``)."""
        out = {
            "title": self.title,
            "description": self.description,
            "link": self.link or f"{DOCS}#{self.anchor}",
        }
        if self.tags:
            out["tags"] = list(self.tags)
        out["name"] = self.name
        if disabled:
            out["disabled"] = True
        return out


_IMAGE_TAGS = ("image segmentation", "object detection")
FORMATS: dict[str, FormatInfo] = {
    f.name: f
    for f in [
        FormatInfo(
            "JSON",
            "JSON",
            "List of items in raw JSON format stored in one JSON file. Use to export both the "
            "data and the annotations for a dataset. It's Label Studio Common Format",
            "JSON",
            from_items=False,
        ),
        FormatInfo(
            "JSON_MIN",
            "JSON-MIN",
            'List of items where only "from_name", "to_name" values from the raw JSON format '
            "are exported. Use to export only the annotations for a dataset.",
            "JSON-MIN",
        ),
        FormatInfo(
            "CSV",
            "CSV",
            "Results are stored as comma-separated values with the column names specified by "
            'the values of the "from_name" and "to_name" fields.',
            "CSV",
            extension="csv",
            content_type="text/csv",
        ),
        FormatInfo(
            "TSV",
            "TSV",
            "Results are stored in tab-separated tabular file with column names specified by "
            '"from_name" "to_name" values',
            "TSV",
            extension="tsv",
            content_type="text/tab-separated-values",
        ),
        FormatInfo(
            "CONLL2003",
            "CONLL2003",
            "Popular format used for the CoNLL-2003 named entity recognition challenge.",
            "CONLL2003",
            ("sequence labeling", "text tagging", "named entity recognition"),
            extension="conll",
            content_type="text/plain",
        ),
        FormatInfo(
            "COCO",
            "COCO",
            "Popular machine learning format used by the COCO dataset for object detection and "
            "image segmentation tasks with polygons and rectangles.",
            "COCO",
            (*_IMAGE_TAGS, "keypoints"),
            archive=True,
        ),
        FormatInfo(
            "COCO_WITH_IMAGES",
            "COCO with Images",
            "COCO format with images downloaded.",
            "COCO",
            (*_IMAGE_TAGS, "keypoints"),
            archive=True,
            with_media=True,
        ),
        FormatInfo(
            "VOC",
            "Pascal VOC XML",
            "Popular XML format used for object detection and polygon image segmentation tasks.",
            "Pascal-VOC-XML",
            _IMAGE_TAGS,
            archive=True,
        ),
        FormatInfo(
            "YOLO",
            "YOLO",
            "Popular TXT format is created for each image file. Each txt file contains "
            "annotations for the corresponding image file, that is object class, object "
            "coordinates, height & width.",
            "YOLO",
            (*_IMAGE_TAGS, "keypoints"),
            archive=True,
        ),
        FormatInfo(
            "YOLO_WITH_IMAGES",
            "YOLO with Images",
            "YOLO format with images downloaded.",
            "YOLO",
            (*_IMAGE_TAGS, "keypoints"),
            archive=True,
            with_media=True,
        ),
        FormatInfo(
            "YOLO_OBB",
            "YOLOv8 OBB",
            "Popular TXT format is created for each image file. Each txt file contains "
            "annotations for the corresponding image file. The YOLO OBB format designates "
            "bounding boxes by their four corner points with coordinates normalized between 0 "
            "and 1, so it is possible to export rotated objects.",
            "YOLO",
            _IMAGE_TAGS,
            archive=True,
        ),
        FormatInfo(
            "YOLO_OBB_WITH_IMAGES",
            "YOLOv8 OBB with Images",
            "YOLOv8 OBB format with images downloaded.",
            "YOLO",
            _IMAGE_TAGS,
            archive=True,
            with_media=True,
        ),
        FormatInfo(
            "BRUSH_TO_NUMPY",
            "Brush labels to NumPy",
            "Export your brush labels as NumPy 2d arrays. Each label outputs as one image.",
            "Brush-labels-to-NumPy-amp-PNG",
            ("image segmentation",),
            archive=True,
        ),
        FormatInfo(
            "BRUSH_TO_PNG",
            "Brush labels to PNG",
            "Export your brush labels as PNG images. Each label outputs as one image.",
            "Brush-labels-to-NumPy-amp-PNG",
            ("image segmentation",),
            archive=True,
        ),
        FormatInfo(
            "ASR_MANIFEST",
            "ASR Manifest",
            "Export audio transcription labels for automatic speech recognition as the JSON "
            "manifest format expected by NVIDIA NeMo models.",
            "ASR-MANIFEST",
            ("speech recognition",),
            archive=True,
        ),
        FormatInfo(
            "BRUSH_TO_COCO",
            "Brush labels to COCO",
            "Export your brush labels as COCO format for segmentation tasks. Converts RLE "
            "encoded masks to COCO polygons.",
            "COCO",
            ("image segmentation", "brush annotations"),
            archive=True,
        ),
        # Label Studio 1.23.2 lists DocLang (label-studio-sdk's converter, which needs the
        # ``doclang`` package LabelHub does not ship); listed here for the same list, and
        # always disabled (docs/compat.md).
        FormatInfo(
            "DOCLANG",
            "DocLang (.dclx)",
            "Package annotations from the Doclang Interface as DocLang OPC archives "
            "(document.xml + page image) for downstream Docling model training.",
            "",
            ("document", "doclang"),
            archive=True,
            available=False,
            link="https://github.com/doclang-project/doclang/blob/main/spec.md"
            "#doclang-archive-format",
        ),
    ]
}


def data_keys(schema: dict[str, dict]) -> list[str]:
    """The data keys the controls' objects read, as the converter collects them."""
    keys: dict[str, None] = {}
    for info in schema.values():
        for obj in info["inputs"]:
            for attr in ("value", "valueList"):
                if obj.get(attr):
                    keys.setdefault(obj[attr], None)
    return list(keys)


def supported_formats(schema: dict[str, dict]) -> set[str]:
    """The converter's gating (label_studio_sdk 2.x ``_get_supported_formats``)."""
    if len(data_keys(schema)) > 1:
        return {"JSON", "JSON_MIN", "CSV", "TSV"}
    outputs: set[str] = set()
    inputs: set[str] = set()
    multi_image = False
    for info in schema.values():
        outputs.add(info["type"])
        for obj in info["inputs"]:
            if obj.get("valueList"):
                multi_image = True
            if obj["type"] == "Text" and obj.get("valueType") == "url":
                continue
            inputs.add(obj["type"])
    out = set(FORMATS)
    image = "Image" in inputs
    if "KeyPointLabels" in outputs and "RectangleLabels" not in outputs:
        out -= {"COCO", "COCO_WITH_IMAGES", "YOLO", "YOLO_WITH_IMAGES"}
    if not ("Text" in inputs and "Labels" in outputs):
        out.discard("CONLL2003")
    if multi_image or not (
        image and ("RectangleLabels" in outputs or ("Rectangle" in outputs and "Labels" in outputs))
    ):
        out.discard("VOC")
    if multi_image or not (
        (image and outputs & {"RectangleLabels", "PolygonLabels", "KeyPointLabels"})
        or ("Labels" in outputs and outputs & {"Rectangle", "PolygonLabels", "KeyPointLabels"})
    ):
        out -= {"COCO", "COCO_WITH_IMAGES", "YOLO", "YOLO_WITH_IMAGES"}
        out -= {"YOLO_OBB", "YOLO_OBB_WITH_IMAGES"}
    if not (
        image
        and (
            "BrushLabels" in outputs
            or "brushlabels" in outputs
            or ("Brush" in outputs and "Labels" in outputs)
        )
    ):
        out -= {"BRUSH_TO_PNG", "BRUSH_TO_NUMPY", "BRUSH_TO_COCO"}
    if not (inputs & {"Audio", "AudioPlus"} and "TextArea" in outputs):
        out.discard("ASR_MANIFEST")
    if "Video" in inputs and "TimelineLabels" in outputs:
        out -= {"YOLO_OBB", "YOLO_OBB_WITH_IMAGES"}
    return {name for name in out if FORMATS[name].available}
