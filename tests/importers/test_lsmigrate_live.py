"""The migration against a real Label Studio 1.23.2 (``make compat``).

Starts Label Studio from ``LABELHUB_LS_BIN`` (default ``.cache/compat-venv/bin/label-studio``)
on 127.0.0.1:``LABELHUB_LS_PORT`` (default 18810) with a fresh data directory, fills it
through its API (a text classification project with two annotators and drafts, an NER
project with predictions of two model versions, an image project whose images are
uploaded files, with boxes; Data Manager tabs), migrates, and compares Label Studio's
JSON export of each project with LabelHub's after mapping the ids; also a webhook, a
local-files storage (synced in Label Studio: its tasks come along with their import
links, so a sync here adds nothing) and custom labels. Then a second run copies nothing
(and reads no task), and after one more annotation in Label Studio a third copies
exactly one (reading only the changed task and those with drafts).
"""

import io
import os
import secrets
import subprocess
import time
from pathlib import Path

import pytest
import requests

from annotations.models import Annotation
from importers.lsmigrate.service import migrate
from importers.models import LabelStudioCopy
from projects.models import Project
from tasks.models import Task

pytestmark = [pytest.mark.labelstudio, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
LS_BIN = os.environ.get("LABELHUB_LS_BIN", str(ROOT / ".cache/compat-venv/bin/label-studio"))
PORT = int(os.environ.get("LABELHUB_LS_PORT", "18810"))
ADMIN = "ls-admin@example.com"
TOKEN = secrets.token_hex(20)

TEXT = (
    '<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text">'
    '<Choice value="pos"/><Choice value="neg"/></Choices></View>'
)
NER = (
    '<View><Labels name="label" toName="text"><Label value="PER"/><Label value="ORG"/></Labels>'
    '<Text name="text" value="$text"/></View>'
)
IMAGE = (
    '<View><Image name="image" value="$image"/><RectangleLabels name="box" toName="image">'
    '<Label value="Car"/><Label value="Person"/></RectangleLabels></View>'
)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7"
    b"5\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


def _enable_tokens(url: str) -> str:
    """Label Studio 1.23 starts with legacy tokens off: sign in as the admin, turn them
    on (the first run uses one) and make a personal access token (the second uses it)."""
    session = requests.Session()
    session.get(url + "/user/login/", timeout=30)
    session.post(
        url + "/user/login/",
        data={
            "email": ADMIN,
            "password": "ls-pass-1234",
            "csrfmiddlewaretoken": session.cookies.get("csrftoken"),
        },
        headers={"Referer": url + "/user/login/"},
        timeout=30,
    )
    headers = {"X-CSRFToken": session.cookies.get("csrftoken"), "Referer": url}
    response = session.post(
        url + "/api/jwt/settings",
        headers=headers,
        timeout=30,
        json={"api_tokens_enabled": True, "legacy_api_tokens_enabled": True},
    )
    assert response.status_code == 200, response.text
    response = session.post(url + "/api/token/", headers=headers, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["token"]


class LS:
    def __init__(self, url: str, pat: str) -> None:
        self.url = url
        self.pat = pat
        token = TOKEN
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"

    def call(self, method: str, path: str, **kwargs):
        response = self.session.request(method, self.url + path, timeout=120, **kwargs)
        assert response.status_code < 300, (method, path, response.status_code, response.text[:500])
        return response.json() if response.content else None


@pytest.fixture(scope="module")
def files_root(tmp_path_factory):
    """One folder both servers serve local files from (the same machine)."""
    root = tmp_path_factory.mktemp("local-files")
    (root / "cars").mkdir()
    for n in range(2):
        (root / "cars" / f"shelf{n}.png").write_bytes(PNG)
    return root


@pytest.fixture(scope="module")
def label_studio(tmp_path_factory, files_root):
    if not Path(LS_BIN).exists():
        pytest.fail(
            f"Label Studio 1.23.2 not found at {LS_BIN}: set LABELHUB_LS_BIN, or run "
            "python3 -m venv .cache/compat-venv && .cache/compat-venv/bin/pip install "
            "label-studio==1.23.2"
        )
    data = tmp_path_factory.mktemp("ls-data")
    env = {
        **os.environ,
        "LABEL_STUDIO_BASE_DATA_DIR": str(data),
        "DJANGO_DB": "sqlite",
        "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "false",
        "SENTRY_DSN": "",
        "LABEL_STUDIO_USERNAME": ADMIN,
        "LABEL_STUDIO_PASSWORD": "ls-pass-1234",
        "LABEL_STUDIO_USER_TOKEN": TOKEN,
        "LOCAL_FILES_SERVING_ENABLED": "true",
        "LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED": "true",
        "LOCAL_FILES_DOCUMENT_ROOT": str(files_root),
        "LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT": str(files_root),
        # the webhook points at loopback (nothing listens; it is only copied)
        "SSRF_PROTECTION_ENABLED": "false",
        "LABEL_STUDIO_SSRF_PROTECTION_ENABLED": "false",
    }
    for name in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "REDIS_URL"):
        env.pop(name, None)
    log = open(data / "ls.log", "wb")
    process = subprocess.Popen(
        [
            LS_BIN,
            "start",
            "--no-browser",
            "--host",
            "127.0.0.1",
            "--port",
            str(PORT),
            "--data-dir",
            str(data),
            "--username",
            ADMIN,
            "--password",
            "ls-pass-1234",
            "--user-token",
            TOKEN,
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=data,
    )
    url = f"http://127.0.0.1:{PORT}"
    deadline = time.monotonic() + 400
    try:
        while True:
            try:
                if requests.get(url + "/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("Label Studio did not start:\n" + (data / "ls.log").read_text()[-3000:])
            time.sleep(2)
        ls = LS(url, _enable_tokens(url))
        ls.files_root = files_root
        yield ls
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _choice(value: str, rid: str = "c1") -> list:
    return [
        {
            "id": rid,
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [value]},
        }
    ]


def _span(start: int, end: int, text: str, label: str, rid: str) -> list:
    return [
        {
            "id": rid,
            "from_name": "label",
            "to_name": "text",
            "type": "labels",
            "value": {"start": start, "end": end, "text": text, "labels": [label]},
        }
    ]


def _box(x: float, rid: str = "b1") -> list:
    return [
        {
            "id": rid,
            "from_name": "box",
            "to_name": "image",
            "type": "rectanglelabels",
            "original_width": 1,
            "original_height": 1,
            "image_rotation": 0,
            "value": {
                "x": x,
                "y": 10.5,
                "width": 20.25,
                "height": 30,
                "rotation": 0,
                "rectanglelabels": ["Car"],
            },
        }
    ]


def _fill(ls: LS) -> dict:
    """Three projects, two more users, drafts, predictions, uploaded images, tabs."""
    users = []
    for email in ("ann1@example.com", "ann2@example.com"):
        users.append(
            ls.call(
                "POST",
                "/api/users/",
                json={"email": email, "username": email, "first_name": email[:4]},
            )
        )
    text = ls.call(
        "POST",
        "/api/projects/",
        json={
            "title": "Sentiment",
            "label_config": TEXT,
            "maximum_annotations": 2,
            "color": "#123456",
            "show_skip_button": False,
        },
    )
    ls.call(
        "POST",
        f"/api/projects/{text['id']}/import",
        json=[{"text": f"review {n}", "meta_info": n} for n in range(6)],
    )
    tasks = ls.call("GET", "/api/tasks/", params={"project": text["id"], "page_size": 100})["tasks"]
    # annotations of the two annotators (Label Studio keeps a given completed_by)
    for index, task in enumerate(tasks[:4]):
        ls.call(
            "POST",
            f"/api/tasks/{task['id']}/annotations/",
            json={
                "result": _choice("pos" if index % 2 else "neg"),
                "lead_time": 3.5 + index,
                "completed_by": users[index % 2]["id"],
            },
        )
    ls.call(
        "POST",
        f"/api/tasks/{tasks[4]['id']}/annotations/",
        json={"result": [], "was_cancelled": True},
    )
    ls.call(
        "POST",
        f"/api/tasks/{tasks[5]['id']}/drafts",
        json={"result": _choice("pos", "d1"), "lead_time": 1.5},
    )
    ls.call(
        "POST",
        "/api/dm/views/",
        json={
            "project": text["id"],
            "data": {
                "title": "Labeled",
                "filters": {
                    "conjunction": "and",
                    "items": [
                        {
                            "filter": "filter:tasks:total_annotations",
                            "operator": "greater",
                            "type": "Number",
                            "value": 0,
                        }
                    ],
                },
                "ordering": ["-tasks:id"],
            },
        },
    )

    ner = ls.call("POST", "/api/projects/", json={"title": "NER", "label_config": NER})
    ls.call(
        "POST",
        f"/api/projects/{ner['id']}/import",
        json=[{"text": f"Ada works at Acme {n}"} for n in range(5)],
    )
    ner_tasks = ls.call("GET", "/api/tasks/", params={"project": ner["id"], "page_size": 100})[
        "tasks"
    ]
    for index, task in enumerate(ner_tasks):
        for version, score in (("model-v1", 0.4), ("model-v2", 0.8)):
            ls.call(
                "POST",
                "/api/predictions/",
                json={
                    "task": task["id"],
                    "model_version": version,
                    "score": score + index / 100,
                    "result": _span(0, 3, "Ada", "PER", f"p{index}{version[-1]}"),
                },
            )
    predictions = ls.call("GET", "/api/predictions/", params={"project": ner["id"]})
    ls.call(
        "POST",
        f"/api/tasks/{ner_tasks[0]['id']}/annotations/",
        json={
            "result": _span(13, 17, "Acme", "ORG", "a1"),
            "parent_prediction": predictions[0]["id"],
        },
    )

    image = ls.call("POST", "/api/projects/", json={"title": "Cars", "label_config": IMAGE})
    files = [("file", (f"car{n}.png", io.BytesIO(PNG), "image/png")) for n in range(3)]
    ls.call("POST", f"/api/projects/{image['id']}/import", files=files)
    image_tasks = ls.call("GET", "/api/tasks/", params={"project": image["id"], "page_size": 100})[
        "tasks"
    ]
    for index, task in enumerate(image_tasks[:2]):
        ls.call(
            "POST",
            f"/api/tasks/{task['id']}/annotations/",
            json={"result": _box(5.5 + index), "ground_truth": index == 0},
        )
    storage = ls.call(
        "POST",
        "/api/storages/localfiles",
        json={
            "project": image["id"],
            "title": "Shelf photos",
            "path": str(ls.files_root / "cars"),
            "regex_filter": ".*png",
            "use_blob_urls": True,
        },
    )
    ls.call("POST", f"/api/storages/localfiles/{storage['id']}/sync")
    ls.call(
        "POST",
        "/api/webhooks/",
        json={
            "project": text["id"],
            "url": "http://127.0.0.1:18399/hook",
            "send_payload": True,
            "send_for_all_actions": False,
            "actions": ["ANNOTATION_CREATED", "ANNOTATION_UPDATED"],
            "headers": {"X-Team": "a"},
        },
    )
    ls.call(
        "POST",
        "/api/labels/",
        json=[
            {
                "project": text["id"],
                "title": "Sarcasm",
                "value": "sarcasm",
                "from_name": "sentiment",
            }
        ],
    )
    return {"text": text, "ner": ner, "image": image, "text_tasks": tasks, "storage": storage}


def _ls_export(ls: LS, pid: int) -> list:
    return ls.call(
        "GET",
        f"/api/projects/{pid}/export",
        params={"exportType": "JSON", "download_all_tasks": "true"},
    )


def _lh_export(client, pid: int) -> list:
    response = client.get(
        f"/api/projects/{pid}/export", {"exportType": "JSON", "download_all_tasks": "true"}
    )
    assert response.status_code == 200, response.content[:300]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    import json

    return json.loads(body)


def _mapped(kind: str, ls_id: int) -> int:
    return LabelStudioCopy.objects.get(kind=kind, ls_id=ls_id).lh_id


def _annotation(item: dict, email, mapped) -> dict:
    """An annotation as both exports should agree on, with ids mapped into LabelHub's."""
    who = item["completed_by"]
    who = who.get("id") if isinstance(who, dict) else who
    return {
        "result": item["result"],
        "was_cancelled": item["was_cancelled"],
        "ground_truth": item["ground_truth"],
        "lead_time": item["lead_time"],
        "created_at": item["created_at"][:19],
        "updated_at": item["updated_at"][:19],
        "completed_by": email(who),
        "parent_prediction": mapped("prediction", item.get("parent_prediction")),
        "parent_annotation": mapped("annotation", item.get("parent_annotation")),
    }


def _compare(ls_tasks: list, lh_tasks: list, ls: LS, ls_pid: int) -> None:
    """Label Studio's export and LabelHub's, equal once ids are mapped: every task's data
    (an uploaded file points at LabelHub's copy of the same name), meta, annotations
    (every field that moves, authors by email, parent links mapped), predictions (against
    Label Studio's prediction list: its export names them by id only) and drafts."""
    from django.contrib.auth import get_user_model

    from annotations.models import AnnotationDraft

    ls_emails = {u["id"]: u["email"].lower() for u in ls.call("GET", "/api/users/")}
    lh_emails = {pk: e.lower() for pk, e in get_user_model().objects.values_list("pk", "email")}
    predictions = {
        p["id"]: p for p in ls.call("GET", "/api/predictions/", params={"project": ls_pid})
    }

    def identity(kind, ls_id):
        return _mapped(kind, ls_id) if ls_id else None

    def same(_kind, lh_id):
        return lh_id

    def data(values: dict, ours: bool) -> dict:
        """An uploaded file's URL as its name (LabelHub's copy is ``<8 hex>-<name>``)."""
        out = {}
        for key, value in values.items():
            if isinstance(value, str) and value.startswith("/data/upload/"):
                name = value.rsplit("/", 1)[1]
                value = ("upload", name.split("-", 1)[1] if ours else name)
            out[key] = value
        return out

    def ls_side(task):
        return {
            "data": data(task["data"], ours=False),
            "meta": task.get("meta") or {},
            "annotations": sorted(
                (_annotation(a, ls_emails.get, identity) for a in task["annotations"]),
                key=repr,
            ),
            "predictions": sorted(
                (
                    {n: predictions[pid][n] for n in ("result", "score", "model_version")}
                    for pid in task.get("predictions") or []
                ),
                key=repr,
            ),
            "drafts": sorted(
                (
                    (d["user"].lower(), repr(d["result"]), d.get("lead_time"))
                    for d in task.get("drafts") or []
                ),
                key=repr,
            ),
        }

    def lh_side(task):
        drafts = AnnotationDraft.objects.filter(task_id=task["id"]).select_related("user")
        return {
            "data": data(task["data"], ours=True),
            "meta": task.get("meta") or {},
            "annotations": sorted(
                (_annotation(a, lh_emails.get, same) for a in task["annotations"]), key=repr
            ),
            "predictions": sorted(
                (
                    {n: p[n] for n in ("result", "score", "model_version")}
                    for p in task.get("predictions") or []
                ),
                key=repr,
            ),
            "drafts": sorted(
                ((d.user.email.lower(), repr(d.result), d.lead_time) for d in drafts), key=repr
            ),
        }

    by_id = {task["id"]: task for task in lh_tasks}
    assert len(ls_tasks) == len(lh_tasks)
    for ls_task in ls_tasks:
        lh_task = by_id[_mapped("task", ls_task["id"])]
        assert lh_side(lh_task) == ls_side(ls_task), ls_task["id"]


def test_migrate_from_label_studio(label_studio, make_user, client_for, settings, files_root):
    from io_storages.models import ImportStorage, ImportStorageLink, Status
    from labelhub.jobs import job_run
    from projects.models import LabelLink
    from webhooks.models import Webhook

    settings.LABELHUB_SSRF_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.LABELHUB_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.LABELHUB_LOCAL_FILES_ROOT = str(files_root)
    ls = label_studio
    filled = _fill(ls)
    admin = make_user("staff@example.com", staff=True)
    # The re-run's mark is Label Studio's clock in whole seconds: a task changed in the
    # very second the copy began is read once more (harmless). Keep the filling apart.
    time.sleep(1.1)

    report = migrate(url=ls.url, token=TOKEN, user=admin)
    assert report.ok, "\n".join(report.lines())
    assert {p.title for p in report.projects} == {"Sentiment", "NER", "Cars"}
    client = client_for(admin)
    for key in ("text", "ner", "image"):
        ls_pid = filled[key]["id"]
        lh_pid = _mapped("project", ls_pid)
        _compare(_ls_export(ls, ls_pid), _lh_export(client, lh_pid), ls, ls_pid)
    cars = Project.objects.get(pk=_mapped("project", filled["image"]["id"]))
    image_url = Task.objects.filter(project=cars).first().data["image"]
    assert client.get(image_url).status_code == 200
    sentiment = Project.objects.get(pk=_mapped("project", filled["text"]["id"]))
    assert sentiment.maximum_annotations == 2 and sentiment.color == "#123456"
    assert sentiment.dm_views.get().data["title"] == "Labeled"
    hook = Webhook.objects.get(project=sentiment)
    assert hook.url == "http://127.0.0.1:18399/hook" and hook.headers == {"X-Team": "a"}
    link = LabelLink.objects.get(project=sentiment)
    assert (link.label.title, link.label.value, link.from_name) == (
        "Sarcasm",
        "sarcasm",
        "sentiment",
    )
    # the local-files storage: its settings, not synced, its tasks linked (a sync adds none)
    storage = ImportStorage.objects.get(project=cars)
    assert storage.kind == "localfiles" and storage.use_blob_urls
    assert (
        storage.option("path") == str(files_root / "cars") and storage.status == Status.INITIALIZED
    )
    assert ImportStorageLink.objects.filter(storage=storage).count() == 2
    tasks_before = Task.objects.filter(project=cars).count()
    ImportStorage.objects.filter(pk=storage.pk).update(status=Status.QUEUED)
    job_run(kind=ImportStorage.job_kind, job_id=storage.pk)
    storage.refresh_from_db()
    assert storage.status == Status.COMPLETED, storage.error
    assert Task.objects.filter(project=cars).count() == tasks_before
    # the new annotators have invite links, not passwords
    invited = dict(report.invites)
    assert {"ann1@example.com", "ann2@example.com"} <= set(invited)
    assert client.get(invited["ann1@example.com"].split("8080", 1)[-1]).status_code == 200

    again = migrate(url=ls.url, token=ls.pat, user=admin)  # a personal access token
    assert again.ok, "\n".join(again.lines())
    assert sum(again.copied.values()) == 0, again.copied
    assert not any(p.full_read for p in again.projects), again.lines()
    # only the task with a draft is read again (a draft does not move its task)
    assert sum(len(p.read_task_ids) for p in again.projects) == 1, again.lines()

    task = filled["text_tasks"][5]
    ls.call("POST", f"/api/tasks/{task['id']}/annotations/", json={"result": _choice("neg", "z9")})
    third = migrate(url=ls.url, token=TOKEN, user=admin)
    assert third.ok, "\n".join(third.lines())
    assert dict(third.copied) == {"annotations": 1}
    assert Annotation.objects.filter(result__0__id="z9").count() == 1
    ls_pid = filled["text"]["id"]
    _compare(_ls_export(ls, ls_pid), _lh_export(client, _mapped("project", ls_pid)), ls, ls_pid)
