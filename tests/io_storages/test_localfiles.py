"""Local files storage: a folder under LABELHUB_LOCAL_FILES_ROOT, never outside it."""

import os

import orjson
import pytest

from annotations.models import Annotation
from tasks.models import Task

pytestmark = pytest.mark.django_db
URL = "/api/storages/localfiles"
TARGET = "/api/storages/export/localfiles"


def test_round_trip(
    api, image_project, local_root, sync, jobs_inline, django_capture_on_commit_callbacks
):
    folder = local_root / "images"
    (folder / "deep").mkdir(parents=True)
    (folder / "a.png").write_bytes(b"\x89PNG a")
    (folder / "deep" / "b.png").write_bytes(b"\x89PNG b")
    body = {"project": image_project.pk, "path": str(folder), "use_blob_urls": True}
    assert api.post(f"{URL}/validate", body, format="json").status_code == 200
    storage = api.post(URL, {**body, "recursive_scan": True}, format="json").json()
    done = sync(f"{URL}/{storage['id']}")
    assert done["status"] == "completed" and done["last_sync_count"] == 2
    task = Task.objects.filter(project=image_project).order_by("pk").first()
    assert task.data["image"] == "/data/local-files/?d=images/a.png"
    assert b"".join(api.get(task.data["image"]).streaming_content) == b"\x89PNG a"

    out = local_root / "out"
    out.mkdir()
    target = api.post(
        TARGET,
        {"project": image_project.pk, "path": str(out), "can_delete_objects": True},
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
                            "rectanglelabels": ["Cat"],
                        },
                    }
                ]
            },
            format="json",
        )
    assert created.status_code == 201, created.content
    annotation_id = created.json()["id"]
    # Written after the commit, by the worker, without a sync.
    stored = orjson.loads((out / str(annotation_id)).read_bytes())
    assert stored["id"] == annotation_id and stored["task"]["id"] == task.pk
    assert sync(f"{TARGET}/{target['id']}")["last_sync_count"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/annotations/{annotation_id}/").status_code == 204
    assert not (out / str(annotation_id)).exists()
    assert not Annotation.objects.filter(pk=annotation_id).exists()


def test_paths_outside_the_root_are_refused(api, image_project, local_root, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.json").write_text('[{"image": "x"}]')
    for path in (str(outside), str(local_root / ".." / "outside"), "relative/path", "/etc"):
        response = api.post(URL, {"project": image_project.pk, "path": path}, format="json")
        assert response.status_code == 400, path
        assert response.json()["errors"][0]["field"] == "path"
    escape = local_root / "escape"
    escape.symlink_to(outside, target_is_directory=True)
    response = api.post(URL, {"project": image_project.pk, "path": str(escape)}, format="json")
    assert response.status_code == 400


def test_symlinks_out_of_the_root_are_skipped(api, project, local_root, tmp_path, sync):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.json").write_text('[{"text": "secret"}]')
    folder = local_root / "tasks"
    folder.mkdir()
    (folder / "ok.json").write_text('[{"text": "fine"}]')
    os.symlink(outside / "secret.json", folder / "link.json")
    os.symlink(outside, folder / "dir")
    storage = api.post(
        URL, {"project": project.pk, "path": str(folder), "recursive_scan": True}, format="json"
    ).json()
    assert sync(f"{URL}/{storage['id']}")["last_sync_count"] == 1
    assert [t.data["text"] for t in Task.objects.filter(project=project)] == ["fine"]


def test_off_without_a_root(api, project, settings, tmp_path):
    settings.LABELHUB_LOCAL_FILES_ROOT = ""
    response = api.post(URL, {"project": project.pk, "path": str(tmp_path)}, format="json")
    assert response.status_code == 400 and "LABELHUB_LOCAL_FILES_ROOT" in str(
        response.json()["validation_errors"]
    )


def test_a_storages_folder_is_served_to_members_before_import(
    api, image_project, local_root, client_for, outsider
):
    folder = local_root / "pics"
    folder.mkdir()
    (folder / "x.png").write_bytes(b"\x89PNG x")
    (local_root / "elsewhere.png").write_bytes(b"\x89PNG no")
    api.post(URL, {"project": image_project.pk, "path": str(folder)}, format="json")
    response = api.get("/data/local-files/?d=pics/x.png")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"\x89PNG x"
    assert api.get("/data/local-files/?d=elsewhere.png").status_code == 404
    assert api.get("/data/local-files/?d=pics/../../etc/passwd").status_code == 404
    assert client_for(outsider).get("/data/local-files/?d=pics/x.png").status_code == 404


def test_storage_filename_column(api, image_project, local_root, sync):
    """The Data Manager's ``storage_filename``: shown, sorted and filtered by the key."""
    folder = local_root / "named"
    (folder / "sub").mkdir(parents=True)
    for name in ("b.png", "a.png", "sub/c.png"):
        (folder / name).write_bytes(b"\x89PNG")
    body = {"project": image_project.pk, "path": str(folder), "recursive_scan": True}
    storage = api.post(URL, {**body, "use_blob_urls": True}, format="json").json()
    assert sync(f"{URL}/{storage['id']}")["last_sync_count"] == 3
    view = api.post(
        "/api/dm/views/",
        {"project": image_project.pk, "data": {"ordering": ["-tasks:storage_filename"]}},
        format="json",
    )
    assert view.status_code == 201, view.content
    rows = api.get("/api/tasks/", {"view": view.json()["id"], "fields": "all"}).json()["tasks"]
    names = [row["storage_filename"] for row in rows]
    assert [n.rsplit("named/", 1)[-1] for n in names] == ["sub/c.png", "b.png", "a.png"]
    only = {
        "filters": {
            "conjunction": "and",
            "items": [
                {
                    "filter": "filter:tasks:storage_filename",
                    "operator": "contains",
                    "type": "String",
                    "value": "sub/",
                }
            ],
        }
    }
    found = api.get("/api/tasks/", {"project": image_project.pk, "query": orjson.dumps(only)})
    assert [r["storage_filename"] for r in found.json()["tasks"]] == [names[0]]
