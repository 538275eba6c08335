"""S3 source storage against a real S3-compatible server (moto in server mode) that the
tests start on loopback: boto3 speaks HTTP to it, nothing is patched."""

import boto3
import orjson
import pytest
import requests
from django.db import connection
from django.test.utils import CaptureQueriesContext

from importers.models import S3ImportedKey
from tasks.models import Task
from tests.factories import free_port

pytestmark = pytest.mark.django_db

BUCKET = "labelhub-test"


@pytest.fixture(scope="module")
def s3_server():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server, settings):
    settings.LABELHUB_SSRF_ALLOWED_HOSTS = ["127.0.0.1"]
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    requests.post(f"{s3_server}/moto-api/reset", timeout=10)
    client.create_bucket(Bucket=BUCKET)
    return client


def storage_body(s3_server, project, **extra) -> dict:
    return {
        "project": project.pk,
        "title": "bucket",
        "bucket": BUCKET,
        "prefix": "images/",
        "s3_endpoint": s3_server,
        "region_name": "us-east-1",
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
        **extra,
    }


def put(s3, key: str, body: bytes = b"\x89PNG fake") -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)


def test_create_list_and_secrets_stay_hidden(api, s3, s3_server, image_project):
    response = api.post("/api/storages/s3", storage_body(s3_server, image_project), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["bucket"] == BUCKET and body["project"] == image_project.pk
    assert "aws_secret_access_key" not in body and "aws_session_token" not in body
    listed = api.get(f"/api/storages/s3/?project={image_project.pk}").json()
    assert [s["id"] for s in listed] == [body["id"]]
    assert api.get(f"/api/storages/s3/{body['id']}").json()["prefix"] == "images/"


def test_sync_imports_each_object_and_resync_adds_only_new_ones(api, s3, s3_server, image_project):
    for name in ("a.png", "b.png", "skip.txt"):
        put(s3, f"images/{name}")
    put(s3, "elsewhere/c.png")
    storage = api.post(
        "/api/storages/s3/",
        storage_body(s3_server, image_project, regex_filter=r"\.png$"),
        format="json",
    ).json()
    synced = api.post(f"/api/storages/s3/{storage['id']}/sync")
    assert synced.status_code == 200, synced.content
    assert synced.json()["last_sync_count"] == 2 and synced.json()["status"] == "completed"
    assert sorted(t.data["image"] for t in Task.objects.filter(project=image_project)) == [
        f"s3://{BUCKET}/images/a.png",
        f"s3://{BUCKET}/images/b.png",
    ]

    put(s3, "images/d.png")
    with CaptureQueriesContext(connection) as queries:
        again = api.post(f"/api/storages/s3/{storage['id']}/sync/").json()
    assert again["last_sync_count"] == 1
    assert Task.objects.filter(project=image_project).count() == 3
    # Known keys are found with one keyed lookup per listed page, never by reading tasks.
    reads_of_tasks = [
        q["sql"]
        for q in queries
        if "tasks_task" in q["sql"] and q["sql"].lstrip().upper().startswith("SELECT")
    ]
    assert reads_of_tasks == []
    assert S3ImportedKey.objects.filter(storage_id=storage["id"]).count() == 3
    assert api.post(f"/api/storages/s3/{storage['id']}/sync").json()["last_sync_count"] == 0


def test_json_task_files(api, s3, s3_server, project):
    put(s3, "images/tasks.json", orjson.dumps([{"text": "one"}, {"data": {"text": "two"}}]))
    put(s3, "images/more.jsonl", b'{"text": "three"}\n')
    storage = api.post(
        "/api/storages/s3/", storage_body(s3_server, project, use_blob_urls=False), format="json"
    ).json()
    assert api.post(f"/api/storages/s3/{storage['id']}/sync").json()["last_sync_count"] == 3
    assert sorted(t.data["text"] for t in Task.objects.filter(project=project)) == [
        "one",
        "three",
        "two",
    ]


def test_a_bad_task_file_imports_nothing(api, s3, s3_server, project):
    put(s3, "images/a.json", b'[{"text": "fine"}]')
    put(s3, "images/b.json", b'[{"nope": 1}]')
    storage = api.post(
        "/api/storages/s3/", storage_body(s3_server, project, use_blob_urls=False), format="json"
    ).json()
    response = api.post(f"/api/storages/s3/{storage['id']}/sync")
    assert response.status_code == 400 and "text" in response.json()["detail"]
    assert not Task.objects.filter(project=project).exists()
    assert not S3ImportedKey.objects.exists()
    assert api.get(f"/api/storages/s3/{storage['id']}").json()["status"] == "failed"


def test_presigned_redirect_for_members_only(
    api, client_for, outsider, s3, s3_server, image_project
):
    put(s3, "images/a.png", b"\x89PNG real bytes")
    storage = api.post(
        "/api/storages/s3/", storage_body(s3_server, image_project, presign_ttl=5), format="json"
    ).json()
    api.post(f"/api/storages/s3/{storage['id']}/sync")
    uri = Task.objects.get(project=image_project).data["image"]
    response = api.get(f"/api/projects/{image_project.pk}/presign/", {"fileuri": uri})
    assert response.status_code == 302
    location = response["Location"]
    assert "X-Amz-Signature=" in location and "X-Amz-Expires=300" in location
    assert requests.get(location, timeout=10).content == b"\x89PNG real bytes"
    assert (
        client_for(outsider)
        .get(f"/api/projects/{image_project.pk}/presign/", {"fileuri": uri})
        .status_code
        == 404
    )
    other = api.get(
        f"/api/projects/{image_project.pk}/presign/", {"fileuri": "s3://another-bucket/x.png"}
    )
    assert other.status_code == 404


def test_storage_uris_resolved(image_project):
    from tasks.representations import storage_uris_resolved

    data = storage_uris_resolved(
        image_project.pk, {"image": f"s3://{BUCKET}/a b.png", "n": 1, "l": [f"s3://{BUCKET}/c"]}
    )
    assert (
        data["image"]
        == f"/api/projects/{image_project.pk}/presign/?fileuri=s3%3A%2F%2F{BUCKET}%2Fa%20b.png"
    )
    assert data["n"] == 1 and data["l"][0].startswith("/api/projects/")


def test_bad_input(api, s3, s3_server, image_project, client_for, annotator, settings):
    assert (
        api.post(
            "/api/storages/s3/",
            storage_body(s3_server, image_project, regex_filter="(["),
            format="json",
        ).status_code
        == 400
    )
    settings.LABELHUB_SSRF_ALLOWED_HOSTS = []
    response = api.post("/api/storages/s3/", storage_body(s3_server, image_project), format="json")
    assert response.status_code == 400 and "non-public" in response.json()["detail"]
    settings.LABELHUB_SSRF_ALLOWED_HOSTS = ["127.0.0.1"]
    missing = api.post(
        "/api/storages/s3/",
        storage_body(s3_server, image_project, bucket="no-such-bucket"),
        format="json",
    ).json()
    response = api.post(f"/api/storages/s3/{missing['id']}/sync")
    assert response.status_code == 400 and "S3 error" in response.json()["detail"]
    from projects.models import ProjectMember
    from projects.services import member_set

    member_set(project=image_project, user=annotator, role=ProjectMember.Role.ANNOTATOR)
    assert client_for(annotator).post(f"/api/storages/s3/{missing['id']}/sync").status_code == 403


def test_patch_and_delete(api, s3, s3_server, image_project):
    storage = api.post(
        "/api/storages/s3/", storage_body(s3_server, image_project), format="json"
    ).json()
    patched = api.patch(f"/api/storages/s3/{storage['id']}/", {"prefix": "other/"}, format="json")
    assert patched.status_code == 200 and patched.json()["prefix"] == "other/"
    assert api.delete(f"/api/storages/s3/{storage['id']}/").status_code == 204
    assert api.get(f"/api/storages/s3/{storage['id']}/").status_code == 404
