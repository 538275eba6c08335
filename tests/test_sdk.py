"""The official label-studio-sdk 2.x client against a live LabelHub server:
create a project, import, list tasks, create annotations and predictions, export."""

import uuid

import orjson
import pytest
from label_studio_sdk import LabelStudio
from rest_framework.authtoken.models import Token

from tests.factories import TEXT_CONFIG, choice

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sdk(live_server, owner):
    token, _ = Token.objects.get_or_create(user=owner)
    return LabelStudio(base_url=live_server.url, api_key=token.key)


def test_sdk_flow(sdk, owner):
    project = sdk.projects.create(title="SDK project", label_config=TEXT_CONFIG)
    assert project.id and project.title == "SDK project"
    assert project.created_by.email == owner.email

    fetched = sdk.projects.get(id=project.id)
    assert fetched.label_config == TEXT_CONFIG

    imported = sdk.projects.import_tasks(
        id=project.id,
        request=[
            {"data": {"text": "I love it"}},
            {
                "data": {"text": "I hate it"},
                "predictions": [
                    {"model_version": "m0", "score": 0.8, "result": choice("Negative")}
                ],
            },
            {"text": "plain"},
        ],
        return_task_ids=True,
    )
    assert imported.task_count == 3 and imported.prediction_count == 1
    task_ids = imported.task_ids

    tasks = list(sdk.tasks.list(project=project.id, page_size=2))
    assert [t.id for t in tasks] == task_ids  # pages of 2, stopped by the 404 past the end
    full = list(sdk.tasks.list(project=project.id, fields="all"))
    prediction_item = full[1].predictions[0]
    version = (
        prediction_item["model_version"]
        if isinstance(prediction_item, dict)
        else prediction_item.model_version
    )
    assert version == "m0"

    annotation = sdk.annotations.create(id=task_ids[0], result=choice("Positive"), lead_time=1.5)
    assert annotation.id and annotation.result == choice("Positive")
    listed = sdk.annotations.list(id=task_ids[0])
    assert [a.id for a in listed] == [annotation.id]

    prediction = sdk.predictions.create(
        task=task_ids[2], result=choice("Neutral"), score=0.3, model_version="m1"
    )
    assert prediction.id and prediction.score == 0.3

    task = sdk.tasks.get(id=task_ids[0])
    assert task.total_annotations == 1

    exported = b"".join(sdk.projects.exports.download_sync(id=project.id, export_type="JSON"))
    rows = orjson.loads(exported)
    assert [r["id"] for r in rows] == [task_ids[0]]  # annotated tasks only, as in Label Studio
    assert rows[0]["annotations"][0]["result"] == choice("Positive")
    everything = orjson.loads(
        b"".join(
            sdk.projects.exports.download_sync(
                id=project.id, export_type="JSON", download_all_tasks=True
            )
        )
    )
    assert len(everything) == 3

    sdk.projects.delete(id=project.id)


# --- users, organizations, tokens (accounts) ---


@pytest.fixture
def staff_sdk(live_server, staff):
    token, _ = Token.objects.get_or_create(user=staff)
    return LabelStudio(base_url=live_server.url, api_key=token.key)


def test_sdk_users(staff_sdk, sdk, staff, owner, annotator):
    me = sdk.users.whoami()
    assert me.email == owner.email and me.active_organization == 1
    assert {u.id for u in staff_sdk.users.list()} >= {staff.pk, owner.pk, annotator.pk}
    assert staff_sdk.users.get(id=annotator.pk).email == annotator.email
    keys = {"annotation:submit": {"key": "ctrl+enter", "active": True}}
    assert sdk.users.update_hotkeys(custom_hotkeys=keys).custom_hotkeys == keys
    assert sdk.users.get_hotkeys().custom_hotkeys == keys
    staff_sdk.users.delete(id=annotator.pk)
    assert annotator.pk not in {u.id for u in staff_sdk.users.list()}


