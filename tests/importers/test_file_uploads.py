"""Label Studio's two-step import (create_project.tavern.yml, data_import.tavern.yml):
``import?commit_to_project=false`` keeps the files, ``reimport`` makes tasks of them,
``file-uploads`` and ``import/file-upload/{id}`` list, change and delete them."""

import io

import pytest
from django.core.files.storage import default_storage

from importers.models import FileUpload
from tasks.models import Task

pytestmark = pytest.mark.django_db

TS_CONFIG = """<View>
  <TimeSeriesLabels name="label" toName="ts"><Label value="Run"/></TimeSeriesLabels>
  <TimeSeries name="ts" valueType="url" value="$csv" timeColumn="time">
    <Channel column="sensorone"/>
  </TimeSeries>
</View>"""


def _csv(name: str, rows: int) -> io.BytesIO:
    handle = io.BytesIO(("text,key\n" + "".join(f"row {i},{i}\n" for i in range(rows))).encode())
    handle.name = name
    return handle


def _upload(api, project, *files):
    response = api.post(
        f"/api/projects/{project.pk}/import?commit_to_project=false",
        {f"csv_{i}": f for i, f in enumerate(files)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_upload_without_tasks_then_reimport_replaces_them(api, project):
    body = _upload(api, project, _csv("a.csv", 3), _csv("b.csv", 2))
    assert body["task_count"] == 5
    assert body["annotation_count"] is None and body["prediction_count"] is None
    assert body["could_be_tasks_list"] is True
    assert body["found_formats"] == {".csv": 2}
    assert body["data_columns"] == ["text", "key"]
    ids = body["file_upload_ids"]
    assert len(ids) == 2 and not Task.objects.filter(project=project).exists()

    url = f"/api/projects/{project.pk}/reimport"
    again = api.post(url, {"file_upload_ids": ids, "files_as_tasks_list": True}, format="json")
    assert again.status_code == 201, again.content
    answer = again.json()
    assert answer["task_count"] == 5 and answer["file_upload_ids"] == ids
    assert Task.objects.filter(project=project).count() == 5
    # A second re-import of one upload replaces the tasks it made, not the others'.
    once_more = api.post(url, {"file_upload_ids": [ids[0]]}, format="json").json()
    assert once_more["task_count"] == 3
    assert Task.objects.filter(project=project).count() == 5
    project.refresh_from_db()
    assert project.task_number == 5

    record = api.get(f"/api/projects/{project.pk}/reimports/{once_more['reimport']}/").json()
    assert record["status"] == "completed" and record["task_count"] == 3
    assert record["file_upload_ids"] == [ids[0]] and record["files_as_tasks_list"] is True
    assert api.get(f"/api/projects/{project.pk}/reimports/999999/").status_code == 404

    empty = api.post(url, {"file_upload_ids": []}, format="json")
    assert empty.status_code == 200 and empty.json()["task_count"] == 0
    assert api.post(url, {"file_upload_ids": [999999]}, format="json").status_code == 400
    assert api.post(url, {"file_upload_ids": "x"}, format="json").status_code == 400


def test_whole_files_as_one_task_each(api, make_project):
    project = make_project(TS_CONFIG, "ts")
    ids = _upload(api, project, _csv("a.csv", 3), _csv("b.csv", 2))["file_upload_ids"]
    answer = api.post(
        f"/api/projects/{project.pk}/reimport",
        {"file_upload_ids": ids, "files_as_tasks_list": False},
        format="json",
    ).json()
    assert answer["task_count"] == 2
    urls = [t.data["csv"] for t in Task.objects.filter(project=project).order_by("id")]
    uploads = FileUpload.objects.order_by("id")
    assert urls == [f"/data/upload/{project.pk}/{u.file.rsplit('/', 1)[-1]}" for u in uploads]
    served = api.get(urls[0])
    assert served.status_code == 200
    assert b"".join(served.streaming_content).startswith(b"text,key")
    # Deleting the uploads keeps the files the tasks point at.
    deleted = api.delete(
        f"/api/projects/{project.pk}/file-uploads", {"file_upload_ids": ids}, format="json"
    )
    assert deleted.json() == {"deleted": 2}
    assert all(default_storage.exists(u.file) for u in uploads)


def test_whole_files_into_a_project_without_config_take_undefined(api, make_project):
    """A project still without a config (``<View></View>``, no data key) gets each whole
    file under Label Studio's ``$undefined$`` (data_import.tavern.yml's
    interpert_as_time_series); a config with several data keys is still a 400."""
    project = make_project("<View></View>", "open")
    ids = _upload(api, project, _csv("a.csv", 3), _csv("b.csv", 2))["file_upload_ids"]
    answer = api.post(
        f"/api/projects/{project.pk}/reimport",
        {"file_upload_ids": ids, "files_as_tasks_list": False},
        format="json",
    )
    assert answer.status_code == 201, answer.content
    assert answer.json()["task_count"] == 2
    keys = [list(t.data) for t in Task.objects.filter(project=project)]
    assert keys == [["$undefined$"], ["$undefined$"]]
    two = make_project(
        '<View><Text name="a" value="$a"/><Text name="b" value="$b"/></View>', "two keys"
    )
    ids = _upload(api, two, _csv("c.csv", 1))["file_upload_ids"]
    refused = api.post(
        f"/api/projects/{two.pk}/reimport",
        {"file_upload_ids": ids, "files_as_tasks_list": False},
        format="json",
    )
    assert refused.status_code == 400


def test_file_uploads_list_get_patch_delete(
    api, project, client_for, annotator, outsider, django_capture_on_commit_callbacks
):
    ids = _upload(api, project, _csv("a.csv", 1), _csv("b.csv", 1))["file_upload_ids"]
    base = f"/api/projects/{project.pk}/file-uploads"
    assert api.get(base).json() == []  # Label Studio: only the ids asked for
    listed = api.get(f"{base}?all=true").json()
    assert [u["id"] for u in listed] == ids
    assert {"id", "file", "size"} <= set(listed[0])
    assert [u["id"] for u in api.get(f"{base}?ids=[{ids[1]}]").json()] == [ids[1]]
    assert api.get(f"{base}?ids=nope").status_code == 400

    one = f"/api/import/file-upload/{ids[0]}"
    assert api.get(one).json()["size"] == len(b"text,key\nrow 0,0\n")
    assert client_for(outsider).get(one).status_code == 404
    assert client_for(annotator).delete(one).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        replaced = api.patch(one, {"file": _csv("c.csv", 4)}, format="multipart")
    assert replaced.status_code == 200, replaced.content
    stored = FileUpload.objects.get(pk=ids[0])
    assert stored.name == "c.csv" and default_storage.open(stored.file).read().count(b"\n") == 5
    old_file = listed[0]["file"]
    assert not default_storage.exists(old_file)

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(one).status_code == 204
    assert not default_storage.exists(stored.file)  # no task points at it
    assert api.get(one).status_code == 404
    assert api.delete(base).json() == {"deleted": 1}
    assert not FileUpload.objects.exists()


def test_uploaded_media_answer_range_requests(api, make_project):
    """Browsers seek in video (the editor's frame steps) only when Range gets a 206."""
    project = make_project(TS_CONFIG, "ts")
    ids = _upload(api, project, _csv("a.csv", 50))["file_upload_ids"]
    api.post(
        f"/api/projects/{project.pk}/reimport",
        {"file_upload_ids": ids, "files_as_tasks_list": False},
        format="json",
    )
    url = Task.objects.get(project=project).data["csv"]
    whole = api.get(url)
    body = b"".join(whole.streaming_content)
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes"

    part = api.get(url, HTTP_RANGE="bytes=5-14")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 5-14/{len(body)}" and part["Content-Length"] == "10"
    assert b"".join(part.streaming_content) == body[5:15]
    tail = api.get(url, HTTP_RANGE="bytes=-4")
    assert tail.status_code == 206 and b"".join(tail.streaming_content) == body[-4:]
    open_end = api.get(url, HTTP_RANGE=f"bytes={len(body) - 3}-")
    assert b"".join(open_end.streaming_content) == body[-3:]
    beyond = api.get(url, HTTP_RANGE=f"bytes={len(body)}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{len(body)}"
    several = api.get(url, HTTP_RANGE="bytes=0-1,4-5")  # multi-range: the whole file
    assert several.status_code == 200 and b"".join(several.streaming_content) == body
    assert "sandbox" in part["Content-Security-Policy"]


def test_direct_uploads_are_kept_and_link_their_tasks(api, project, make_project):
    """Label Studio keeps every uploaded file of a direct import: its tasks carry its id
    (``file_upload``), ``file-uploads`` lists it, and a re-import replaces its tasks
    (data_import.repeater.tavern.yml, project_tasks_api_paging.tavern.yml)."""
    response = api.post(
        f"/api/projects/{project.pk}/import",
        {"a": _csv("a.csv", 3), "b": _csv("b.csv", 2)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    ids = response.json()["file_upload_ids"]
    assert len(ids) == 2
    uploads = {u.pk: u for u in FileUpload.objects.filter(project=project)}
    assert sorted(uploads) == sorted(ids) and all(
        default_storage.exists(u.file) for u in uploads.values()
    )
    by_upload = {pk: Task.objects.filter(file_upload_id=pk).count() for pk in ids}
    assert by_upload == {ids[0]: 3, ids[1]: 2}
    listed = api.get(f"/api/projects/{project.pk}/tasks").json()
    assert {t["file_upload"] for t in listed} == set(ids)
    rows = api.get("/api/tasks/", {"project": project.pk, "fields": "all"}).json()["tasks"]
    assert {r["file_upload"] for r in rows} == {uploads[pk].file.rsplit("/", 1)[-1] for pk in ids}
    assert len(api.get(f"/api/projects/{project.pk}/file-uploads?all=true").json()) == 2

    again = api.post(
        f"/api/projects/{project.pk}/reimport", {"file_upload_ids": [ids[0]]}, format="json"
    )
    assert again.status_code == 201 and again.json()["task_count"] == 3
    assert Task.objects.filter(project=project).count() == 5

    # Deleting an upload keeps its tasks, without their file_upload.
    assert api.delete(f"/api/import/file-upload/{ids[1]}").status_code == 204
    assert Task.objects.filter(project=project, file_upload_id=None).count() == 2

    # A JSON body keeps none, as in Label Studio.
    body = api.post(f"/api/projects/{project.pk}/import", [{"text": "x"}], format="json")
    assert body.json()["file_upload_ids"] == []
    assert FileUpload.objects.filter(project=project).count() == 1


def test_an_uploaded_media_file_is_one_stored_copy(api, make_project, tmp_path):
    project = make_project("<View><Image name='image' value='$image'/></View>")
    image = io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 32)
    image.name = "first.png"
    response = api.post(
        f"/api/projects/{project.pk}/tasks/bulk", {"image_0": image}, format="multipart"
    )
    assert response.status_code == 201, response.content
    (upload_id,) = response.json()["file_upload_ids"]
    upload = FileUpload.objects.get(pk=upload_id)
    task = Task.objects.get(project=project)
    assert task.file_upload_id == upload.pk
    assert task.data["image"].endswith("/" + upload.file.rsplit("/", 1)[-1])


def test_a_failed_upload_import_keeps_nothing(api, project):
    bad = io.BytesIO(b'[{"text": "ok"}, "not a task"]')
    bad.name = "bad.json"
    response = api.post(
        f"/api/projects/{project.pk}/import", {"a": _csv("a.csv", 2), "b": bad}, format="multipart"
    )
    assert response.status_code == 400, response.content
    assert not FileUpload.objects.exists() and not Task.objects.exists()
