"""label-studio-sdk's converter is the oracle for every format it has.

Each case builds a project, exports it as JSON through the API, runs the SDK's
Converter over that JSON and compares its output with LabelHub's own export of the same
format, on text, NER, image box, polygon, key point, brush and audio projects.

Where LabelHub differs on purpose, the comparison says why:
- The converter names annotators by ``completed_by["email"]``: LabelHub's JSON expands
  ``completed_by`` to ``{"id", "email", "first_name", "last_name"}`` as Label Studio's
  export does, so the converter reads LabelHub's JSON export as it is.
- CSV/TSV have a column for every control of the config (empty when unused): the
  header is written before the first row, without a pass over all the data.
- Archives carry a ``notes.json`` (skipped media); the converter writes none except
  for YOLO, where LabelHub adds ``warnings``/``skipped`` to the converter's keys.
- COCO's and YOLO's ``info`` names LabelHub as the contributor, with today's date.
"""

import csv
import io
import json
import struct
import wave

import numpy as np
import orjson
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from label_studio_sdk.converter import Converter
from label_studio_sdk.converter.brush import encode_rle
from PIL import Image

from exporters.formats import FORMATS
from tests.factories import export_bytes, unzip

pytestmark = pytest.mark.django_db

CHOICES = """<View><Text name="text" value="$text"/>
<Choices name="sentiment" toName="text" choice="single"><Choice value="Positive"/>
<Choice value="Negative"/><Choice value="Neutral"/></Choices>
<TextArea name="comment" toName="text"/></View>"""
NER = """<View><Labels name="label" toName="text"><Label value="PER"/><Label value="ORG"/>
</Labels><Text name="text" value="$text"/></View>"""
BOXES = """<View><Image name="image" value="$image"/><RectangleLabels name="label"
toName="image"><Label value="Cat"/><Label value="Dog"/></RectangleLabels></View>"""
POLYGONS = """<View><Image name="image" value="$image"/><PolygonLabels name="poly"
toName="image"><Label value="Road"/><Label value="Tree"/></PolygonLabels></View>"""
KEYPOINTS = """<View><Image name="image" value="$image"/>
<RectangleLabels name="box" toName="image"><Label value="Person"/></RectangleLabels>
<KeyPointLabels name="kp" toName="image"><Label value="nose" model_index="0"/>
<Label value="eye" model_index="1"/></KeyPointLabels></View>"""
BRUSH = """<View><Image name="image" value="$image"/><BrushLabels name="mask"
toName="image"><Label value="Sky"/><Label value="Sea"/></BrushLabels></View>"""
AUDIO = """<View><Audio name="audio" value="$audio"/>
<TextArea name="transcription" toName="audio"/></View>"""


def r(from_name, to_name, rtype, value, rid, **extra):
    return {
        "id": rid,
        "from_name": from_name,
        "to_name": to_name,
        "type": rtype,
        "value": value,
        **extra,
    }


def box(label, x, y, w, h, rid, rotation=0, name="label"):
    value = {
        "x": x,
        "y": y,
        "width": w,
        "height": h,
        "rotation": rotation,
        "rectanglelabels": [label],
    }
    return r(name, "image", "rectanglelabels", value, rid, original_width=640, original_height=480)


def text_tasks():
    def choice(value, rid="c"):
        return r("sentiment", "text", "choices", {"choices": [value]}, rid)

    return [
        {
            "data": {"text": "great stuff", "meta_info": {"src": "a"}},
            "annotations": [
                {
                    "result": [
                        choice("Positive"),
                        r("comment", "text", "textarea", {"text": ["nice"]}, "t"),
                    ]
                },
                {"result": [choice("Neutral")], "lead_time": 3.5},
            ],
        },
        {
            "data": {"text": "bad stuff", "meta_info": {"src": "b"}},
            "annotations": [{"result": [choice("Negative")]}],
        },
        {
            "data": {"text": "skipped", "meta_info": {}},
            "annotations": [{"result": [], "was_cancelled": True}],
        },
        {"data": {"text": "untouched", "meta_info": None}},
    ]


def ner_tasks():
    def span(start, end, label, rid):
        text = "Alice works at Acme Corp in Paris."
        return r(
            "label",
            "text",
            "labels",
            {"start": start, "end": end, "text": text[start:end], "labels": [label]},
            rid,
        )

    return [
        {
            "data": {"text": "Alice works at Acme Corp in Paris."},
            "annotations": [
                {"result": [span(0, 5, "PER", "a"), span(15, 24, "ORG", "b")]},
            ],
        },
        {"data": {"text": "Nobody here."}, "annotations": [{"result": []}]},
        {"data": {"text": "Not yet labeled, really."}},
    ]


