"""Export options, bad input, and download_resources reading only the media storage."""

import io

import orjson
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from exporters.formats.zipstream import ZipStream
from tests.factories import IMAGE_CONFIG, choice, export_bytes, unzip

pytestmark = pytest.mark.django_db


def _box(label="Cat"):
    value = {"x": 10, "y": 10, "width": 20, "height": 20, "rotation": 0, "rectanglelabels": [label]}
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


def test_bad_input_names_the_field(api, project):
    def error(query):
        response = api.get(f"/api/projects/{project.pk}/export?{query}")
        assert response.status_code == 400, query
        return response.json()["errors"][0]["field"]

    assert error("exportType=PDF") == "exportType"
    assert error("exportType=COCO") == "exportType"  # a text project can't give COCO
    assert error("only=best") == "only"
    assert error("annotator=name") == "annotator"
    assert error("download_all_tasks=maybe") == "download_all_tasks"
    assert error("ids=1,x") == "ids[1]"  # the bad item, by its place


def test_formats_list_has_label_studios_shape(api, project, outsider, client_for):
    formats = api.get(f"/api/projects/{project.pk}/export/formats").json()
    by_name = {f["name"]: f for f in formats}
    assert set(by_name["COCO"]) == {"name", "title", "description", "link", "tags", "disabled"}
    # Label Studio's shape: no "tags" or "disabled" key where it has none, enabled first
    assert set(by_name["JSON"]) == {"name", "title", "description", "link"}
    assert by_name["COCO"]["disabled"] is True
    disabled = [bool(f.get("disabled")) for f in formats]
    assert disabled == sorted(disabled)
    assert client_for(outsider).get(f"/api/projects/{project.pk}/export/formats").status_code == 404
    assert client_for(None).get(f"/api/projects/{project.pk}/export/formats").status_code in (
        401,
        403,
    )


def test_options(api, project, import_tasks, owner):
    ids = import_tasks(
        project,
        [
            {"data": {"text": "a"}, "annotations": [{"result": [], "was_cancelled": True}]},
            {
                "data": {"text": "b"},
                "annotations": [
                    {"result": choice("Positive")},
                    {"result": [], "was_cancelled": True},
                ],
                "predictions": [{"result": choice("Negative"), "score": 0.5}],
            },
        ],
    )
    full = orjson.loads(export_bytes(api, project))
    assert [t["id"] for t in full] == ids
    annotation = full[1]["annotations"][0]
    # Label Studio's JSON export expands the annotator (its CompletedBySerializer).
    assert annotation["completed_by"] == {
        "id": owner.pk,
        "email": "owner@example.com",
        "first_name": "",
        "last_name": "",
    }
    only_ids = orjson.loads(export_bytes(api, project, annotator="id"))
    assert only_ids[1]["annotations"][0]["completed_by"] == owner.pk
    assert full[1]["predictions"][0]["score"] == 0.5

    kept = orjson.loads(export_bytes(api, project, exclude_cancelled="true"))
    assert [t["id"] for t in kept] == [ids[1]]
    assert [a["was_cancelled"] for a in kept[0]["annotations"]] == [False]

    bare = orjson.loads(export_bytes(api, project, include_predictions="false"))
    assert all("predictions" not in t for t in bare)

    short = orjson.loads(export_bytes(api, project, full_descriptions="false"))
    assert set(short[1]) == {"id", "annotations", "predictions"}
    assert set(short[1]["annotations"][0]) == {"id", "completed_by", "result"}
    assert short[1]["annotations"][0]["completed_by"]["email"] == "owner@example.com"

    by_email = orjson.loads(export_bytes(api, project, exportType="JSON_MIN"))
    assert by_email[0]["annotator"] == "owner@example.com"
    assert by_email[0]["sentiment"] == "Positive"
    by_id = orjson.loads(export_bytes(api, project, exportType="JSON_MIN", annotator="id"))
    assert by_id[0]["annotator"] == owner.pk


@pytest.fixture
def image_project(make_project):
    return make_project(IMAGE_CONFIG, "Images")


