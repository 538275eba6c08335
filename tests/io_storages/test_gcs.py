"""GCS source and target against gcp-storage-emulator, started as a subprocess on
loopback: google-cloud-storage speaks HTTP to it, nothing is patched."""

import orjson
import pytest

from annotations.models import Annotation
from tasks.models import Task
from tests.factories import choice

pytestmark = pytest.mark.django_db
URL = "/api/storages/gcs"
TARGET = "/api/storages/export/gcs"


def test_round_trip(api, image_project, gcs, sync, jobs_inline, django_capture_on_commit_callbacks):
    gcs.blob("images/a.png").upload_from_string(b"\x89PNG gcs")
    gcs.blob("images/skip.txt").upload_from_string(b"x")
    body = {
        "project": image_project.pk,
        "bucket": gcs.name,
        "prefix": "images",
        "use_blob_urls": True,
        "regex_filter": r".*\.png$",
    }
    assert api.post(f"{URL}/validate", body, format="json").status_code == 200
    assert api.post(f"{URL}/validate", {**body, "bucket": "nope"}, format="json").status_code == 400
    storage = api.post(URL, body, format="json").json()
    assert storage["type"] == "gcs" and storage["bucket"] == gcs.name
    files = api.post(f"{URL}/files", body, format="json").json()["files"]
    assert [f["key"] for f in files] == ["images/a.png"]
    done = sync(f"{URL}/{storage['id']}")
    assert done["status"] == "completed" and done["last_sync_count"] == 1, done
    task = Task.objects.get(project=image_project)
    assert task.data["image"] == f"gs://{gcs.name}/images/a.png"
    # No signing key on the emulator: the object is streamed through the server.
    shown = api.get(f"/api/tasks/{task.pk}").json()["data"]["image"]
    response = api.get(shown)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"\x89PNG gcs"

    target = api.post(
        TARGET,
        {
            "project": image_project.pk,
            "bucket": gcs.name,
            "prefix": "out",
            "can_delete_objects": True,
        },
        format="json",
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
                            "rectanglelabels": ["Dog"],
                        },
                    }
                ]
            },
            format="json",
        )
    annotation = Annotation.objects.get(pk=created.json()["id"])
    stored = orjson.loads(gcs.blob(f"out/{annotation.pk}").download_as_bytes())
    assert stored["id"] == annotation.pk and stored["task"]["id"] == task.pk
    assert sync(f"{TARGET}/{target['id']}")["last_sync_count"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        api.delete(f"/api/annotations/{annotation.pk}/")
    assert not gcs.blob(f"out/{annotation.pk}").exists()


def test_bad_credentials_and_missing_bucket(api, project, gcs, settings):
    body = {"project": project.pk, "bucket": gcs.name}
    wrong = api.post(
        f"{URL}/validate",
        {**body, "google_application_credentials": '{"wrong": "service account info"}'},
        format="json",
    )
    assert wrong.status_code == 400
    assert wrong.json()["errors"][0]["field"] == "google_application_credentials"
    assert api.post(TARGET, {**body, "bucket": "missing-bucket"}, format="json").status_code == 400
    settings.LABELHUB_GCS_ENDPOINT = ""
    keyless = api.post(TARGET, body, format="json")
    assert keyless.status_code == 400 and "credentials" in str(keyless.json()["validation_errors"])


def test_json_tasks(api, project, gcs, sync):
    gcs.blob("tasks/1.json").upload_from_string(orjson.dumps([{"text": "a"}, {"text": "b"}]))
    storage = api.post(
        URL, {"project": project.pk, "bucket": gcs.name, "prefix": "tasks/"}, format="json"
    ).json()
    assert sync(f"{URL}/{storage['id']}")["last_sync_count"] == 2
    assert sorted(t.data["text"] for t in Task.objects.filter(project=project)) == ["a", "b"]
    assert choice("Positive")