def test_sdk_personal_access_token(live_server, sdk, owner):
    created = sdk.tokens.create()
    assert created.token and created.token.count(".") == 2
    pat = LabelStudio(base_url=live_server.url, api_key=created.token)  # detects the JWT
    assert pat.users.whoami().email == owner.email
    assert pat.projects.create(title="via PAT", label_config=TEXT_CONFIG).id
    listed = sdk.tokens.list()
    assert [t.token for t in listed] == [".".join(created.token.split(".")[:2])]
    assert sdk.tokens.refresh(refresh=created.token).access
    rotated = sdk.tokens.rotate(refresh=created.token).refresh
    assert LabelStudio(base_url=live_server.url, api_key=rotated).users.whoami().id == owner.pk
    sdk.tokens.blacklist(refresh=sdk.tokens.list()[0].token)
    assert sdk.tokens.list() == []
    with pytest.raises(Exception):  # noqa: B017 - the SDK's ApiError on the 401 refresh
        LabelStudio(base_url=live_server.url, api_key=rotated).users.whoami()


def test_sdk_organizations(staff_sdk, sdk, staff, owner):
    orgs = sdk.organizations.list()
    assert [o.id for o in orgs] == [1]
    assert staff_sdk.organizations.get(id=1).token
    members = list(staff_sdk.organizations.members.list(id=1))
    assert {m.user.id for m in members} >= {staff.pk, owner.pk}
    member = staff_sdk.organizations.members.get(id=1, user_pk=owner.pk)
    assert member.user == owner.pk
    invite = staff_sdk.organizations.invites.get_invite_link()
    assert invite.invite_url == f"/user/signup/?token={invite.token}"
    assert staff_sdk.organizations.reset_token().token != invite.token
    settings = staff_sdk.jwt_settings.get()
    assert settings.api_tokens_enabled is True and settings.legacy_api_tokens_enabled is True


# --- webhooks ---


@pytest.fixture
def sdk_project(owner):
    from projects.services import project_create

    return project_create(user=owner, title="Hooks", label_config=TEXT_CONFIG)


@pytest.fixture
def hook_allowed(settings):
    settings.LABELHUB_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]


def test_sdk_webhooks_info(sdk):
    info = sdk.webhooks.info()
    assert info.annotation_created.key == "annotation"
    assert info.project_created.organization_only is True
    assert info.review_created.name == "Review created"
    only = sdk.webhooks.info(organization_only=True)
    assert only.project_deleted is not None and only.tasks_created is None


def test_sdk_webhooks_create_and_get(sdk, sdk_project, hook_allowed):
    hook = sdk.webhooks.create(
        url="http://127.0.0.1:18730/hook",
        project=sdk_project.pk,
        headers={"Authorization": "Token abc"},
        send_for_all_actions=False,
        actions=["ANNOTATION_CREATED", "TASKS_CREATED"],
    )
    assert hook.id and hook.project == sdk_project.pk and hook.is_active
    got = sdk.webhooks.get(id=hook.id)
    assert got.url == "http://127.0.0.1:18730/hook"
    assert sorted(got.actions) == ["ANNOTATION_CREATED", "TASKS_CREATED"]
    assert got.headers == {"Authorization": "********"}  # write-only values


def test_sdk_webhooks_list(sdk, sdk_project, hook_allowed):
    hook = sdk.webhooks.create(url="http://127.0.0.1:18730/a", project=sdk_project.pk)
    assert [h.id for h in sdk.webhooks.list()] == [hook.id]
    assert [h.id for h in sdk.webhooks.list(project=str(sdk_project.pk))] == [hook.id]
    assert sdk.webhooks.list(project=str(sdk_project.pk + 1000)) == []


def test_sdk_webhooks_update(sdk, sdk_project, hook_allowed):
    hook = sdk.webhooks.create(url="http://127.0.0.1:18730/a", project=sdk_project.pk)
    updated = sdk.webhooks.update(
        id=hook.id, is_active=False, send_payload=False, actions=["ANNOTATION_UPDATED"]
    )
    assert updated.is_active is False and updated.send_payload is False
    got = sdk.webhooks.get(id=hook.id)
    assert got.actions == ["ANNOTATION_UPDATED"] and got.url == "http://127.0.0.1:18730/a"


def test_sdk_webhooks_delete(sdk, sdk_project, hook_allowed):
    from label_studio_sdk.core.api_error import ApiError

    hook = sdk.webhooks.create(url="http://127.0.0.1:18730/a", project=sdk_project.pk)
    sdk.webhooks.delete(id=hook.id)
    with pytest.raises(ApiError) as gone:
        sdk.webhooks.get(id=hook.id)
    assert gone.value.status_code == 404


# --- storages ---
# import_storage.* and export_storage.* for every kind, each against its real server
# (tests/io_storages/servers.py; ports LABELHUB_TEST_STORAGE_PORT_BASE + 11..13, apart
# from the storage tests' own), with sync jobs run in-process.

STORAGE_PORTS = int(__import__("os").environ.get("LABELHUB_TEST_STORAGE_PORT_BASE", "18600"))
IMAGE_LABELS = """<View><Image name="image" value="$image"/>
<Choices name="label" toName="image"><Choice value="pos"/><Choice value="neg"/></Choices></View>"""


@pytest.fixture(scope="module")
def storage_servers(tmp_path_factory):
    from tests.io_storages import servers

    with (
        servers.moto(STORAGE_PORTS + 11) as s3_url,
        servers.gcs_emulator(STORAGE_PORTS + 12, tmp_path_factory.mktemp("gcs")) as gcs_url,
        servers.azurite(STORAGE_PORTS + 13, tmp_path_factory.mktemp("azurite")) as azure_url,
    ):
        yield {"s3": s3_url, "gcs": gcs_url, "azure": azure_url}


@pytest.fixture
def storage_setup(storage_servers, settings, tmp_path, jobs_inline):
    import boto3
    import redis as redis_client

    from tests.io_storages import servers

    settings.LABELHUB_STORAGE_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.LABELHUB_GCS_ENDPOINT = storage_servers["gcs"]
    settings.LABELHUB_AZURE_BLOB_ENDPOINT = storage_servers["azure"].replace(
        servers.AZURITE_ACCOUNT, "{account_name}"
    )
    root = tmp_path / "root"
    (root / "in").mkdir(parents=True)
    (root / "out").mkdir()
    settings.LABELHUB_LOCAL_FILES_ROOT = str(root)
    s3 = boto3.client(
        "s3",
        endpoint_url=storage_servers["s3"],
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
    )
    for bucket in ("sdk-in", "sdk-out"):
        s3.create_bucket(Bucket=bucket)
    gcs_in = servers.gcs_bucket(storage_servers["gcs"], "sdk-in")
    servers.gcs_bucket(storage_servers["gcs"], "sdk-out")
    azure_in = servers.azure_container(storage_servers["azure"], "sdk-in")
    servers.azure_container(storage_servers["azure"], "sdk-out")
    prefix = f"sdk-{uuid.uuid4().hex[:8]}"  # Redis is shared with other runs
    redis_in = redis_client.Redis(host="127.0.0.1", port=6379, db=11)
    task = orjson.dumps({"image": "http://example.com/a.png"})
    s3.put_object(Bucket="sdk-in", Key="tasks/1.json", Body=task)
    gcs_in.blob("tasks/1.json").upload_from_string(task)
    azure_in.upload_blob("tasks/1.json", task, overwrite=True)
    redis_in.set(f"{prefix}/1.json", task)
    (root / "in" / "1.json").write_bytes(task)
    s3_keys = {
        "aws_access_key_id": "k",
        "aws_secret_access_key": "s",
        "region_name": "us-east-1",
        "s3endpoint": storage_servers["s3"],
    }
    azure_keys = {"account_name": servers.AZURITE_ACCOUNT, "account_key": servers.AZURITE_KEY}
    redis_keys = {"host": "127.0.0.1", "port": "6379"}
    yield {
        "s3": (
            {"bucket": "sdk-in", "prefix": "tasks", **s3_keys},
            {"bucket": "sdk-out", **s3_keys},
        ),
        "gcs": ({"bucket": "sdk-in", "prefix": "tasks"}, {"bucket": "sdk-out"}),
        "azure": (
            {"container": "sdk-in", "prefix": "tasks", **azure_keys},
            {"container": "sdk-out", **azure_keys},
        ),
        "redis": (
            {"path": prefix, "db": 11, **redis_keys},
            {"path": f"{prefix}-out", "db": 12, **redis_keys},
        ),
        "local": ({"path": str(root / "in")}, {"path": str(root / "out")}),
    }
    for db in (11, 12):
        client = redis_client.Redis(host="127.0.0.1", port=6379, db=db)
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)


@pytest.mark.parametrize("kind", ["s3", "gcs", "azure", "redis", "local"])
def test_sdk_storages(sdk, storage_setup, kind):
    project = sdk.projects.create(title=f"storage {kind}", label_config=IMAGE_LABELS)
    source_fields, target_fields = storage_setup[kind]
    source_api = getattr(sdk.import_storage, kind)
    target_api = getattr(sdk.export_storage, kind)

    source_api.validate(project=project.id, **source_fields)
    source = source_api.create(project=project.id, title="in", **source_fields)
    assert source.id and source.project == project.id and source.title == "in"
    assert [s.id for s in source_api.list(project=project.id)] == [source.id]
    assert source_api.update(id=source.id, title="renamed").title == "renamed"
    synced = source_api.sync(id=source.id)
    assert synced.status == "completed" and synced.last_sync_count == 1, synced
    assert source_api.get(id=source.id).last_sync_count == 1
    task = next(iter(sdk.tasks.list(project=project.id)))
    assert task.data["image"] == "http://example.com/a.png"

    target_api.validate(project=project.id, **target_fields)
    target = target_api.create(project=project.id, title="out", **target_fields)
    assert [s.id for s in target_api.list(project=project.id)] == [target.id]
    annotation = sdk.annotations.create(
        id=task.id,
        result=[
            {
                "from_name": "label",
                "to_name": "image",
                "type": "choices",
                "value": {"choices": ["pos"]},
            }
        ],
    )
    assert annotation.id
    done = target_api.sync(id=target.id)
    assert done.status == "completed" and done.last_sync_count == 1, done
    assert target_api.update(id=target.id, title="out2").title == "out2"
    assert target_api.get(id=target.id).title == "out2"

    names = [t["name"] if isinstance(t, dict) else t.name for t in sdk.import_storage.list_types()]
    assert names == ["s3", "gcs", "azure", "redis", "localfiles"]
    assert len(sdk.export_storage.list_types()) == 5
    target_api.delete(id=target.id)
    source_api.delete(id=source.id)
    assert source_api.list(project=project.id) == []


# --- projects and import paths ---


def _sdk_project(sdk, n=2):
    project = sdk.projects.create(title="SDK paths", label_config=TEXT_CONFIG)
    imported = sdk.projects.import_tasks(
        id=project.id,
        request=[{"data": {"text": f"t{i}"}} for i in range(n)],
        return_task_ids=True,
    )
    return project, imported.task_ids


def test_sdk_tasks_annotations_predictions_crud(sdk):
    """The get / update / delete calls a script makes on tasks, annotations, predictions
    and views, beside the create and list calls of test_sdk_flow."""
    project, task_ids = _sdk_project(sdk, 1)
    task = sdk.tasks.create(project=project.id, data={"text": "made by the SDK"})
    assert sdk.tasks.get(id=task.id).data == {"text": "made by the SDK"}
    assert sdk.tasks.update(id=str(task.id), data={"text": "changed"}).data == {"text": "changed"}
    sdk.tasks.delete(id=str(task.id))
    assert [t.id for t in sdk.tasks.list(project=project.id)] == task_ids

    annotation = sdk.annotations.create(id=task_ids[0], result=choice("Positive"))
    assert sdk.annotations.get(id=annotation.id).result == choice("Positive")
    updated = sdk.annotations.update(id=annotation.id, result=choice("Negative"))
    assert updated.result == choice("Negative")
    sdk.annotations.delete(id=annotation.id)
    assert sdk.annotations.list(id=task_ids[0]) == []

    prediction = sdk.predictions.create(
        task=task_ids[0], result=choice("Neutral"), score=0.4, model_version="v1"
    )
    assert [p.id for p in sdk.predictions.list(task=task_ids[0])] == [prediction.id]
    assert sdk.predictions.get(id=prediction.id).model_version == "v1"
    assert sdk.predictions.update(id=prediction.id, score=0.9).score == 0.9
    sdk.predictions.delete(id=prediction.id)
    assert sdk.predictions.list(task=task_ids[0]) == []

    view = sdk.views.create(project=project.id, data={"title": "mine"})
    assert sdk.views.update(id=str(view.id), data={"title": "renamed"}).data["title"] == "renamed"
    sdk.views.delete(id=str(view.id))
    assert sdk.views.list(project=project.id) == []


def test_sdk_list_counts(sdk):
    project, _ = _sdk_project(sdk, 3)
    counts = sdk.projects.list_counts()
    row = next(r for r in counts.results if r.id == project.id)
    assert row.task_number == 3 and row.finished_task_number == 0
    only = sdk.projects.list_counts(include="task_number")
    assert next(r for r in only.results if r.id == project.id).task_number == 3


def test_sdk_import_predictions_and_model_versions(sdk):
    project, task_ids = _sdk_project(sdk)
    answer = sdk.projects.import_predictions(
        id=project.id,
        request=[
            {"task": task_ids[0], "result": choice("Positive"), "score": 0.5, "model_version": "m"},
            {"task": task_ids[1], "result": choice("Negative"), "model_version": "m"},
        ],
    )
    assert answer.created == 2
    assert sdk.tasks.get(id=task_ids[0]).total_predictions == 1


def test_sdk_list_unique_annotators(sdk, owner):
    project, task_ids = _sdk_project(sdk, 1)
    assert sdk.projects.list_unique_annotators(id=project.id) == []
    sdk.annotations.create(id=task_ids[0], result=choice("Positive"))
    annotators = sdk.projects.list_unique_annotators(id=project.id)
    assert [(a.id, a.email) for a in annotators] == [(owner.id, owner.email)]


def test_sdk_delete_all_tasks(sdk):
    project, _ = _sdk_project(sdk, 3)
    assert sdk.tasks.delete_all_tasks(id=project.id) is None
    assert list(sdk.tasks.list(project=project.id)) == []
    assert sdk.projects.get(id=project.id).task_number == 0


def test_sdk_ml_list_model_versions(sdk, settings, tmp_path):
    from ml.models import TrainingJob
    from ml.services import backend_create
    from projects.models import Project

    settings.MEDIA_ROOT = tmp_path / "media"
    project, _ = _sdk_project(sdk, 1)
    backend = backend_create(
        project=Project.objects.get(pk=project.id), kind="builtin", model="text-classifier"
    )
    assert sdk.ml.list_model_versions(id=backend.pk).versions == []
    TrainingJob.objects.create(
        backend=backend, project_id=project.id, model_version=1, status="completed"
    )
    versions = sdk.ml.list_model_versions(id=backend.pk)
    # The name the version's predictions carry, not the run number.
    assert versions.versions == ["text-classifier-v1"]