def box_tasks(project):
    def url(name):
        return f"/data/upload/{project.pk}/{name}"

    return [
        {
            "data": {"image": url("a1-cat.jpg")},
            "annotations": [
                {
                    "result": [
                        box("Cat", 10, 20, 30, 40, "b1"),
                        box("Dog", 50, 5, 20, 10, "b2", rotation=30),
                    ]
                },
            ],
        },
        {
            "data": {"image": url("b2-dog.png")},
            "annotations": [{"result": [box("Dog", 0, 0, 100, 100, "b3")]}],
        },
        {"data": {"image": url("c3-none.png")}},
    ]


def polygon_tasks(project):
    def poly(label, points, rid):
        return r(
            "poly",
            "image",
            "polygonlabels",
            {"points": points, "polygonlabels": [label]},
            rid,
            original_width=800,
            original_height=600,
        )

    return [
        {
            "data": {"image": f"/data/upload/{project.pk}/p1.jpg"},
            "annotations": [
                {
                    "result": [
                        poly("Road", [[10, 10], [50, 10], [50, 60], [10, 60]], "p1"),
                        poly("Tree", [[70, 70], [90, 75], [80, 95]], "p2"),
                    ]
                },
            ],
        },
        {"data": {"image": f"/data/upload/{project.pk}/p2.jpg"}},
    ]


def keypoint_tasks(project):
    def kp(label, x, y, rid, parent):
        return r(
            "kp",
            "image",
            "keypointlabels",
            {"x": x, "y": y, "width": 0.5, "keypointlabels": [label]},
            rid,
            original_width=640,
            original_height=480,
            parentID=parent,
        )

    return [
        {
            "data": {"image": f"/data/upload/{project.pk}/k1.jpg"},
            "annotations": [
                {
                    "result": [
                        box("Person", 10, 10, 40, 60, "p1", name="box"),
                        kp("nose", 30, 20, "k1", "p1"),
                        kp("eye", 28, 18, "k2", "p1"),
                    ]
                },
            ],
        },
    ]


def _mask_rle(width, height, rows) -> list[int]:
    mask = np.zeros((height, width, 4), dtype=np.uint8)
    mask[rows[0] : rows[1], :, 3] = 255
    return encode_rle(mask.flatten())


def brush_tasks(project):
    def brush(label, rows, rid):
        value = {"format": "rle", "rle": _mask_rle(32, 24, rows), "brushlabels": [label]}
        return r("mask", "image", "brushlabels", value, rid, original_width=32, original_height=24)

    return [
        {
            "data": {"image": f"/data/upload/{project.pk}/m1.png"},
            "annotations": [
                {
                    "result": [
                        brush("Sky", (0, 8), "s1"),
                        brush("Sea", (16, 24), "s2"),
                        brush("Sky", (10, 12), "s3"),
                    ]
                },
            ],
        },
    ]


