"""S3 source and target storages against moto's S3 server, started as a subprocess on
loopback: boto3 speaks HTTP to it, nothing is patched. (Moved here from
tests/importers/test_s3.py and tests/exporters/test_s3_target.py.)"""

import orjson
import pytest
import requests
from django.db import connection
from django.test.utils import CaptureQueriesContext

from io_storages.models import ImportStorageLink
from tasks.models import Task
from tests.factories import choice
from tests.io_storages.conftest import BUCKET, s3_body

pytestmark = pytest.mark.django_db
URL = "/api/storages/s3"
TARGET = "/api/storages/export/s3"


def put(s3, key: str, body: bytes = b"\x89PNG fake") -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)


def test_create_list_and_secrets_stay_hidden(api, s3, moto_server, image_project):
    put(s3, "images/a.png")
    response = api.post(URL, s3_body(moto_server, image_project), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["bucket"] == BUCKET and body["project"] == image_project.pk
    assert body["type"] == "s3" and body["status"] == "initialized"
    for secret in ("aws_secret_access_key", "aws_session_token", "aws_access_key_id"):
        assert secret not in body
    text = orjson.dumps(body).decode()
    assert "credentials" not in body and "WRITEONLY" not in text and "s3cr3t" not in text
    listed = api.get(f"{URL}/?project={image_project.pk}").json()
    assert [s["id"] for s in listed] == [body["id"]]
    assert api.get(f"{URL}/{body['id']}").json()["prefix"] == "images/"
    assert [s["id"] for s in api.get(f"/api/storages/?project={image_project.pk}").json()] == [
        body["id"]
    ]
    assert api.get(URL).status_code == 400  # Label Studio: "project" is required


def test_sync_runs_as_a_job_and_resync_adds_only_new_ones(
    api, s3, moto_server, image_project, sync
):
    for name in ("a.png", "b.png", "skip.txt"):
        put(s3, f"images/{name}")
    put(s3, "elsewhere/c.png")
    storage = api.post(
        f"{URL}/", s3_body(moto_server, image_project, regex_filter=r".*\.png$"), format="json"
    ).json()
    done = sync(f"{URL}/{storage['id']}")
    assert done["last_sync_count"] == 2 and done["status"] == "completed", done
    assert done["last_sync_job"] and done["meta"]["attempts"] == 1
    assert sorted(t.data["image"] for t in Task.objects.filter(project=image_project)) == [
        f"s3://{BUCKET}/images/a.png",
        f"s3://{BUCKET}/images/b.png",
    ]

    put(s3, "images/d.png")
    with CaptureQueriesContext(connection) as queries:
        again = sync(f"{URL}/{storage['id']}")
    assert again["last_sync_count"] == 1
    assert Task.objects.filter(project=image_project).count() == 3
    # Known keys are found with one keyed lookup per listed page, never by reading tasks.
    reads_of_tasks = [
        q["sql"]
        for q in queries
        if "tasks_task" in q["sql"]
        and q["sql"].lstrip().upper().startswith("SELECT")
        and "io_storages" not in q["sql"]
    ]
    assert reads_of_tasks == []
    assert ImportStorageLink.objects.filter(storage_id=storage["id"]).count() == 3
    assert sync(f"{URL}/{storage['id']}")["last_sync_count"] == 0


def test_sync_without_the_worker_leaves_it_queued(api, s3, moto_server, image_project):
    """The request only queues: nothing is imported until a worker runs the job."""
    put(s3, "images/a.png")
    storage = api.post(URL, s3_body(moto_server, image_project), format="json").json()
    response = api.post(f"{URL}/{storage['id']}/sync")
    assert response.status_code == 200 and response.json()["status"] == "queued"
    assert not Task.objects.filter(project=image_project).exists()


def test_json_task_files(api, s3, moto_server, project, sync):
    put(s3, "images/tasks.json", orjson.dumps([{"text": "one"}, {"data": {"text": "two"}}]))
    put(s3, "images/more.jsonl", b'{"text": "three"}\n')
    storage = api.post(
        URL, s3_body(moto_server, project, use_blob_urls=False), format="json"
    ).json()
    assert sync(f"{URL}/{storage['id']}")["last_sync_count"] == 3
    assert sorted(t.data["text"] for t in Task.objects.filter(project=project)) == [
        "one",
        "three",
        "two",
    ]
    links = ImportStorageLink.objects.filter(storage_id=storage["id"])
    assert sorted(links.values_list("key", flat=True)) == [
        "images/more.jsonl",
        "images/tasks.json",
        "images/tasks.json",
    ]
    assert all(link.task_id for link in links)


def test_a_bad_task_file_imports_nothing(api, s3, moto_server, project, sync):
    put(s3, "images/a.json", b'[{"text": "fine"}]')
    put(s3, "images/b.json", b'[{"nope": 1}]')
    storage = api.post(
        URL, s3_body(moto_server, project, use_blob_urls=False), format="json"
    ).json()
    done = sync(f"{URL}/{storage['id']}")
    assert done["status"] == "failed" and "text" in done["traceback"]
    assert not Task.objects.filter(project=project).exists()
    assert not ImportStorageLink.objects.exists()


def test_presigned_redirect_for_members_only(
    api, client_for, outsider, s3, moto_server, image_project, sync
):
    put(s3, "images/a.png", b"\x89PNG real bytes")
    storage = api.post(
        URL, s3_body(moto_server, image_project, presign_ttl=5), format="json"
    ).json()
    sync(f"{URL}/{storage['id']}")
    task = Task.objects.get(project=image_project)
    uri = task.data["image"]
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

    # Label Studio's paths: the task's data points at /tasks/{id}/resolve/ (base64 URI).
    shown = api.get(f"/api/tasks/{task.pk}").json()["data"]["image"]
    assert shown.startswith(f"/tasks/{task.pk}/resolve/?fileuri=")
    resolved = api.get(shown)
    assert resolved.status_code == 303 and "X-Amz-Signature=" in resolved["Location"]
    for path in (
        f"/tasks/{task.pk}/presign/",
        f"/projects/{image_project.pk}/resolve/",
        f"/projects/{image_project.pk}/presign",
        f"/tasks/{task.pk}/presign",
    ):
        assert api.get(path, {"fileuri": uri}).status_code == 303
    assert client_for(outsider).get(shown).status_code == 404


def test_proxy_when_presign_is_off(api, s3, moto_server, image_project, sync):
    put(s3, "images/a.png", b"\x89PNG proxied")
    storage = api.post(
        URL, s3_body(moto_server, image_project, presign=False), format="json"
    ).json()
    sync(f"{URL}/{storage['id']}")
    task = Task.objects.get(project=image_project)
    response = api.get(api.get(f"/api/tasks/{task.pk}").json()["data"]["image"])
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"\x89PNG proxied"
    assert "sandbox" in response["Content-Security-Policy"]


def test_storage_uris_resolved(image_project):
    from tasks.representations import storage_uris_resolved

    data = storage_uris_resolved(
        7,
        {
            "image": f"s3://{BUCKET}/a b.png",
            "n": 1,
            "l": [f"gs://{BUCKET}/c"],
            "d": {"x": f"azure-blob://c/{BUCKET}"},
            "bad": "s3:/",
        },
    )
    assert data["image"] == "/tasks/7/resolve/?fileuri=czM6Ly9sYWJlbGh1Yi10ZXN0L2EgYi5wbmc="
    assert data["n"] == 1 and data["l"][0].startswith("/tasks/7/resolve/")
    assert data["d"]["x"].startswith("/tasks/7/resolve/") and data["bad"] == "s3:/"


def test_bad_input(api, s3, moto_server, image_project, client_for, annotator, settings):
    put(s3, "images/a.png")
    response = api.post(URL, s3_body(moto_server, image_project, regex_filter="(["), format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "regex_filter"
    settings.LABELHUB_STORAGE_ALLOWED_HOSTS = []
    response = api.post(URL, s3_body(moto_server, image_project), format="json")
    assert response.status_code == 400 and "not a public address" in str(
        response.json()["validation_errors"]
    )
    assert response.json()["errors"][0]["field"] == "s3_endpoint"
    settings.LABELHUB_STORAGE_ALLOWED_HOSTS = ["127.0.0.1"]
    # An unreachable bucket is refused on save, with the reason.
    missing = api.post(
        URL, s3_body(moto_server, image_project, bucket="no-such-bucket"), format="json"
    )
    # Label Studio's answer (its test_validate_s3_connection), with ours beside it.
    body = missing.json()
    assert missing.status_code == 400
    assert body["detail"] == "Validation error" and body["status_code"] == 400
    assert body["validation_errors"] == {
        "non_field_errors": ["Cannot find bucket no-such-bucket in S3"]
    }
    assert body["exc_info"] is None and body["id"]
    assert body["errors"] == [
        {"field": "bucket", "message": "Cannot find bucket no-such-bucket in S3"}
    ]
    storage = api.post(URL, s3_body(moto_server, image_project), format="json").json()
    from projects.models import ProjectMember
    from projects.services import member_set

    member_set(project=image_project, user=annotator, role=ProjectMember.Role.ANNOTATOR)
    assert client_for(annotator).post(f"{URL}/{storage['id']}/sync").status_code == 403
    assert api.post(URL, [1, 2], format="json").status_code == 400


def test_sync_of_a_storage_that_became_unreachable_is_a_400(api, s3, moto_server, image_project):
    put(s3, "images/a.png")
    storage = api.post(URL, s3_body(moto_server, image_project), format="json").json()
    s3.delete_object(Bucket=BUCKET, Key="images/a.png")
    s3.delete_bucket(Bucket=BUCKET)
    response = api.post(f"{URL}/{storage['id']}/sync")
    assert response.status_code == 400 and "Cannot find bucket" in str(
        response.json()["validation_errors"]
    )
    assert api.get(f"{URL}/{storage['id']}").json()["status"] == "initialized"


def test_patch_and_delete(api, s3, moto_server, image_project):
    put(s3, "images/a.png")
    put(s3, "other/b.png")
    storage = api.post(URL, s3_body(moto_server, image_project), format="json").json()
    patched = api.patch(f"{URL}/{storage['id']}/", {"prefix": "other/"}, format="json")
    assert patched.status_code == 200 and patched.json()["prefix"] == "other/"
    renamed = api.patch(f"{URL}/{storage['id']}", {"title": "new"}, format="json")
    assert renamed.json()["title"] == "new"
    assert (
        api.patch(f"{URL}/{storage['id']}", {"prefix": "none/"}, format="json").status_code == 400
    )
    assert api.delete(f"{URL}/{storage['id']}/").status_code == 204
    assert api.get(f"{URL}/{storage['id']}/").status_code == 404


def test_validate_files_form_and_types(api, s3, moto_server, image_project):
    put(s3, "images/a.png")
    put(s3, "images/b.png")
    put(s3, "images/deep/c.png")
    body = s3_body(moto_server, image_project)
    assert api.post(f"{URL}/validate", body, format="json").status_code == 200
    bad = api.post(f"{URL}/validate", {**body, "bucket": "no-such-bucket"}, format="json")
    assert bad.status_code == 400
    storage = api.post(URL, body, format="json").json()
    # With ``id``, the stored credentials are used (the form does not send them again).
    again = {"id": storage["id"], "bucket": BUCKET, "project": image_project.pk}
    assert api.post(f"{URL}/validate", again, format="json").status_code == 200
    files = api.post(f"{URL}/files", {**body, "limit": 1}, format="json").json()["files"]
    assert [f["key"] for f in files] == ["images/a.png", None]
    listed = api.post(f"{URL}/files", {**body, "recursive_scan": True}, format="json")
    assert [f["key"] for f in listed.json()["files"]] == [
        "images/a.png",
        "images/b.png",
        "images/deep/c.png",
    ]
    form = api.get(f"{URL}/form").json()
    names = [field["name"] for row in form for field in row["fields"]]
    assert "bucket" in names and "aws_secret_access_key" in names and "presign_ttl" in names
    types = api.get("/api/storages/types").json()
    assert types[0] == {"name": "s3", "title": "AWS S3"}
    assert api.get("/api/storages/export/types").json() == types


# --------------------------------------------------------------------------- targets


def test_target_create_list_sync(
    api, project, import_tasks, s3, moto_server, outsider, client_for, sync
):
    ids = import_tasks(
        project,
        [
            {"data": {"text": "a"}, "annotations": [{"result": choice("Positive")}]},
            {"data": {"text": "b"}},
            {"data": {"text": "d"}, "annotations": [{"result": choice("Negative")}]},
        ],
    )
    created = api.post(TARGET, s3_body(moto_server, project, prefix="exports"), format="json")
    assert created.status_code == 201, created.content
    storage = created.json()
    assert "aws_secret_access_key" not in storage and storage["bucket"] == BUCKET
    assert [s["id"] for s in api.get(f"{TARGET}?project={project.pk}").json()] == [storage["id"]]
    assert [s["id"] for s in api.get(f"/api/storages/export?project={project.pk}").json()] == [
        storage["id"]
    ]
    assert client_for(outsider).get(f"{TARGET}/{storage['id']}").status_code == 404
    assert client_for(outsider).post(f"{TARGET}/{storage['id']}/sync").status_code == 404

    done = sync(f"{TARGET}/{storage['id']}")
    assert done["last_sync_count"] == 2 and done["status"] == "completed"
    from annotations.models import Annotation

    annotations = {a.task_id: a.pk for a in Annotation.objects.filter(project=project)}
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"])
    assert keys == sorted(f"exports/{annotations[i]}" for i in (ids[0], ids[2]))
    stored = orjson.loads(
        s3.get_object(Bucket=BUCKET, Key=f"exports/{annotations[ids[0]]}")["Body"].read()
    )
    assert stored["id"] == annotations[ids[0]] and stored["result"] == choice("Positive")
    assert stored["task"]["id"] == ids[0] and stored["task"]["data"] == {"text": "a"}
    assert stored["completed_by"]["email"] == "owner@example.com"


def test_target_refuses_private_endpoints_and_bad_input(api, project, moto_server, settings):
    settings.LABELHUB_STORAGE_ALLOWED_HOSTS = []
    refused = api.post(TARGET, s3_body(moto_server, project), format="json")
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "s3_endpoint"
    metadata = api.post(TARGET, s3_body("http://169.254.169.254", project), format="json")
    assert metadata.status_code == 400
    missing = api.post(TARGET, {"project": project.pk}, format="json")
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "bucket"
    assert (
        api.post(TARGET, {"bucket": "x"}, format="json").json()["errors"][0]["field"] == "project"
    )


def test_target_on_a_missing_bucket_is_a_400_naming_it(api, project, s3, moto_server):
    response = api.post(
        TARGET, s3_body(moto_server, project, bucket="no-such-bucket"), format="json"
    )
    assert response.status_code == 400 and "no-such-bucket" in str(
        response.json()["validation_errors"]
    )


def test_a_sync_whose_worker_died_shows_failed_and_can_run_again(
    api, s3, moto_server, image_project, sync
):
    from io_storages.jobs import WORKER_LOST
    from io_storages.models import ImportStorage

    put(s3, "images/a.png")
    storage = api.post(URL, s3_body(moto_server, image_project), format="json").json()
    ImportStorage.objects.filter(pk=storage["id"]).update(status="in_progress")
    shown = api.get(f"{URL}/{storage['id']}").json()
    assert shown["status"] == "failed" and shown["traceback"] == WORKER_LOST
    assert sync(f"{URL}/{storage['id']}")["last_sync_count"] == 1
    assert api.get("/api/storages/").json() == []  # no project: Label Studio's empty list


def test_list_is_one_query_whatever_the_number_of_storages(
    api, s3, moto_server, image_project, django_assert_num_queries
):
    put(s3, "images/a.png")
    for _ in range(3):
        api.post(URL, s3_body(moto_server, image_project), format="json")
    api.get(f"{URL}/?project={image_project.pk}")  # warm the session and role caches
    # token auth, the project, the member's role, the storages
    with django_assert_num_queries(4):
        listed = api.get(f"{URL}/?project={image_project.pk}").json()
    assert len(listed) == 3


def test_uploaded_file_download(api, client_for, outsider, image_project):
    """Label Studio's /storage-data/uploaded/ (test_download_storage.tavern.yml)."""
    assert client_for(None).get("/storage-data/uploaded/").status_code in (401, 403)
    assert api.get("/storage-data/uploaded/").status_code == 404
    assert api.get("/storage-data/uploaded/?filepath=test").status_code == 403
    path = f"upload/{image_project.pk}/abc-a.png"
    assert client_for(outsider).get(f"/storage-data/uploaded/?filepath={path}").status_code == 403
    response = api.get(f"/storage-data/uploaded/?filepath={path}")
    assert response.status_code == 302
    assert response["Location"] == f"/data/upload/{image_project.pk}/abc-a.png"


def test_round_trip(
    api, s3, moto_server, image_project, sync, jobs_inline, django_capture_on_commit_callbacks
):
    """create -> validate -> sync -> label -> target sync, and the per-annotation write."""
    put(s3, "images/a.png")
    body = s3_body(moto_server, image_project)
    assert api.post(f"{URL}/validate", body, format="json").status_code == 200
    source = api.post(URL, body, format="json").json()
    assert sync(f"{URL}/{source['id']}")["last_sync_count"] == 1
    task = Task.objects.get(project=image_project)
    target = api.post(
        TARGET, s3_body(moto_server, image_project, prefix="labels"), format="json"
    ).json()
    result = [
        {
            "from_name": "label",
            "to_name": "image",
            "type": "rectanglelabels",
            "value": {"x": 1, "y": 2, "width": 3, "height": 4, "rectanglelabels": ["Cat"]},
        }
    ]
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(f"/api/tasks/{task.pk}/annotations/", {"result": result}, format="json")
    key = f"labels/{created.json()['id']}"
    assert orjson.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())["result"] == result
    s3.delete_object(Bucket=BUCKET, Key=key)
    assert sync(f"{TARGET}/{target['id']}")["last_sync_count"] == 1
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    # Without can_delete_objects, deleting the annotation keeps its object.
    with django_capture_on_commit_callbacks(execute=True):
        api.delete(f"/api/annotations/{created.json()['id']}/")
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def test_the_proxy_serves_only_objects_under_the_prefix(api, s3, moto_server, image_project, sync):
    put(s3, "images/a.png")
    put(s3, "private/secret.png", b"secret")
    storage = api.post(URL, s3_body(moto_server, image_project), format="json").json()
    sync(f"{URL}/{storage['id']}")
    task = Task.objects.get(project=image_project)
    outside = api.get(
        f"/tasks/{task.pk}/resolve/", {"fileuri": f"s3://{BUCKET}/private/secret.png"}
    )
    assert outside.status_code == 404
    inside = api.get(f"/tasks/{task.pk}/resolve/", {"fileuri": f"s3://{BUCKET}/images/a.png"})
    assert inside.status_code == 303


def test_target_sync_of_an_unreachable_bucket_is_a_400(api, s3, moto_server, project):
    storage = api.post(TARGET, s3_body(moto_server, project, bucket="gone"), format="json")
    assert storage.status_code == 400  # no such bucket yet
    s3.create_bucket(Bucket="gone")
    storage = api.post(TARGET, s3_body(moto_server, project, bucket="gone"), format="json").json()
    s3.delete_bucket(Bucket="gone")
    response = api.post(f"{TARGET}/{storage['id']}/sync")
    assert response.status_code == 400 and "Cannot find bucket gone" in str(
        response.json()["validation_errors"]
    )
    assert api.get(f"{TARGET}/{storage['id']}").json()["status"] == "initialized"


def test_storage_uris_inside_html_resolve_safely():
    """URIs quoted in a HyperText field's HTML are rewritten in place (Label Studio's
    ``uri_regex``); nothing a URI holds can leave its attribute."""
    from tasks.representations import storage_uris_resolved

    def path(uri: str) -> str:
        import base64

        return f"/tasks/7/resolve/?fileuri={base64.urlsafe_b64encode(uri.encode()).decode()}"

    page = (
        f'<p>See <img src="s3://{BUCKET}/images/x.png"> and '
        f"<a href='gs://{BUCKET}/y.png?a=1&amp;b=2'>y</a>; "
        f'again <img src="s3://{BUCKET}/images/x.png"/>. '
        f"Prose s3://{BUCKET}/not-quoted.png stays.</p>"
    )
    # Label Studio's s3_with_hypertext_s3_links: spaces and the other quote are the URI's.
    odd = f"s3://{BUCKET}/file with /spaces and' / ' / %2Bquotes%3D.jpg"
    assert storage_uris_resolved(7, {"t": f'<a href="{odd}"/>'})["t"] == f'<a href="{path(odd)}"/>'
    data = storage_uris_resolved(7, {"page": page, "n": [{"h": page}], "plain": "no uri"})
    x, y = path(f"s3://{BUCKET}/images/x.png"), path(f"gs://{BUCKET}/y.png?a=1&b=2")
    assert data["page"] == (
        f'<p>See <img src="{x}"> and <a href=\'{y}\'>y</a>; again <img src="{x}"/>. '
        f"Prose s3://{BUCKET}/not-quoted.png stays.</p>"
    )
    assert data["n"][0]["h"] == data["page"] and data["plain"] == "no uri"

    # An entity-encoded quote inside the attribute is part of the URI (base64-encoded),
    # never markup; a raw quote ends the match, so the attribute keeps its own end.
    hostile = (
        f'<img src="s3://{BUCKET}/a&quot;onerror=&quot;alert(1).png">'
        f'<img src="s3://{BUCKET}/b.png" onerror="x">'
        f"<img src='s3://{BUCKET}/c\"><script>alert(1)</script>.png'>"
    )
    out = storage_uris_resolved(7, {"page": hostile})["page"]
    decoded = path(f"s3://{BUCKET}/a" + '"onerror="alert(1).png')
    assert out.startswith(f'<img src="{decoded}">')
    assert f'<img src="{path(f"s3://{BUCKET}/b.png")}" onerror="x">' in out
    # The third holds "<" and ">": not a URI the rule accepts, left exactly as it was.
    assert out.endswith(f"<img src='s3://{BUCKET}/c\"><script>alert(1)</script>.png'>")
    for char in "<>\"'":
        assert out.count(char) == hostile.count(char), char
    assert out.count("&") == hostile.count("&") - 2


def test_html_task_from_a_bucket_resolves_through_the_proxy(api, s3, moto_server, make_project):
    from tests.factories import HTML_CONFIG

    project = make_project(HTML_CONFIG, "html")
    put(s3, "images/x.png", b"\x89PNG in html")
    storage = api.post(
        URL, s3_body(moto_server, project, presign=False, use_blob_urls=False), format="json"
    )
    assert storage.status_code == 201, storage.content
    made = api.post(
        "/api/tasks/",
        {
            "project": project.pk,
            "data": {"page": f'<b>x</b><img src="s3://{BUCKET}/images/x.png">'},
        },
        format="json",
    )
    assert made.status_code == 201, made.content
    page = api.get(f"/api/tasks/{made.json()['id']}").json()["data"]["page"]
    assert page.startswith(f'<b>x</b><img src="/tasks/{made.json()["id"]}/resolve/?fileuri=')
    link = page.split('src="', 1)[1].split('"', 1)[0]
    response = api.get(link)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"\x89PNG in html"
