"""Fixtures for the storage tests: real servers on loopback, started as subprocesses
(moto's S3 server; the local Redis), projects, and background jobs run in-process.

Each emulator listens on ``LABELHUB_TEST_STORAGE_PORT_BASE`` (18600 unless set) plus
its own offset, on 127.0.0.1 only; storages may reach loopback because the tests list
it in ``LABELHUB_STORAGE_ALLOWED_HOSTS``.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import orjson
import pytest
import requests

from tests.factories import IMAGE_CONFIG

PORT_BASE = int(os.environ.get("LABELHUB_TEST_STORAGE_PORT_BASE", "18600"))
BUCKET = "labelhub-test"


def wait_for_port(port: int, process: subprocess.Popen, name: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{name} did not listen on 127.0.0.1:{port} within {seconds} s")


def start(command: list[str], port: int, name: str, **kwargs) -> subprocess.Popen:
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs
    )
    wait_for_port(port, process, name)
    return process


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def moto_server():
    """moto's S3 server (``moto_server``, from the test extra) as a subprocess."""
    port = PORT_BASE + 1
    binary = Path(sys.executable).with_name("moto_server")
    assert binary.exists(), "moto_server is missing: scripts/setup.sh --test installs moto[server]"
    process = start([str(binary), "-H", "127.0.0.1", "-p", str(port)], port, "moto_server")
    yield f"http://127.0.0.1:{port}"
    stop(process)


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
    """gcp-storage-emulator (PyPI, the test extra) as a subprocess, in memory."""
    port = PORT_BASE + 2
    binary = Path(sys.executable).with_name("gcp-storage-emulator")
    assert binary.exists(), "gcp-storage-emulator is missing: scripts/setup.sh --test installs it"
    process = start(
        [str(binary), "start", "--host", "127.0.0.1", "--port", str(port), "--in-memory", "-q"],
        port,
        "gcp-storage-emulator",
        cwd=tmp_path_factory.mktemp("gcs"),
    )
    yield f"http://127.0.0.1:{port}"
    stop(process)


@pytest.fixture
def gcs(gcs_server, settings):
    """A fresh bucket on the emulator; LabelHub's GCS storages talk to the emulator."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage as gcs_client

    settings.LABELHUB_GCS_ENDPOINT = gcs_server
    client = gcs_client.Client(
        project="test",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": gcs_server},
    )
    bucket = client.lookup_bucket(BUCKET) or client.create_bucket(BUCKET)
    for blob in client.list_blobs(BUCKET):
        blob.delete()
    return bucket


AZURITE_ACCOUNT = "devstoreaccount1"
# Azurite's well-known development key (public, in Microsoft's documentation).
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
AZURITE = Path(__file__).resolve().parents[2] / ".cache" / "azurite" / "node_modules" / ".bin"


@pytest.fixture(scope="session")
def azure_server(tmp_path_factory):
    """Azurite's blob service (npm, installed by scripts/fetch_azurite.sh) as a subprocess."""
    port = PORT_BASE + 3
    binary = AZURITE / "azurite-blob"
    assert binary.exists(), "Azurite is missing: run scripts/fetch_azurite.sh (setup.sh --test)"
    process = start(
        [
            str(binary),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--inMemoryPersistence",
            "--skipApiVersionCheck",
            "--silent",
        ],
        port,
        "azurite-blob",
        cwd=tmp_path_factory.mktemp("azurite"),
    )
    yield f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
    stop(process)


@pytest.fixture
def azure(azure_server, settings):
    """A fresh container on Azurite; LabelHub's Azure storages talk to Azurite."""
    from azure.storage.blob import BlobServiceClient

    settings.LABELHUB_AZURE_BLOB_ENDPOINT = azure_server.replace(AZURITE_ACCOUNT, "{account_name}")
    service = BlobServiceClient(
        account_url=azure_server,
        credential={"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY},
    )
    container = service.get_container_client("labelhub-test")
    if container.exists():
        container.delete_container()
        container = service.get_container_client("labelhub-test")
    container.create_container()
    return container
