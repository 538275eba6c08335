"""Issue #12, finding 2: an S3 storage without keys must not presign (or sync) with the
server's own AWS credentials unless LABELHUB_S3_ALLOW_AMBIENT_CREDENTIALS is on."""

import boto3
import pytest

pytestmark = pytest.mark.django_db

AMBIENT_KEY = "AKIASERVERSOWNKEY000"


@pytest.fixture(autouse=True)
def _fresh_boto_session(monkeypatch):
    """boto3's default session caches the credentials it found; each test starts anew."""
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)


@pytest.fixture
def ambient(monkeypatch, tmp_path):
    """The server process has AWS credentials of its own (as on an EC2 instance)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AMBIENT_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "server-secret")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))


@pytest.fixture
def keyless_storage(image_project):
    """A keyless storage as an older LabelHub saved it (the API now refuses to save one
    without keys unless ambient credentials are allowed)."""
    from io_storages.models import ImportStorage

    storage = ImportStorage.objects.create(
        project=image_project,
        kind="s3",
        options={"bucket": "mine", "region_name": "us-east-1"},
        use_blob_urls=True,
    )
    return {"id": storage.pk}


def test_keyless_storage_is_refused_on_save(api, image_project, ambient):
    response = api.post(
        "/api/storages/s3/",
        {"project": image_project.pk, "bucket": "mine", "region_name": "us-east-1"},
        format="json",
    )
    assert response.status_code == 400
    assert "LABELHUB_S3_ALLOW_AMBIENT_CREDENTIALS" in str(response.json()["validation_errors"])
    assert {e["field"] for e in response.json()["errors"]} == {
        "aws_access_key_id",
        "aws_secret_access_key",
    }


def _presign(api, project):
    return api.get(f"/api/projects/{project.pk}/presign/?fileuri=s3://mine/any-key")


def test_keyless_storage_does_not_presign_with_the_servers_credentials(
    api, image_project, ambient, keyless_storage
):
    response = _presign(api, image_project)
    assert response.status_code == 400
    assert "LABELHUB_S3_ALLOW_AMBIENT_CREDENTIALS" in str(response.json()["validation_errors"])
    assert {e["field"] for e in response.json()["errors"]} == {
        "aws_access_key_id",
        "aws_secret_access_key",
    }
    sync = api.post(f"/api/storages/s3/{keyless_storage['id']}/sync")
    assert sync.status_code == 400 and "no AWS credentials" in str(sync.json()["validation_errors"])


def test_ambient_credentials_are_used_only_when_allowed(
    api, image_project, ambient, keyless_storage, settings
):
    settings.LABELHUB_S3_ALLOW_AMBIENT_CREDENTIALS = True
    response = _presign(api, image_project)
    assert response.status_code == 302 and AMBIENT_KEY in response["Location"]


def test_no_credentials_anywhere_is_a_400_not_a_500(
    api, image_project, keyless_storage, settings, monkeypatch, tmp_path
):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert _presign(api, image_project).status_code == 400
    settings.LABELHUB_S3_ALLOW_AMBIENT_CREDENTIALS = True
    assert _presign(api, image_project).status_code == 400


def test_storage_body_that_is_not_an_object_is_a_400(api):
    assert api.post("/api/storages/s3/", [1, 2], format="json").status_code in (400, 404)
