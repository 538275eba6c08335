"""Media on S3, end to end against a moto server on loopback (boto3 speaks HTTP to it,
nothing is patched): upload, serve through a presigned redirect, export with the images,
snapshot in the bucket, and re-import through a background job whose files live in the
bucket."""

import io

import boto3
import orjson
import pytest
import requests
from PIL import Image

from exporters.models import ExportSnapshot
from importers.models import ImportJob
from tasks.models import Task
from tests.factories import HTML_CONFIG, IMAGE_CONFIG, export_bytes, free_port, unzip

pytestmark = pytest.mark.django_db
BUCKET = "labelhub-media"


@pytest.fixture(scope="module")
def s3_server():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_server, settings):
    requests.post(f"{s3_server}/moto-api/reset", timeout=10)
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    client.create_bucket(Bucket=BUCKET)
    settings.S3_MEDIA = True
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "labelhub.storage.MediaS3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_server,
                "access_key": "test",
                "secret_key": "test",
                "region_name": "us-east-1",
                "default_acl": None,
                "file_overwrite": False,
                "querystring_auth": True,
                "querystring_expire": 60,
                "addressing_style": "path",
                "signature_version": "s3v4",
            },
        },
    }
    return client


@pytest.fixture
def jobs_inline():
    from labelhub.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), "blue").save(out, format="PNG")
    return out.getvalue()


def _upload(api, project, name: str, body: bytes):
    handle = io.BytesIO(body)
    handle.name = name
    return api.post(
        f"/api/projects/{project.pk}/import?return_task_ids=true",
        {"file": handle},
        format="multipart",
    )


def test_upload_serve_export_reimport(
    api,
    make_project,
    bucket,
    s3_server,
    outsider,
    client_for,
    settings,
    jobs_inline,
    django_capture_on_commit_callbacks,
):
    project = make_project(IMAGE_CONFIG, "S3 images")
    png = _png()
    response = _upload(api, project, "cat.png", png)
    assert response.status_code == 201, response.content
    (task_id,) = response.json()["task_ids"]
    url = Task.objects.get(pk=task_id).data["image"]
    name = url.rsplit("/", 1)[-1]
    assert url == f"/data/upload/{project.pk}/{name}"
    key = f"upload/{project.pk}/{name}"
    assert bucket.get_object(Bucket=BUCKET, Key=key)["Body"].read() == png
    assert not (settings.MEDIA_ROOT / "upload" / str(project.pk) / name).exists()

    served = api.get(url)
    assert served.status_code == 302
    location = served["Location"]
    assert location.startswith(f"{s3_server}/{BUCKET}/{key}?") and "X-Amz-Signature" in location
    assert "X-Amz-Expires=60" in location
    assert requests.get(location, timeout=10).content == png
    assert client_for(outsider).get(url).status_code == 404

    box = {"x": 10, "y": 10, "width": 50, "height": 50, "rotation": 0, "rectanglelabels": ["Cat"]}
    result = [
        {
            "id": "b",
            "from_name": "label",
            "to_name": "image",
            "type": "rectanglelabels",
            "value": box,
            "original_width": 16,
            "original_height": 12,
        }
    ]
    assert (
        api.post(
            f"/api/tasks/{task_id}/annotations/", {"result": result}, format="json"
        ).status_code
        == 201
    )
    files = unzip(export_bytes(api, project, exportType="COCO", download_resources="true"))
    assert files[f"images/{name}"] == png
    coco = orjson.loads(files["result.json"])
    assert coco["images"][0]["width"] == 16 and coco["annotations"][0]["bbox"] == [
        1.6,
        1.2,
        8.0,
        6.0,
    ]

    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(f"/api/projects/{project.pk}/exports/", {"title": "s3"}, format="json")
    snapshot = ExportSnapshot.objects.get(pk=created.json()["id"])
    assert snapshot.status == "completed" and snapshot.file.startswith(f"export/{project.pk}/")
    stored = bucket.get_object(Bucket=BUCKET, Key=snapshot.file)["Body"].read()
    downloaded = b"".join(
        api.get(f"/api/projects/{project.pk}/exports/{snapshot.pk}/download").streaming_content
    )
    assert downloaded == stored

    # Re-import the snapshot into a new project, as a background job (the file goes to
    # the bucket, the worker reads it from there).
    settings.LABELHUB_ASYNC_IMPORT_TASKS = 0
    again = make_project(IMAGE_CONFIG, "S3 again")
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(api, again, "export.json", downloaded)
    # 202: the test's transaction holds the job until the request is over (see
    # importers.api._job_waited), so the answer names the job to poll.
    assert response.status_code == 202, response.content
    job = ImportJob.objects.get(pk=response.json()["import"])
    assert job.status == "completed", job.error
    assert job.files[0]["key"].startswith(f"imports/{job.pk}/")
    assert "Contents" not in bucket.list_objects_v2(Bucket=BUCKET, Prefix="imports/")  # cleaned up
    (task,) = Task.objects.filter(project=again)
    assert task.data == {"image": url}
    assert task.annotations.get().result[0]["value"] == box


def test_html_is_stored_inert_and_served_sandboxed(api, make_project, bucket):
    project = make_project(HTML_CONFIG, "S3 html")
    response = _upload(api, project, "page.html", b"<p>hi</p><script>alert(1)</script>")
    assert response.status_code == 201, response.content
    url = Task.objects.get(project=project).data["page"]
    key = f"upload/{project.pk}/{url.rsplit('/', 1)[-1]}"
    head = bucket.head_object(Bucket=BUCKET, Key=key)
    assert head["ContentType"].startswith("text/plain")
    assert head["ContentDisposition"] == "attachment"
    served = api.get(url)
    assert served.status_code == 200  # never a redirect to the bucket's origin
    assert served["Content-Security-Policy"].startswith("sandbox")
    body = b"".join(served.streaming_content)
    assert b"<p>hi</p>" in body and b"<script>" not in body


def test_presigned_links_use_the_public_endpoint(api, make_project, bucket, s3_server, settings):
    public = s3_server.replace("127.0.0.1", "localhost")
    settings.S3_PUBLIC_ENDPOINT_URL = public
    project = make_project(IMAGE_CONFIG, "public")
    png = _png()
    assert _upload(api, project, "dog.png", png).status_code == 201
    url = Task.objects.get(project=project).data["image"]
    location = api.get(url)["Location"]
    assert location.startswith(f"{public}/{BUCKET}/upload/{project.pk}/")
    assert requests.get(location, timeout=10).content == png  # the signature holds
