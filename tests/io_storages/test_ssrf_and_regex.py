"""The SSRF rule on storage endpoints (NAT64 and 6to4 forms of private addresses, at save
and again at each use) and the bounded regex_filter."""

import time

import pytest

from io_storages.backend import StorageError
from io_storages.filters import key_filter
from labelhub.ssrf import is_public
from tests.io_storages.conftest import s3_body

pytestmark = pytest.mark.django_db

# The cloud metadata address in NAT64 form, and 127.0.0.1 in 6to4 form.
NAT64_METADATA = "http://[64:ff9b::a9fe:a9fe]/"
SIXTOFOUR_LOOPBACK = "http://[2002:7f00:1::1]/"


def test_core_rule_sees_through_nat64_and_6to4():
    import ipaddress

    assert not is_public(ipaddress.ip_address("64:ff9b::a9fe:a9fe"))
    assert not is_public(ipaddress.ip_address("2002:7f00:1::1"))
    assert is_public(ipaddress.ip_address("64:ff9b::808:808"))  # 8.8.8.8 stays public


@pytest.mark.parametrize("endpoint", [NAT64_METADATA, SIXTOFOUR_LOOPBACK])
@pytest.mark.parametrize("url", ["/api/storages/s3", "/api/storages/export/s3"])
def test_nat64_and_6to4_endpoints_are_refused_on_save(api, project, url, endpoint):
    response = api.post(url, s3_body(endpoint, project), format="json")
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["field"] == "s3_endpoint"
    assert "not a public address" in str(response.json()["validation_errors"])
    validate = api.post(f"{url}/validate", s3_body(endpoint, project), format="json")
    assert validate.status_code == 400


@pytest.mark.parametrize("url", ["/api/storages/s3", "/api/storages/export/s3"])
def test_the_rule_runs_again_at_each_sync(api, project, s3, moto_server, settings, url):
    s3.put_object(Bucket="labelhub-test", Key="images/a.json", Body=b'[{"text": "x"}]')
    storage = api.post(url, s3_body(moto_server, project), format="json").json()
    settings.LABELHUB_STORAGE_ALLOWED_HOSTS = []  # the admin takes loopback off the list
    response = api.post(f"{url}/{storage['id']}/sync")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "s3_endpoint"
    assert api.get(f"{url}/{storage['id']}").json()["status"] != "queued"


def test_the_rule_runs_in_the_worker_too(api, project, s3, moto_server, settings):
    """Between the request and the job the endpoint may stop being allowed."""
    from io_storages import services
    from io_storages.models import ExportStorage
    from labelhub.jobs import job_run

    storage = api.post(
        "/api/storages/export/s3", s3_body(moto_server, project), format="json"
    ).json()
    row = ExportStorage.objects.get(pk=storage["id"])
    services.storage_sync_queue(storage=row, job_id="job-1")
    settings.LABELHUB_STORAGE_ALLOWED_HOSTS = []
    job_run(kind=ExportStorage.job_kind, job_id=row.pk)
    row.refresh_from_db()
    assert row.status == "failed" and "not a public address" in row.error


def test_redis_host_in_nat64_form_is_refused(api, project):
    response = api.post(
        "/api/storages/redis",
        {"project": project.pk, "host": "64:ff9b::a9fe:a9fe", "port": "6379"},
        format="json",
    )
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "host"


def test_catastrophic_regex_returns_fast():
    """``(a+)+$`` against a 30-character key took 15 s with ``re``; the bounded engine
    answers at once, and a pattern it cannot settle in time stops with a clear error."""
    key = "a" * 30 + "!"
    started = time.monotonic()
    assert not key_filter(r"(a+)+$")(key)
    assert time.monotonic() - started < 0.5
    started = time.monotonic()
    with pytest.raises(StorageError) as error:
        key_filter(r"(a|a)+$")(key)
    assert time.monotonic() - started < 2
    assert error.value.field == "regex_filter"
    assert key_filter(r".*\.png$")("images/a.png") and not key_filter(r"x")("images/a.png")


def test_catastrophic_regex_fails_the_sync_not_the_worker(
    api, image_project, s3, moto_server, sync
):
    s3.put_object(Bucket="labelhub-test", Key="a" * 30 + "!", Body=b"x")
    body = s3_body(moto_server, image_project, prefix="", regex_filter=r"(a+)+$")
    storage = api.post("/api/storages/s3", body, format="json").json()
    started = time.monotonic()
    done = sync(f"/api/storages/s3/{storage['id']}")
    assert done["status"] == "completed" and done["last_sync_count"] == 0
    assert time.monotonic() - started < 5
    api.patch(f"/api/storages/s3/{storage['id']}", {"regex_filter": "(a|a)+$"}, format="json")
    done = sync(f"/api/storages/s3/{storage['id']}")
    assert time.monotonic() - started < 10
    assert done["status"] == "failed" and "regex_filter" in done["traceback"]
