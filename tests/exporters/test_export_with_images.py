"""The ``*_WITH_IMAGES`` formats: the archive bundles the tasks' images, from the media
storage or from public URLs fetched through the one SSRF rule, with a size limit."""

import http.server
import io
import threading

import orjson
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from exporters.formats import resources
from tests.factories import IMAGE_CONFIG, export_bytes, free_port, unzip

pytestmark = pytest.mark.django_db

PORT = free_port()  # per process: make test runs several side by side


def _png(width=12, height=8) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "green").save(out, format="PNG")
    return out.getvalue()


def _box():
    value = {"x": 10, "y": 10, "width": 20, "height": 20, "rotation": 0, "rectanglelabels": ["Cat"]}
    return [
        {
            "id": "b",
            "from_name": "label",
            "to_name": "image",
            "type": "rectanglelabels",
            "value": value,
            "original_width": 12,
            "original_height": 8,
        }
    ]


@pytest.fixture
def image_server():
    body = _png()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/pic.png":
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            elif self.path == "/moved.png":
                self.send_response(302)
                self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                self.end_headers()
            else:
                self.send_response(404)
                self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{PORT}", body
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("fmt", ["COCO_WITH_IMAGES", "YOLO_WITH_IMAGES", "YOLO_OBB_WITH_IMAGES"])
def test_with_images_bundles_uploaded_images(api, make_project, import_tasks, fmt):
    project = make_project(IMAGE_CONFIG, "Images")
    default_storage.save(f"upload/{project.pk}/a.png", ContentFile(_png()))
    import_tasks(
        project,
        [
            {
                "data": {"image": f"/data/upload/{project.pk}/a.png"},
                "annotations": [{"result": _box()}],
            }
        ],
    )
    files = unzip(export_bytes(api, project, exportType=fmt))
    assert files["images/a.png"] == _png()
    if fmt == "COCO_WITH_IMAGES":
        images = orjson.loads(files["result.json"])["images"]
        assert images == [{"width": 12, "height": 8, "id": 0, "file_name": "images/a.png"}]
    else:
        assert "labels/a.txt" in files
    # the plain format bundles nothing
    plain = unzip(export_bytes(api, project, exportType=fmt.removesuffix("_WITH_IMAGES")))
    assert not [k for k in plain if k.startswith("images/")]


def test_with_images_fetches_allowed_urls_only(
    api, make_project, import_tasks, image_server, settings
):
    base, body = image_server
    project = make_project(IMAGE_CONFIG, "Remote")
    import_tasks(
        project,
        [
            {"data": {"image": f"{base}/pic.png"}, "annotations": [{"result": _box()}]},
            {"data": {"image": f"{base}/moved.png"}, "annotations": [{"result": _box()}]},
            {"data": {"image": f"{base}/gone.png"}, "annotations": [{"result": _box()}]},
        ],
    )
    # 127.0.0.1 is not public: refused by the SSRF rule, named in the notes
    files = unzip(export_bytes(api, project, exportType="COCO_WITH_IMAGES"))
    assert not [k for k in files if k.startswith("images/")]
    notes = orjson.loads(files["notes.json"])
    assert notes["skipped"] == 3
    assert all("not a public address" in w["warning"] for w in notes["warnings"])

    # allowed by the admin: fetched; a redirect to the metadata address is vetted again
    settings.LABELHUB_SSRF_ALLOWED_HOSTS = ["127.0.0.1"]
    files = unzip(export_bytes(api, project, exportType="COCO_WITH_IMAGES"))
    assert files["images/pic.png"] == body
    warnings = [w["warning"] for w in orjson.loads(files["notes.json"])["warnings"]]
    assert len(warnings) == 2
    assert "169.254.169.254 is not a public address" in warnings[0]
    assert "HTTP 404" in warnings[1]
    images = orjson.loads(files["result.json"])["images"]
    assert images[0]["file_name"] == "images/pic.png" and images[0]["width"] == 12


def test_with_images_size_limit(
    api, make_project, import_tasks, image_server, settings, monkeypatch
):
    base, body = image_server
    settings.LABELHUB_SSRF_ALLOWED_HOSTS = ["127.0.0.1"]
    monkeypatch.setattr(resources, "REMOTE_MAX_BYTES", len(body) - 1)
    project = make_project(IMAGE_CONFIG, "Big")
    import_tasks(
        project, [{"data": {"image": f"{base}/pic.png"}, "annotations": [{"result": _box()}]}]
    )
    files = unzip(export_bytes(api, project, exportType="YOLO_WITH_IMAGES"))
    assert not [k for k in files if k.startswith("images/")]
    assert "larger than" in files["notes.json"].decode()


def test_with_images_needs_an_image_config(api, project):
    response = api.get(f"/api/projects/{project.pk}/export?exportType=COCO_WITH_IMAGES")
    assert response.status_code == 400
    formats = {f["name"]: f for f in api.get(f"/api/projects/{project.pk}/export/formats").json()}
    assert formats["COCO_WITH_IMAGES"]["disabled"] is True
    assert formats["BRUSH_TO_NUMPY"]["disabled"] is True
