"""Fixtures for the storage tests: real servers on loopback, started as subprocesses
(moto's S3 server, gcp-storage-emulator, Azurite: ``servers``) or already running (the
local Redis), projects, and background jobs run in-process.

Each emulator listens on ``LABELHUB_TEST_STORAGE_PORT_BASE`` (18600 unless set) plus
its own offset, on 127.0.0.1 only; storages may reach loopback because the tests list
it in ``LABELHUB_STORAGE_ALLOWED_HOSTS``.
"""

import os
import shutil

import boto3
import orjson
import pytest
import requests

from tests.factories import IMAGE_CONFIG
from tests.io_storages import servers
from tests.io_storages.servers import AZURITE_ACCOUNT

PORT_BASE = int(os.environ.get("LABELHUB_TEST_STORAGE_PORT_BASE", "18600"))
BUCKET = "labelhub-test"


@pytest.fixture(scope="session")
def moto_server():
    with servers.moto(PORT_BASE + 1) as url:
        yield url


@pytest.fixture(autouse=True)
def _storages_on_loopback(settings, tmp_path):
    settings.LABELHUB_STORAGE_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.LABELHUB_SSRF_ALLOWED_HOSTS = []
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def s3(moto_server):
    requests.post(f"{moto_server}/moto-api/reset", timeout=10)
    client = boto3.client(
        "s3",
        endpoint_url=moto_server,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    client.create_bucket(Bucket=BUCKET)
    return client


def s3_body(moto_server, project, **extra) -> dict:
    return {
        "project": project.pk,
        "title": "bucket",
        "bucket": BUCKET,
        "prefix": "images/",
        "s3_endpoint": moto_server,
        "region_name": "us-east-1",
        "use_blob_urls": True,
        "aws_access_key_id": "AKIDWRITEONLY",
        "aws_secret_access_key": "s3cr3t-write-only",
        **extra,
    }


@pytest.fixture
def image_project(make_project):
    return make_project(IMAGE_CONFIG, "images")


@pytest.fixture
def sync(api, jobs_inline, django_capture_on_commit_callbacks):
    """POST a sync and run its job as a worker would; the storage's state after it."""

    def run(url: str, *, expect: int = 200) -> dict:
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post(f"{url}/sync")
        assert response.status_code == expect, response.content
        if expect != 200:
            return response.json()
        assert response.json()["status"] == "queued", response.json()
        return api.get(url).json()

    return run


@pytest.fixture
def import_tasks(api):
    def run(project, tasks: list[dict]) -> list[int]:
        response = api.post(
            f"/api/projects/{project.pk}/import?return_task_ids=true",
            data=orjson.dumps(tasks),
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        return response.json()["task_ids"]

    return run


@pytest.fixture
def local_root(settings, tmp_path):
    root = tmp_path / "files-root"
    root.mkdir()
    settings.LABELHUB_LOCAL_FILES_ROOT = str(root)
    settings.LABELHUB_ALLOW_SERVING_LOCAL_FILES = True
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def gcs_server(tmp_path_factory):
    with servers.gcs_emulator(PORT_BASE + 2, tmp_path_factory.mktemp("gcs")) as url:
        yield url


@pytest.fixture
def gcs(gcs_server, settings):
    """A fresh bucket on the emulator; LabelHub's GCS storages talk to the emulator."""
    settings.LABELHUB_GCS_ENDPOINT = gcs_server
    return servers.gcs_bucket(gcs_server, BUCKET)


@pytest.fixture(scope="session")
def azure_server(tmp_path_factory):
    with servers.azurite(PORT_BASE + 3, tmp_path_factory.mktemp("azurite")) as url:
        yield url


@pytest.fixture
def azure(azure_server, settings):
    """A fresh container on Azurite; LabelHub's Azure storages talk to Azurite."""
    settings.LABELHUB_AZURE_BLOB_ENDPOINT = azure_server.replace(AZURITE_ACCOUNT, "{account_name}")
    return servers.azure_container(azure_server, "labelhub-test")
