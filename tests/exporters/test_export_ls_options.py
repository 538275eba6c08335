"""Label Studio's export paths and options beyond the formats: ``/export/files``,
``/api/auth/export/``, ``task_filter_options.view`` and ``annotation_filter_options``
(the requests of its data_export.tavern.yml)."""

import orjson
import pytest

from exporters.models import ExportSnapshot
from tests.factories import choice

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def jobs_inline():
    from labelhub.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


def _world(import_tasks, project) -> list[int]:
    """t0 Positive, t1 Negative, t2 skipped, t3 ground-truth Neutral, t4 nothing."""
    return import_tasks(
        project,
        [
            {"data": {"text": "t0"}, "annotations": [{"result": choice("Positive")}]},
            {"data": {"text": "t1"}, "annotations": [{"result": choice("Negative")}]},
            {"data": {"text": "t2"}, "annotations": [{"result": [], "was_cancelled": True}]},
            {
                "data": {"text": "t3"},
                "annotations": [{"result": choice("Neutral"), "ground_truth": True}],
            },
            {"data": {"text": "t4"}},
        ],
    )


def _export(api, project, payload) -> list[dict]:
    url = f"/api/projects/{project.pk}/exports/"
    created = api.post(url, payload, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert api.get(f"{url}{pk}").json()["status"] == "completed"
    return orjson.loads(b"".join(api.get(f"{url}{pk}/download").streaming_content))


def _texts(tasks) -> list[str]:
    return [t["data"]["text"] for t in tasks]


def test_view_selects_the_tasks(api, project, import_tasks, jobs_inline):
    ids = _world(import_tasks, project)
    view = api.post(
        "/api/dm/views/",
        {
            "project": project.pk,
            "data": {
                "title": "positive or negative",
                "filters": {
                    "conjunction": "or",
                    "items": [
                        {
                            "filter": "filter:tasks:annotations_results",
                            "operator": "contains",
                            "type": "String",
                            "value": "Positive",
                        },
                        {
                            "filter": "filter:tasks:annotations_results",
                            "operator": "contains",
                            "type": "String",
                            "value": "Negative",
                        },
                    ],
                },
            },
        },
        format="json",
    ).json()
    tasks = _export(api, project, {"task_filter_options": {"view": view["id"]}})
    assert _texts(tasks) == ["t0", "t1"]
    # the view's selected items narrow it further
    api.patch(
        f"/api/dm/views/{view['id']}/",
        {"data": {"selectedItems": {"all": False, "included": [ids[1]]}}},
        format="json",
    )
    assert _texts(_export(api, project, {"task_filter_options": {"view": view["id"]}})) == ["t1"]


def test_unknown_or_foreign_view_is_ignored_as_label_studio_does(
    api, project, owner, import_tasks, jobs_inline
):
    # data_export.tavern.yml "crud export with params 1" sends view: 1 on a fresh project
    _world(import_tasks, project)
    other = api.post("/api/projects/", {"title": "o"}, format="json").json()["id"]
    foreign = api.post(
        "/api/dm/views/",
        {
            "project": other,
            "data": {
                "filters": {
                    "conjunction": "and",
                    "items": [
                        {
                            "filter": "filter:tasks:id",
                            "operator": "equal",
                            "type": "Number",
                            "value": 0,
                        }
                    ],
                }
            },
        },
        format="json",
    ).json()["id"]
    for view in (foreign, 999999, "x"):
        tasks = _export(
            api,
            project,
            {
                "task_filter_options": {
                    "view": view,
                    "skipped": "only",
                    "finished": "exclude",
                    "annotated": "exclude",
                }
                if view == 999999
                else {"view": view},
                "annotation_filter_options": {"ground_truth": True, "usual": True, "skipped": True},
            },
        )
        if view == 999999:
            assert _texts(tasks) == ["t2"]  # skipped only, not annotated, not finished
        else:
            assert len(tasks) == 5
    bad = api.post(
        f"/api/projects/{project.pk}/exports/",
        {"task_filter_options": {"view": {"id": 1}}},
        format="json",
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "task_filter_options.view"


@pytest.mark.parametrize(
    "options, expected",
    [
        # Label Studio's defaults: usual only
        ({}, {"t0": 1, "t1": 1, "t2": 0, "t3": 0, "t4": 0}),
        ({"usual": True}, {"t0": 1, "t1": 1, "t2": 0, "t3": 0, "t4": 0}),
        ({"ground_truth": True, "usual": False}, {"t0": 0, "t1": 0, "t2": 0, "t3": 1, "t4": 0}),
        ({"skipped": True, "usual": False}, {"t0": 0, "t1": 0, "t2": 1, "t3": 0, "t4": 0}),
        ({"usual": True, "ground_truth": True, "skipped": True}, None),
        # none true: every annotation (Label Studio applies no filter)
        ({"usual": False, "ground_truth": False, "skipped": False}, None),
    ],
)
def test_annotation_filter_options(api, project, import_tasks, jobs_inline, options, expected):
    _world(import_tasks, project)
    everything = {"t0": 1, "t1": 1, "t2": 1, "t3": 1, "t4": 0}
    tasks = _export(api, project, {"annotation_filter_options": options})
    assert {t["data"]["text"]: len(t["annotations"]) for t in tasks} == (expected or everything)
    only_with = _export(
        api,
        project,
        {
            "annotation_filter_options": options,
            "task_filter_options": {"only_with_annotations": True},
        },
    )
    assert _texts(only_with) == [k for k, n in (expected or everything).items() if n]


def test_export_files(api, project, import_tasks, jobs_inline, client_for, annotator, outsider):
    _world(import_tasks, project)
    url = f"/api/projects/{project.pk}/export/files"
    assert api.get(url).json() == {"export_files": []}
    first = api.post(f"/api/projects/{project.pk}/exports/", {}, format="json").json()["id"]
    second = api.post(f"/api/projects/{project.pk}/exports/", {}, format="json").json()["id"]
    ExportSnapshot.objects.create(project=project, status="failed")
    files = api.get(url).json()["export_files"]
    assert [f["url"] for f in files] == [
        f"/api/projects/{project.pk}/exports/{second}/download",
        f"/api/projects/{project.pk}/exports/{first}/download",
    ]
    assert all(f["name"] for f in files)
    assert api.get(files[0]["url"]).status_code == 200
    assert client_for(annotator).get(url).status_code == 403
    assert client_for(outsider).get(url).status_code == 404


def test_auth_export(api, project, client_for, annotator, outsider):
    url = "/api/auth/export/"
    assert api.get(url, HTTP_X_ORIGINAL_URI="test").status_code == 422
    assert api.get(url).status_code == 422
    ok = api.get(url, HTTP_X_ORIGINAL_URI=f"/export/{project.pk}-test")
    assert ok.status_code == 200 and ok.json() == {"detail": "auth ok"}
    assert (
        api.get("/api/auth/export", HTTP_X_ORIGINAL_URI=f"/export/{project.pk}-x").status_code
        == 200
    )
    header = {"HTTP_X_ORIGINAL_URI": f"/export/{project.pk}-test"}
    assert client_for(annotator).get(url, **header).status_code == 403
    assert client_for(outsider).get(url, **header).status_code == 404
    assert client_for(None).get(url, **header).status_code in (401, 403)


def test_small_exports_finish_in_the_request(api, project, import_tasks, monkeypatch):
    # data_export.tavern.yml's "crud export with params 2/3": finished_at and md5 are
    # strings in the POST's answer (no worker runs in this test).
    from exporters import snapshots

    queued = []
    monkeypatch.setattr(snapshots, "snapshot_build_enqueue", lambda s: queued.append(s.pk))
    monkeypatch.setattr(snapshots, "convert_enqueue", lambda c: queued.append(c.pk))
    _world(import_tasks, project)
    url = f"/api/projects/{project.pk}/exports/"
    body = api.post(
        url,
        {
            "annotation_filter_options": {"ground_truth": False, "usual": False, "skipped": False},
            "serialization_options": {"drafts": {"only_id": False}},
        },
        format="json",
    ).json()
    assert body["status"] == "completed" and queued == []
    assert isinstance(body["finished_at"], str) and isinstance(body["md5"], str)
    converted = api.post(f"{url}{body['id']}/convert", {"export_type": "CSV"}, format="json")
    assert converted.status_code == 200 and queued == []
    assert api.get(f"{url}{body['id']}/download", {"exportType": "CSV"}).status_code == 200

    # past the inline limit the job queue builds it, and the client polls
    monkeypatch.setattr(snapshots, "INLINE_MAX_TASKS", 4)
    body = api.post(url, {}, format="json").json()
    assert body["status"] == "created" and body["finished_at"] is None
    assert queued == [body["id"]]