def test_download_resources_reads_only_this_projects_uploads(
    api, image_project, import_tasks, make_project
):
    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (10, 10), "red").save(png, format="PNG")
    pid = image_project.pk
    default_storage.save(f"upload/{pid}/ok.png", ContentFile(png.getvalue()))
    other = make_project(IMAGE_CONFIG, "Other")
    default_storage.save(f"upload/{other.pk}/theirs.png", ContentFile(png.getvalue()))
    evil = [
        f"/data/upload/{pid}/../../../../etc/passwd",
        f"/data/upload/{pid}/%2e%2e/%2e%2e/secret_key",
        "file:///etc/passwd",
        "/etc/passwd",
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:8080/data/upload/1/x.png",
        f"/data/upload/{other.pk}/theirs.png",
    ]
    urls = [f"/data/upload/{pid}/ok.png", *evil]
    import_tasks(
        image_project, [{"data": {"image": u}, "annotations": [{"result": _box()}]} for u in urls]
    )
    for fmt in ("COCO", "YOLO", "VOC"):
        files = unzip(export_bytes(api, image_project, exportType=fmt, download_resources="true"))
        assert [k for k in files if k.startswith("images/")] == ["images/ok.png"], fmt
        assert files["images/ok.png"] == png.getvalue()
        notes = orjson.loads(files["notes.json"])
        assert notes["skipped"] == len(evil), fmt
        assert all("skipped" in w["warning"] for w in notes["warnings"])
        assert not any(b"root:" in body for body in files.values())
    coco = orjson.loads(
        unzip(export_bytes(api, image_project, exportType="COCO", download_resources="true"))[
            "result.json"
        ]
    )
    assert coco["images"][0] == {"width": 10, "height": 10, "id": 0, "file_name": "images/ok.png"}


def test_archives_stream_and_are_valid_zips(api, image_project, import_tasks, monkeypatch):
    # Archives hand on blocks of ZipStream.CHUNK bytes; a small one shows the streaming.
    monkeypatch.setattr(ZipStream, "CHUNK", 64)
    import_tasks(
        image_project,
        [
            {
                "data": {"image": f"/data/upload/{image_project.pk}/{i}.png"},
                "annotations": [{"result": _box()}],
            }
            for i in range(30)
        ],
    )
    response = api.get(f"/api/projects/{image_project.pk}/export?exportType=YOLO")
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].endswith('.zip"')
    chunks = list(response.streaming_content)
    assert len(chunks) > 1  # written as it goes, not built then sent
    files = unzip(b"".join(chunks))
    assert len([k for k in files if k.startswith("labels/")]) == 30
    assert files["classes.txt"] == b"Cat\nDog\n"


def _dm_query(value, *, selected=None) -> str:
    body: dict = {
        "filters": {
            "conjunction": "and",
            "items": [
                {
                    "filter": "filter:tasks:data.text",
                    "operator": "contains",
                    "type": "String",
                    "value": value,
                }
            ],
        }
    }
    if selected is not None:
        body["selectedItems"] = selected
    return orjson.dumps(body).decode()


def test_export_follows_the_data_managers_query(
    api, project, import_tasks, jobs_inline, django_capture_on_commit_callbacks
):
    from urllib.parse import quote

    ids = import_tasks(
        project,
        [
            {"data": {"text": word}, "annotations": [{"result": choice("Positive")}]}
            for word in ("apple", "banana", "apricot", "cherry")
        ],
    )
    filtered = orjson.loads(export_bytes(api, project, query=quote(_dm_query("ap"))))
    assert [t["id"] for t in filtered] == [ids[0], ids[2]]
    picked = _dm_query("ap", selected={"all": True, "excluded": [ids[0]]})
    assert [t["id"] for t in orjson.loads(export_bytes(api, project, query=quote(picked)))] == [
        ids[2]
    ]
    only = orjson.dumps({"selectedItems": {"all": False, "included": [ids[3]]}}).decode()
    rows = orjson.loads(export_bytes(api, project, exportType="JSON_MIN", query=quote(only)))
    assert [r["id"] for r in rows] == [ids[3]]

    bad = api.get(f"/api/projects/{project.pk}/export?query=" + quote('{"filters": 3}'))
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"].startswith("filters")
    bad = api.get(f"/api/projects/{project.pk}/export?query=nope")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "query"

    with django_capture_on_commit_callbacks(execute=True):
        snapshot = api.post(
            f"/api/projects/{project.pk}/exports/",
            {"title": "filtered", "query": orjson.loads(_dm_query("an"))},
            format="json",
        )
    assert snapshot.status_code == 201, snapshot.content
    body = api.get(f"/api/projects/{project.pk}/exports/{snapshot.json()['id']}").json()
    assert body["counters"]["task_number"] == 1  # banana
    bad = api.post(
        f"/api/projects/{project.pk}/exports/",
        {"query": {"filters": {"items": [{"filter": "filter:tasks:secret__x"}]}}},
        format="json",
    )
    assert bad.status_code == 400


@pytest.fixture
def jobs_inline():
    from labelhub.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous
