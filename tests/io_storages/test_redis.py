"""Redis storage against the local Redis server (127.0.0.1:6379, databases 11 and 12,
keys under a prefix of the test's own)."""

import uuid

import orjson
import pytest
import redis

from annotations.models import Annotation
from tasks.models import Task
from tests.factories import choice

pytestmark = pytest.mark.django_db
URL = "/api/storages/redis"
TARGET = "/api/storages/export/redis"
SOURCE_DB, TARGET_DB = 11, 12


@pytest.fixture
def prefix():
    value = f"lh-test-{uuid.uuid4().hex[:8]}"
    yield value
    for db in (SOURCE_DB, TARGET_DB):
        client = redis.Redis(host="127.0.0.1", port=6379, db=db)
        for key in client.scan_iter(match=f"{value}*"):
            client.delete(key)


def body(project, path, db, **extra):
    return {
        "project": project.pk,
        "host": "127.0.0.1",
        "port": "6379",
        "db": db,
        "path": path,
        "password": "",
        **extra,
    }


def test_round_trip(api, project, prefix, sync, jobs_inline, django_capture_on_commit_callbacks):
    source = redis.Redis(host="127.0.0.1", port=6379, db=SOURCE_DB)
    source.set(f"{prefix}/1", orjson.dumps({"text": "one"}))
    source.set(f"{prefix}/2", orjson.dumps([{"text": "two"}, {"text": "three"}]))
    source.set(f"other-{prefix}", orjson.dumps({"text": "not mine"}))
    assert (
        api.post(f"{URL}/validate", body(project, prefix, SOURCE_DB), format="json").status_code
        == 200
    )
    storage = api.post(
        URL, body(project, prefix, SOURCE_DB, password="pw-secret"), format="json"
    ).json()
    assert storage["db"] == SOURCE_DB and "password" not in storage
    files = api.post(f"{URL}/files", body(project, prefix, SOURCE_DB), format="json").json()
    assert sorted(f["key"] for f in files["files"]) == [f"{prefix}/1", f"{prefix}/2"]
    done = sync(f"{URL}/{storage['id']}")
    assert done["status"] == "completed" and done["last_sync_count"] == 3, done
    assert sorted(t.data["text"] for t in Task.objects.filter(project=project)) == [
        "one",
        "three",
        "two",
    ]
    assert sync(f"{URL}/{storage['id']}")["last_sync_count"] == 0

    target = api.post(TARGET, body(project, f"{prefix}-out", TARGET_DB), format="json").json()
    task = Task.objects.filter(project=project).order_by("pk").first()
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(
            f"/api/tasks/{task.pk}/annotations/", {"result": choice("Positive")}, format="json"
        )
    annotation = Annotation.objects.get(pk=created.json()["id"])
    out = redis.Redis(host="127.0.0.1", port=6379, db=TARGET_DB)
    stored = orjson.loads(out.get(f"{prefix}-out/{annotation.pk}"))
    assert stored["result"] == choice("Positive") and stored["task"]["id"] == task.pk
    out.delete(f"{prefix}-out/{annotation.pk}")
    assert sync(f"{TARGET}/{target['id']}")["last_sync_count"] == 1
    assert out.get(f"{prefix}-out/{annotation.pk}") is not None


def test_unreachable_redis_is_a_400(api, project, prefix):
    response = api.post(URL, {**body(project, prefix, SOURCE_DB), "port": "1"}, format="json")
    assert response.status_code == 400 and "Redis" in str(response.json()["validation_errors"])
