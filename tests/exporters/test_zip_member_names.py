"""ZIP member names (issue #24 row 13): backslashes, NUL bytes and ``..`` in the image
names that YOLO, YOLO_OBB, VOC (and every other archive) take their member names from
are reduced to safe basenames, unique within the archive."""

import struct

import pytest

from exporters.formats.zipstream import ZipStream
from tests.factories import IMAGE_CONFIG, export_bytes

pytestmark = pytest.mark.django_db


def raw_names(body: bytes) -> list[bytes]:
    """Member names as stored in the central directory (``zipfile`` cuts them at a NUL
    byte, so it cannot show one)."""
    names, at = [], body.find(b"PK\x01\x02")
    while at != -1:
        name_len, extra_len, comment_len = struct.unpack("<HHH", body[at + 28 : at + 34])
        names.append(body[at + 46 : at + 46 + name_len])
        at = body.find(b"PK\x01\x02", at + 46 + name_len + extra_len + comment_len)
    return names


def _box():
    value = {"x": 10, "y": 10, "width": 20, "height": 20, "rotation": 0, "rectanglelabels": ["Cat"]}
    return [
        {
            "id": "b",
            "from_name": "label",
            "to_name": "image",
            "type": "rectanglelabels",
            "value": value,
            "original_width": 10,
            "original_height": 10,
        }
    ]


def assert_safe(names: list[bytes]) -> None:
    assert len(names) == len(set(names)), names
    for name in names:
        text = name.decode("utf-8")
        assert "\\" not in text and "\x00" not in text, text
        assert not text.startswith("/"), text
        parts = text.split("/")
        assert all(part not in ("", ".", "..") for part in parts), text
        assert not any(ord(c) < 32 for c in text), text


@pytest.mark.parametrize("fmt", ["YOLO", "YOLO_OBB", "VOC", "COCO"])
def test_member_names_are_safe_unique_basenames(api, make_project, import_tasks, fmt):
    project = make_project(IMAGE_CONFIG, "Images")
    urls = [
        "http://example.com/labels/..\\..\\..\\tmp\\evil.png",
        "http://example.com/a%00b.png",
        "http://example.com/x/..",
        "http://example.com/..",
        "C:\\images\\cat.png",
        "http://example.com/cat.png",
        "http://example.com/cat.png",
        "http://example.com/%0d%0aline.png",
    ]
    import_tasks(
        project, [{"data": {"image": u}, "annotations": [{"result": _box()}]} for u in urls]
    )
    names = raw_names(export_bytes(api, project, exportType=fmt))
    assert_safe(names)
    text = [n.decode() for n in names]
    if fmt != "COCO":
        folder = "labels/" if fmt.startswith("YOLO") else "Annotations/"
        # one label file per task, each named after its image
        assert len([n for n in text if n.startswith(folder)]) == len(urls)
        assert f"{folder}evil.{'xml' if fmt == 'VOC' else 'txt'}" in text
        assert f"{folder}cat.{'xml' if fmt == 'VOC' else 'txt'}" in text


def test_the_archive_itself_refuses_unsafe_or_repeated_names():
    archive = ZipStream()
    for name in ("labels/a.txt", "labels/a.txt", "labels/..\\..\\b.txt", "../c\x00.txt", "/d"):
        archive.write(name, b"x")
    body = archive.drain() + archive.close()
    names = raw_names(body)
    assert_safe(names)
    assert len(names) == 5
