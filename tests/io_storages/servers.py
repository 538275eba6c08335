"""The storage emulators as subprocesses on 127.0.0.1 (moto's S3 server,
gcp-storage-emulator, Azurite's blob service), for the storage tests and the SDK tests.
Each helper is a context manager yielding the server's base URL."""

import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

AZURITE_ACCOUNT = "devstoreaccount1"
# Azurite's well-known development key (public, in Microsoft's documentation).
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
AZURITE = Path(__file__).resolve().parents[2] / ".cache" / "azurite" / "node_modules" / ".bin"


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


@contextmanager
def moto(port: int):
    binary = Path(sys.executable).with_name("moto_server")
    assert binary.exists(), "moto_server is missing: scripts/setup.sh --test installs moto[server]"
    process = start([str(binary), "-H", "127.0.0.1", "-p", str(port)], port, "moto_server")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


@contextmanager
def gcs_emulator(port: int, folder: Path):
    binary = Path(sys.executable).with_name("gcp-storage-emulator")
    assert binary.exists(), "gcp-storage-emulator is missing: scripts/setup.sh --test installs it"
    command = [
        str(binary),
        "start",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--in-memory",
        "-q",
    ]
    process = start(command, port, "gcp-storage-emulator", cwd=folder)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


@contextmanager
def azurite(port: int, folder: Path):
    binary = AZURITE / "azurite-blob"
    assert binary.exists(), "Azurite is missing: run scripts/fetch_azurite.sh (setup.sh --test)"
    command = [
        str(binary),
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        str(port),
        "--inMemoryPersistence",
        "--skipApiVersionCheck",
        "--silent",
    ]
    process = start(command, port, "azurite-blob", cwd=folder)
    try:
        yield f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
    finally:
        stop(process)


def gcs_bucket(endpoint: str, name: str):
    """An empty bucket ``name`` on the emulator at ``endpoint``."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage as gcs_client

    client = gcs_client.Client(
        project="test",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": endpoint},
    )
    bucket = client.lookup_bucket(name) or client.create_bucket(name)
    for blob in client.list_blobs(name):
        blob.delete()
    return bucket


def azure_container(endpoint: str, name: str):
    """An empty container ``name`` on Azurite at ``endpoint``."""
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient(
        account_url=endpoint,
        credential={"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY},
    )
    container = service.get_container_client(name)
    if container.exists():
        container.delete_container()
        container = service.get_container_client(name)
    container.create_container()
    return container
