"""The official label-studio-sdk 2.x client against a live LabelHub server:
create a project, import, list tasks, create annotations and predictions, export."""

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
    prefix = f"sdk-{tmp_path.name}"
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
