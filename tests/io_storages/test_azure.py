"""Azure Blob source and target against Azurite, started as a subprocess on loopback:
azure-storage-blob speaks HTTP to it, nothing is patched."""

import orjson
import pytest
import requests

from annotations.models import Annotation
from tasks.models import Task
from tests.io_storages.servers import AZURITE_ACCOUNT, AZURITE_KEY

pytestmark = pytest.mark.django_db
URL = "/api/storages/azure"
TARGET = "/api/storages/export/azure"


def body(project, container, **extra):
    return {
        "project": project.pk,
        "container": container.container_name,
        "account_name": AZURITE_ACCOUNT,
        "account_key": AZURITE_KEY,
        **extra,
    }


def test_round_trip(
    api, image_project, azure, sync, jobs_inline, django_capture_on_commit_callbacks
):
    azure.upload_blob("images/a.png", b"\x89PNG azure")
    azure.upload_blob("images/deep/b.png", b"\x89PNG deep")
    source = body(image_project, azure, prefix="images", use_blob_urls=True, presign_ttl=2)
    assert api.post(f"{URL}/validate", source, format="json").status_code == 200
    storage = api.post(URL, source, format="json").json()
    assert storage["container"] == azure.container_name and "account_key" not in storage
    done = sync(f"{URL}/{storage['id']}")
    assert done["status"] == "completed" and done["last_sync_count"] == 1, done
    task = Task.objects.get(project=image_project)
    assert task.data["image"] == f"azure-blob://{azure.container_name}/images/a.png"
    resolved = api.get(api.get(f"/api/tasks/{task.pk}").json()["data"]["image"])
    assert resolved.status_code == 303 and "sig=" in resolved["Location"]
    assert requests.get(resolved["Location"], timeout=10).content == b"\x89PNG azure"
    api.patch(f"{URL}/{storage['id']}", {"recursive_scan": True}, format="json")
    assert sync(f"{URL}/{storage['id']}")["last_sync_count"] == 1

    target = api.post(
        TARGET, body(image_project, azure, prefix="out", can_delete_objects=True), format="json"
    ).json()
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(
            f"/api/tasks/{task.pk}/annotations/",
            {
                "result": [
                    {
                        "from_name": "label",
                        "to_name": "image",
                        "type": "rectanglelabels",
                        "value": {
                            "x": 1,
                            "y": 1,
                            "width": 5,
                            "height": 5,
                            "rectanglelabels": ["Cat"],
                        },
                    }
                ]
            },
            format="json",
        )
    annotation = Annotation.objects.get(pk=created.json()["id"])
    stored = orjson.loads(azure.download_blob(f"out/{annotation.pk}").readall())
    assert stored["id"] == annotation.pk and stored["task"]["id"] == task.pk
    assert sync(f"{TARGET}/{target['id']}")["last_sync_count"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        api.delete(f"/api/annotations/{annotation.pk}/")
    assert not azure.get_blob_client(f"out/{annotation.pk}").exists()


def test_bad_input(api, project, azure):
    wrong_key = body(project, azure, account_key="AAAA" + AZURITE_KEY[4:])
    assert api.post(URL, wrong_key, format="json").status_code == 400
    missing = api.post(TARGET, {**body(project, azure), "container": "nope"}, format="json")
    assert missing.status_code == 400 and "nope" in str(missing.json()["validation_errors"])
    bad_name = api.post(URL, body(project, azure, account_name="evil.example.com/x"), format="json")
    assert bad_name.status_code == 400 and bad_name.json()["errors"][0]["field"] == "account_name"