def test_sdk_files(sdk, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    project = sdk.projects.create(title="SDK files", label_config=TEXT_CONFIG)
    kept = sdk.projects.import_tasks(
        id=project.id, request=[{"text": "a"}, {"text": "b"}], commit_to_project=False
    )
    assert kept.task_count == 2 and sdk.projects.get(id=project.id).task_number == 0
    (upload_id,) = kept.file_upload_ids
    listed = sdk.files.list(id=project.id, all_=True)
    assert [f.id for f in listed] == [upload_id]
    assert [f.id for f in sdk.files.list(id=project.id, ids=[str(upload_id)])] == [upload_id]
    one = sdk.files.get(id=upload_id)
    assert one.id == upload_id and one.size == listed[0].size
    updated = sdk.files.update(id=upload_id, file=("more.json", b'[{"text": "c"}]'))
    assert updated.id == upload_id and updated.size == len(b'[{"text": "c"}]')
    sdk.files.delete(id=upload_id)
    assert sdk.files.list(id=project.id, all_=True) == []
    again = sdk.projects.import_tasks(
        id=project.id, request=[{"text": "d"}], commit_to_project=False
    )
    assert len(sdk.files.list(id=project.id, all_=True)) == len(again.file_upload_ids) == 1
    sdk.files.delete_many(id=project.id)
    assert sdk.files.list(id=project.id, all_=True) == []


def test_sdk_import_status(sdk):
    project = sdk.projects.create(title="SDK import status", label_config=TEXT_CONFIG)
    imported = sdk.projects.import_tasks(id=project.id, request=[{"text": "a"}])
    status = sdk.tasks.create_many_status(id=project.id, import_pk=imported.import_)
    assert status.status == "completed" and status.task_count == 1
    assert status.project == project.id


# --- labels, Data Manager and export groups (labelsdm) ---


@pytest.fixture
def _jobs_inline():
    from labelhub.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


def test_sdk_views_update_order(sdk):
    project = sdk.projects.create(title="Views", label_config=TEXT_CONFIG)
    views = [sdk.views.create(project=project.id, data={"title": t}) for t in ("a", "b", "c")]
    assert [v.id for v in sdk.views.list(project=project.id)] == [v.id for v in views]
    wanted = [views[2].id, views[0].id, views[1].id]
    assert sdk.views.update_order(project=project.id, ids=wanted) is None
    listed = sdk.views.list(project=project.id)
    assert [v.id for v in listed] == wanted
    assert [v.order for v in listed] == [0, 1, 2]
    assert sdk.views.get(id=str(views[1].id)).order == 2
    sdk.views.delete_all(project=project.id)
    assert sdk.views.list(project=project.id) == []


def test_sdk_exports(sdk, _jobs_inline):
    project = sdk.projects.create(title="Exports", label_config=TEXT_CONFIG)
    sdk.projects.import_tasks(
        id=project.id,
        request=[
            {"data": {"text": "good"}, "annotations": [{"result": choice("Positive")}]},
            {"data": {"text": "bad"}, "annotations": [{"result": choice("Negative")}]},
            {"data": {"text": "none"}},
        ],
    )
    formats = sdk.projects.exports.list_formats(id=project.id)
    names = [f["name"] if isinstance(f, dict) else f for f in formats]
    assert "JSON" in names and "CSV" in names

    body = b"".join(sdk.projects.exports.download_sync(id=project.id, download_all_tasks=True))
    assert [t["data"]["text"] for t in orjson.loads(body)] == ["good", "bad", "none"]

    view = sdk.views.create(
        project=project.id,
        data={
            "title": "good",
            "filters": {
                "conjunction": "and",
                "items": [
                    {
                        "filter": "filter:tasks:data.text",
                        "operator": "equal",
                        "type": "String",
                        "value": "good",
                    }
                ],
            },
        },
    )
    created = sdk.projects.exports.create(
        id=project.id,
        title="from a view",
        task_filter_options={"view": view.id},
        annotation_filter_options={"usual": True, "ground_truth": True, "skipped": True},
    )
    snapshot = sdk.projects.exports.get(id=project.id, export_pk=created.id)
    assert snapshot.status == "completed" and snapshot.counters["task_number"] == 1
    body = b"".join(
        sdk.projects.exports.download(id=project.id, export_pk=created.id, export_type="JSON")
    )
    assert [t["data"]["text"] for t in orjson.loads(body)] == ["good"]
    sdk.projects.exports.convert(id=project.id, export_pk=created.id, export_type="JSON_MIN")
    minimal = b"".join(
        sdk.projects.exports.download(id=project.id, export_pk=created.id, export_type="JSON_MIN")
    )
    assert orjson.loads(minimal)[0]["sentiment"] == "Positive"
    assert [e.id for e in sdk.projects.exports.list(id=project.id)] == [created.id]

    # the Community edition's helper: a direct export of every task
    tasks = sdk.projects.exports.as_json(project.id)
    assert sorted(t["data"]["text"] for t in tasks) == ["bad", "good", "none"]
    table = sdk.projects.exports.as_pandas(project.id)
    assert sorted(table["sentiment"].dropna()) == ["Negative", "Positive"]
    for export in sdk.projects.exports.list(id=project.id):
        sdk.projects.exports.delete(id=project.id, export_pk=export.id)
    assert sdk.projects.exports.list(id=project.id) == []


# --- drafts, label-stream history, task agreement ---
# label-studio-sdk 2.1.2 has no drafts client (Label Studio leaves the draft endpoints out
# of its schema): scripts reach them with the SDK's legacy ``Client.make_request``, read
# a task's ``drafts`` with ``tasks.get`` and name the draft a submit replaces with
# ``draft_id`` in the annotation's body.


def test_sdk_drafts(sdk, live_server, owner):
    from label_studio_sdk._legacy import Client

    project = sdk.projects.create(title="SDK drafts", label_config=TEXT_CONFIG)
    (task_id,) = sdk.projects.import_tasks(
        id=project.id, request=[{"text": "half done"}], return_task_ids=True
    ).task_ids
    legacy = Client(
        url=live_server.url,
        api_key=Token.objects.get(user=owner).key,
        versions={"release": "1.23.2"},
    )
    created = legacy.make_request(
        "POST", f"/api/tasks/{task_id}/drafts", json={"result": choice("Neutral"), "lead_time": 2}
    )
    assert created.status_code == 201
    draft_id = created.json()["id"]
    legacy.make_request("PATCH", f"/api/drafts/{draft_id}", json={"result": choice("Negative")})
    assert legacy.make_request("GET", f"/api/drafts/{draft_id}/").json()["result"] == choice(
        "Negative"
    )
    assert [d["id"] for d in legacy.make_request("GET", f"/api/tasks/{task_id}/drafts").json()] == [
        draft_id
    ]
    assert legacy.get_project(project.id).get_task(task_id)["drafts"][0]["id"] == draft_id

    task = sdk.tasks.get(id=str(task_id))
    (item,) = task.drafts
    assert item.result == choice("Negative") and item.created_at is not None

    annotation = sdk.annotations.create(
        id=task_id,
        result=choice("Negative"),
        request_options={"additional_body_parameters": {"draft_id": draft_id}},
    )
    assert annotation.result == choice("Negative")
    gone = legacy.make_request("GET", f"/api/drafts/{draft_id}/", raise_exceptions=False)
    assert gone.status_code == 404
    assert sdk.tasks.get(id=str(task_id)).drafts == []

    # convert the annotation back into a draft, then delete that draft
    converted = legacy.make_request("POST", f"/api/annotations/{annotation.id}/convert-to-draft")
    assert converted.status_code == 201 and converted.json()["result"] == choice("Negative")
    assert list(sdk.annotations.list(id=task_id)) == []
    deleted = legacy.make_request("DELETE", f"/api/drafts/{converted.json()['id']}/")
    assert deleted.status_code == 204


def test_sdk_stream_history_and_task_agreement(sdk, live_server, owner):
    from label_studio_sdk._legacy import Client

    project = sdk.projects.create(title="SDK history", label_config=TEXT_CONFIG)
    (task_id,) = sdk.projects.import_tasks(
        id=project.id, request=[{"text": "one"}], return_task_ids=True
    ).task_ids
    legacy = Client(
        url=live_server.url,
        api_key=Token.objects.get(user=owner).key,
        versions={"release": "1.23.2"},
    )
    assert legacy.make_request("GET", f"/api/projects/{project.id}/next").json()["id"] == task_id
    annotation = sdk.annotations.create(id=task_id, result=choice("Positive"))
    history = legacy.make_request("GET", f"/api/projects/{project.id}/label-stream-history/")
    assert history.json() == [{"taskId": task_id, "annotationId": annotation.id}]
    agreement = legacy.make_request("GET", f"/api/tasks/{task_id}/agreement/").json()
    assert agreement["total_annotations"] == 1
    assert agreement["distributions"]["sentiment"]["labels"] == {"Positive": 1}


# --- labels ---
# label-studio-sdk 2.1.2 has no labels client (Label Studio leaves /api/labels out of its
# schema); scripts reach the labels manager with the legacy ``Client.make_request``.


def test_sdk_labels(sdk, live_server, owner):
    from label_studio_sdk._legacy import Client

    project = sdk.projects.create(title="SDK labels", label_config=TEXT_CONFIG)
    legacy = Client(
        url=live_server.url,
        api_key=Token.objects.get(user=owner).key,
        versions={"release": "1.23.2"},
    )
    created = legacy.make_request(
        "POST",
        "/api/labels",
        json=[
            {"title": "Mixed", "value": ["Mixed"], "from_name": "sentiment", "project": project.id}
        ],
    )
    assert created.status_code == 201
    label_id = created.json()[0]["id"]
    listed = legacy.make_request("GET", "/api/labels?expand=links").json()["results"]
    assert [(item["id"], item["projects"]) for item in listed] == [(label_id, [project.id])]
    links = legacy.make_request("GET", "/api/label_links").json()["results"]
    assert [(link["label"], link["from_name"]) for link in links] == [(label_id, "sentiment")]
    renamed = legacy.make_request("PATCH", f"/api/labels/{label_id}/", json={"title": "Mix"})
    assert renamed.json()["title"] == "Mix"
    assert legacy.make_request("DELETE", f"/api/labels/{label_id}/").status_code == 204
    assert legacy.make_request("GET", "/api/labels").json()["count"] == 0