def wav_bytes(seconds: float = 0.5, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        audio.writeframes(struct.pack("<h", 0) * int(seconds * rate))
    return out.getvalue()


def _converter_input(exported: list[dict]) -> list[dict]:
    """LabelHub's JSON export, unchanged: the converter reads it as Label Studio's."""
    for task in exported:
        for annotation in task["annotations"]:
            assert set(annotation["completed_by"]) == {"id", "email", "first_name", "last_name"}
    return exported


def _run_converter(project, exported, fmt, tmp_path, *, download=False):
    tmp_path.mkdir(parents=True, exist_ok=True)
    source = tmp_path / "export.json"
    source.write_bytes(orjson.dumps(_converter_input(exported)))
    from django.conf import settings

    converter = Converter(
        project.label_config,
        project_dir=None,
        upload_dir=str(settings.MEDIA_ROOT / "upload"),
        download_resources=download,
    )
    out = tmp_path / f"converter-{fmt}"
    out.mkdir()  # the brush converter writes into it without creating it
    converter.convert(str(source), str(out), fmt, is_dir=False)
    return converter, {
        str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()
    }


def _cell(value: str):
    try:
        return json.loads(value)
    except ValueError:
        return value


def _table(body: bytes, sep: str) -> tuple[list[str], list[dict]]:
    reader = csv.DictReader(io.StringIO(body.decode()), delimiter=sep)
    return reader.fieldnames, [{k: _cell(v) for k, v in row.items()} for row in reader]


def compare(fmt, ours: bytes, theirs: dict[str, bytes]):
    if fmt == "JSON_MIN":
        assert orjson.loads(ours) == json.loads(theirs["result.json"])
    elif fmt in ("CSV", "TSV"):
        sep = "," if fmt == "CSV" else "\t"
        our_columns, our_rows = _table(ours, sep)
        their_columns, their_rows = _table(theirs["result.csv"], sep)
        assert set(their_columns) <= set(our_columns)
        assert [{k: row[k] for k in their_columns} for row in our_rows] == their_rows
        extra = set(our_columns) - set(their_columns)  # controls no annotation used
        assert all(row[k] == "" for row in our_rows for k in extra)
    elif fmt == "CONLL2003":
        assert ours == theirs["result.conll"]
    elif fmt == "COCO":
        mine, other = orjson.loads(unzip(ours)["result.json"]), json.loads(theirs["result.json"])
        for key in ("images", "annotations", "categories"):
            assert (
                mine[key] == pytest.approx(other[key]) if key == "x" else mine[key] == other[key]
            ), key
    elif fmt == "VOC":
        files = unzip(ours)
        mine = {k: v for k, v in files.items() if k.startswith("Annotations/")}
        other = {k: v for k, v in theirs.items() if k.startswith("Annotations/")}
        assert mine == other
    elif fmt in ("YOLO", "YOLO_OBB"):
        files = unzip(ours)
        for name, body in theirs.items():
            if name.startswith("labels/") or name == "classes.txt":
                assert files[name].strip() == body.strip(), name
        assert {k for k in files if k.startswith("labels/")} == {
            k for k in theirs if k.startswith("labels/")
        }
        notes = orjson.loads(files["notes.json"])
        assert notes["categories"] == json.loads(theirs["notes.json"])["categories"]
    elif fmt in WITH_IMAGES:
        # the base format's files, and the same images bundled
        files = unzip(ours)
        if fmt == "COCO_WITH_IMAGES":
            # The converter names an uploaded image by its path relative to its upload
            # folder ("../../tmp/media/upload/1/a.jpg"), which points outside the archive;
            # LabelHub names the bundled copy ("images/a.jpg").
            mine = orjson.loads(files["result.json"])
            other = json.loads(theirs["result.json"])
            for image in mine["images"]:
                assert image.pop("file_name") in files
            for image in other["images"]:
                image.pop("file_name")
            assert mine["images"] == other["images"]
            assert mine["annotations"] == other["annotations"]
            assert mine["categories"] == other["categories"]
        else:
            compare(fmt.removesuffix("_WITH_IMAGES"), ours, theirs)
        mine = {k: v for k, v in files.items() if k.startswith("images/")}
        other = {k: v for k, v in theirs.items() if k.startswith("images/")}
        assert mine and mine == other
    elif fmt == "BRUSH_TO_COCO":
        # the converter picks a random colour per category and dates its info
        mine = orjson.loads(unzip(ours)["result_coco.json"])
        other = json.loads(theirs["result_coco.json"])
        for categories in (mine["categories"], other["categories"]):
            for category in categories:
                category.pop("color")
        assert mine["images"] == other["images"]
        assert mine["annotations"] == other["annotations"] and mine["annotations"]
        assert mine["categories"] == other["categories"]
    elif fmt == "BRUSH_TO_NUMPY":
        files = {k: v for k, v in unzip(ours).items() if k.endswith(".npy")}
        assert files.keys() == theirs.keys()
        for name, body in files.items():
            mine, other = np.load(io.BytesIO(body)), np.load(io.BytesIO(theirs[name]))
            assert mine.dtype == other.dtype and mine.shape == other.shape, name
            assert (mine == other).all() and mine.any(), name
    elif fmt == "BRUSH_TO_PNG":
        files = {k: v for k, v in unzip(ours).items() if k.endswith(".png")}
        assert files.keys() == theirs.keys()
        for name, body in files.items():
            mine = np.array(Image.open(io.BytesIO(body)))
            other = np.array(Image.open(io.BytesIO(theirs[name])))
            assert (mine == other).all(), name
            assert mine.any(), name  # the mask is really there
    elif fmt == "ASR_MANIFEST":
        files = unzip(ours)
        mine = [orjson.loads(line) for line in files["manifest.json"].splitlines()]
        other = [json.loads(line) for line in theirs["manifest.json"].splitlines()]
        assert mine == other
        assert {k for k in files if k.startswith("audio/")} == {
            k for k in theirs if k.startswith("audio/")
        }
    else:
        raise AssertionError(f"no comparison for {fmt}")


WITH_IMAGES = ("COCO_WITH_IMAGES", "YOLO_WITH_IMAGES", "YOLO_OBB_WITH_IMAGES")

CASES = {
    "text": (CHOICES, lambda p: text_tasks(), {"JSON_MIN", "CSV", "TSV"}),
    "ner": (NER, lambda p: ner_tasks(), {"JSON_MIN", "CSV", "TSV", "CONLL2003"}),
    "image_box": (
        BOXES,
        box_tasks,
        {"JSON_MIN", "CSV", "TSV", "COCO", "VOC", "YOLO", "YOLO_OBB", *WITH_IMAGES},
    ),
    "polygon": (
        POLYGONS,
        polygon_tasks,
        {"JSON_MIN", "CSV", "TSV", "COCO", "YOLO", "YOLO_OBB", *WITH_IMAGES},
    ),
    "keypoint": (
        KEYPOINTS,
        keypoint_tasks,
        {"JSON_MIN", "CSV", "TSV", "COCO", "VOC", "YOLO", "YOLO_OBB", *WITH_IMAGES},
    ),
    "brush": (
        BRUSH,
        brush_tasks,
        {"JSON_MIN", "CSV", "TSV", "BRUSH_TO_PNG", "BRUSH_TO_NUMPY", "BRUSH_TO_COCO"},
    ),
}


def _store_images(project, exported):
    for task in exported:
        url = task["data"].get("image", "")
        key = url.removeprefix("/data/")
        if url.startswith(f"/data/upload/{project.pk}/") and not default_storage.exists(key):
            picture = io.BytesIO()
            Image.new("RGB", (40, 30), "blue").save(picture, format="PNG")
            default_storage.save(key, ContentFile(picture.getvalue()))


@pytest.mark.parametrize("kind", CASES)
def test_every_format_matches_the_converter(api, make_project, import_tasks, kind, tmp_path):
    config, make_tasks, expected = CASES[kind]
    project = make_project(config, kind)
    import_tasks(project, make_tasks(project))
    exported = orjson.loads(
        export_bytes(api, project, exportType="JSON", download_all_tasks="true")
    )
    converter, _ = _run_converter(project, exported, "JSON", tmp_path)
    available = {name for name, info in FORMATS.items() if info.available}
    formats = set(converter.supported_formats) & available - {"JSON"}
    assert formats == expected
    listed = api.get(f"/api/projects/{project.pk}/export/formats").json()
    assert {f["name"] for f in listed if not f.get("disabled")} == formats | {"JSON"}
    # the *_WITH_IMAGES formats last, once the images they bundle are in the storage
    for fmt in sorted(formats, key=lambda name: (name in WITH_IMAGES, name)):
        if fmt in WITH_IMAGES:
            _store_images(project, exported)
        exported = orjson.loads(
            export_bytes(api, project, exportType="JSON", download_all_tasks="true")
        )
        _, theirs = _run_converter(
            project, exported, fmt, tmp_path / fmt, download=fmt in WITH_IMAGES
        )
        ours = export_bytes(api, project, exportType=fmt, download_all_tasks="true")
        compare(fmt, ours, theirs)


def test_asr_manifest_matches_the_converter(api, make_project, tmp_path):
    project = make_project(AUDIO, "audio")
    handle = io.BytesIO(wav_bytes())
    handle.name = "hello.wav"
    response = api.post(
        f"/api/projects/{project.pk}/import?return_task_ids=true",
        {"file": handle},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    (task_id,) = response.json()["task_ids"]
    result = [r("transcription", "audio", "textarea", {"text": ["hello world"]}, "t1")]
    assert (
        api.post(
            f"/api/tasks/{task_id}/annotations/", {"result": result}, format="json"
        ).status_code
        == 201
    )
    exported = orjson.loads(export_bytes(api, project, exportType="JSON"))
    converter, theirs = _run_converter(project, exported, "ASR_MANIFEST", tmp_path, download=True)
    assert "ASR_MANIFEST" in converter.supported_formats
    ours = export_bytes(api, project, exportType="ASR_MANIFEST", download_resources="true")
    compare("ASR_MANIFEST", ours, theirs)
    line = orjson.loads(unzip(ours)["manifest.json"])
    assert line["text"] == "hello world" and line["duration"] == pytest.approx(0.5)
    assert line["annotator"] == "owner@example.com"
