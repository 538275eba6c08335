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


SYNC_BEFORE = [("io_storages", "0002_s3_storages_moved"), ("exporters", "0004_snapshot_job_shape")]
SYNC_AFTER = [
    ("io_storages", "0003_storage_sync_job_shape"),
    ("exporters", "0005_convert_job_shape"),
]


def test_sync_state_and_conversions_take_the_job_shape(owner):
    """io_storages 0003 and exporters 0005: a storage's sync state and a conversion's
    traceback are carried over into the job fields (and back on a reverse)."""
    from projects.services import project_create
    from tests.factories import TEXT_CONFIG

    project = project_create(user=owner, title="old", label_config=TEXT_CONFIG)
    executor = MigrationExecutor(connection)
    executor.migrate(SYNC_BEFORE)
    old = executor.loader.project_state(SYNC_BEFORE).apps
    sources = old.get_model("io_storages", "ImportStorage").objects
    done = sources.create(
        project_id=project.pk,
        kind="s3",
        status="completed",
        last_sync="2026-01-02T03:04:05+00:00",
        last_sync_count=7,
        meta={"attempts": 3, "time_in_progress": "2026-01-02 03:00:00+00:00"},
    )
    failed = sources.create(
        project_id=project.pk,
        kind="gcs",
        status="failed",
        traceback="bucket gone",
        meta={"attempts": 1, "time_failure": "2026-01-03 00:00:00+00:00", "time_in_progress": "x"},
    )
    fresh = sources.create(project_id=project.pk, kind="redis")
    target = old.get_model("io_storages", "ExportStorage").objects.create(
        project_id=project.pk, kind="azure", status="in_progress", meta={"attempts": True}
    )
    snapshot = old.get_model("exporters", "ExportSnapshot").objects.create(
        project_id=project.pk, status="completed"
    )
    conversions = old.get_model("exporters", "ConvertedFormat").objects
    converted = conversions.create(snapshot_id=snapshot.pk, export_type="CSV", status="completed")
    broken = conversions.create(
        snapshot_id=snapshot.pk, export_type="COCO", status="failed", traceback="Traceback: x"
    )

    executor = MigrationExecutor(connection)
    executor.migrate(SYNC_AFTER)
    new = executor.loader.project_state(SYNC_AFTER).apps
    rows = new.get_model("io_storages", "ImportStorage").objects
    done, failed, fresh = (rows.get(pk=row.pk) for row in (done, failed, fresh))
    assert (done.status, done.progress, done.error, done.attempts) == ("completed", 1.0, "", 3)
    assert done.finished_at.isoformat() == "2026-01-02T03:04:05+00:00"
    assert done.started_at.isoformat() == "2026-01-02T03:00:00+00:00"
    assert (failed.status, failed.error, failed.attempts, failed.progress) == (
        "failed",
        "bucket gone",
        1,
        0.0,
    )
    assert failed.finished_at.isoformat() == "2026-01-03T00:00:00+00:00"
    assert failed.started_at is None  # an unreadable time stays empty
    assert (fresh.status, fresh.error, fresh.attempts, fresh.finished_at) == (
        "initialized",
        "",
        0,
        None,
    )
    target = new.get_model("io_storages", "ExportStorage").objects.get(pk=target.pk)
    assert (target.status, target.attempts, target.finished_at) == ("in_progress", 0, None)
    conversions = new.get_model("exporters", "ConvertedFormat").objects
    assert conversions.get(pk=converted.pk).progress == 1.0
    assert conversions.get(pk=broken.pk).error == "Traceback: x"

    executor = MigrationExecutor(connection)
    executor.migrate(SYNC_BEFORE)  # and back
    old = executor.loader.project_state(SYNC_BEFORE).apps
    assert old.get_model("io_storages", "ImportStorage").objects.get(pk=failed.pk).traceback == (
        "bucket gone"
    )
    assert old.get_model("exporters", "ConvertedFormat").objects.get(pk=broken.pk).traceback == (
        "Traceback: x"
    )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
