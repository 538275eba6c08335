"""S3 target storage against a moto server on loopback (nothing is patched)."""

import boto3
import orjson
import pytest
import requests

from tests.factories import choice, free_port

pytestmark = pytest.mark.django_db
BUCKET = "labelhub-target"
URL = "/api/storages/export/s3"


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
    requests.post(f"{s3_server}/moto-api/reset", timeout=10)
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    client.create_bucket(Bucket=BUCKET)
    return client


def _body(s3_server, project, **extra) -> dict:
    return {
        "project": project.pk,
        "title": "out",
        "bucket": BUCKET,
        "prefix": "exports/",
        "s3_endpoint": s3_server,
        "region_name": "us-east-1",
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
        **extra,
    }


def test_create_list_sync(api, project, import_tasks, s3, s3_server, outsider, client_for):
    ids = import_tasks(
        project,
        [
            {"data": {"text": "a"}, "annotations": [{"result": choice("Positive")}]},
            {"data": {"text": "b"}},
            {"data": {"text": "c"}, "annotations": [{"result": [], "was_cancelled": True}]},
            {"data": {"text": "d"}, "annotations": [{"result": choice("Negative")}]},
        ],
    )
    created = api.post(URL, _body(s3_server, project), format="json")
    assert created.status_code == 201, created.content
    storage = created.json()
    assert "aws_secret_access_key" not in storage and storage["bucket"] == BUCKET
    assert [s["id"] for s in api.get(f"{URL}?project={project.pk}").json()] == [storage["id"]]
    assert client_for(outsider).get(f"{URL}/{storage['id']}").status_code == 404
    assert client_for(outsider).post(f"{URL}/{storage['id']}/sync").status_code == 404

    synced = api.post(f"{URL}/{storage['id']}/sync")
    assert synced.status_code == 200, synced.content
    assert synced.json()["last_sync_count"] == 2 and synced.json()["status"] == "completed"
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"])
    assert keys == [f"exports/{ids[0]}.json", f"exports/{ids[3]}.json"]
    task = orjson.loads(s3.get_object(Bucket=BUCKET, Key=f"exports/{ids[0]}.json")["Body"].read())
    assert task["data"] == {"text": "a"}
    assert task["annotations"][0]["result"] == choice("Positive")
    assert task["annotations"][0]["completed_by"]["email"] == "owner@example.com"


def test_private_endpoints_and_bad_input_are_refused(api, project, s3_server, settings):
    settings.LABELHUB_SSRF_ALLOWED_HOSTS = []
    refused = api.post(URL, _body(s3_server, project), format="json")
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "s3_endpoint"
    metadata = api.post(URL, _body("http://169.254.169.254", project), format="json")
    assert metadata.status_code == 400
    missing = api.post(URL, {"project": project.pk}, format="json")
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "bucket"
    assert api.post(URL, {"bucket": "x"}, format="json").json()["errors"][0]["field"] == "project"


def test_sync_error_is_a_400_naming_the_bucket(api, project, import_tasks, s3, s3_server):
    import_tasks(
        project, [{"data": {"text": "a"}, "annotations": [{"result": choice("Positive")}]}]
    )
    storage = api.post(
        URL, _body(s3_server, project, bucket="no-such-bucket"), format="json"
    ).json()
    response = api.post(f"{URL}/{storage['id']}/sync")
    assert response.status_code == 400 and "no-such-bucket" in response.json()["detail"]
    assert api.get(f"{URL}/{storage['id']}").json()["status"] == "failed"
