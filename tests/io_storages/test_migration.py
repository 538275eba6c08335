"""The data migration: S3 storages of importers and exporters (and the keys already
imported) become io_storages rows, so an upgraded server keeps syncing without importing
a key twice."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("importers", "0001_initial"),
    ("exporters", "0002_s3_export_storage"),
    ("io_storages", "0001_initial"),
]
AFTER = [("io_storages", "0002_s3_storages_moved")]


def test_s3_storages_are_carried_over(owner):
    from projects.services import project_create
    from tests.factories import IMAGE_CONFIG

    project = project_create(user=owner, title="old", label_config=IMAGE_CONFIG)
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    source = old.get_model("importers", "S3SourceStorage").objects.create(
        project_id=project.pk,
        title="in",
        bucket="b",
        prefix="images/",
        regex_filter=r".*\.png$",
        use_blob_urls=True,
        presign_ttl=5,
        s3_endpoint="http://minio.internal:9000",
        aws_access_key_id="AKID",
        aws_secret_access_key="secret",
        status="completed",
        last_sync_count=2,
    )
    old.get_model("importers", "S3ImportedKey").objects.create(
        storage_id=source.pk, key="images/a.png"
    )
    old.get_model("exporters", "S3ExportStorage").objects.create(
        project_id=project.pk,
        bucket="out",
        prefix="x",
        aws_access_key_id="AKID",
        aws_secret_access_key="secret",
        can_delete_objects=True,
    )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    moved = new.get_model("io_storages", "ImportStorage").objects.get()
    assert (moved.kind, moved.project_id, moved.title) == ("s3", project.pk, "in")
    assert moved.options == {
        "bucket": "b",
        "prefix": "images/",
        "s3_endpoint": "http://minio.internal:9000",
        "region_name": "",
    }
    assert moved.credentials == {"aws_access_key_id": "AKID", "aws_secret_access_key": "secret"}
    assert moved.regex_filter == r".*\.png$" and moved.use_blob_urls and moved.presign_ttl == 5
    assert moved.recursive_scan and moved.status == "completed" and moved.last_sync_count == 2
    links = new.get_model("io_storages", "ImportStorageLink").objects.filter(storage_id=moved.pk)
    assert list(links.values_list("key", flat=True)) == ["images/a.png"]
    target = new.get_model("io_storages", "ExportStorage").objects.get()
    assert target.options["bucket"] == "out" and target.can_delete_objects

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
