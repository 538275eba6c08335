"""The S3 source and target storages of importers and exporters become io_storages rows
(kind "s3"), with their imported keys, before the old tables are dropped."""

from django.db import migrations

SECRETS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")


def _status(value):
    return value if value in ("initialized", "queued", "in_progress", "failed", "completed") else "initialized"


def forward(apps, schema_editor):
    OldSource = apps.get_model("importers", "S3SourceStorage")
    OldKey = apps.get_model("importers", "S3ImportedKey")
    OldTarget = apps.get_model("exporters", "S3ExportStorage")
    ImportStorage = apps.get_model("io_storages", "ImportStorage")
    ImportStorageLink = apps.get_model("io_storages", "ImportStorageLink")
    ExportStorage = apps.get_model("io_storages", "ExportStorage")
    for old in OldSource.objects.order_by("pk").iterator():
        new = ImportStorage.objects.create(
            project_id=old.project_id,
            kind="s3",
            title=old.title,
            description=old.description,
            options={
                "bucket": old.bucket,
                "prefix": old.prefix,
                "s3_endpoint": old.s3_endpoint,
                "region_name": old.region_name,
            },
            credentials={name: getattr(old, name) for name in SECRETS if getattr(old, name)},
            regex_filter=old.regex_filter or None,
            use_blob_urls=old.use_blob_urls,
            presign=old.presign,
            presign_ttl=old.presign_ttl,
            recursive_scan=True,  # the old sync listed every key under the prefix
            status=_status(old.status),
            last_sync=old.last_sync,
            last_sync_count=old.last_sync_count,
            traceback=old.traceback or None,
            created_at=old.created_at,
        )
        batch = []
        for key in OldKey.objects.filter(storage_id=old.pk).values_list("key", flat=True).iterator():
            batch.append(ImportStorageLink(storage_id=new.pk, key=key))
            if len(batch) >= 5000:
                ImportStorageLink.objects.bulk_create(batch)
                batch = []
        ImportStorageLink.objects.bulk_create(batch)
    for old in OldTarget.objects.order_by("pk").iterator():
        ExportStorage.objects.create(
            project_id=old.project_id,
            kind="s3",
            title=old.title,
            description=old.description,
            options={
                "bucket": old.bucket,
                "prefix": old.prefix,
                "s3_endpoint": old.s3_endpoint,
                "region_name": old.region_name,
            },
            credentials={name: getattr(old, name) for name in SECRETS if getattr(old, name)},
            can_delete_objects=old.can_delete_objects,
            status=_status(old.status),
            last_sync=old.last_sync,
            last_sync_count=old.last_sync_count,
            traceback=old.traceback or None,
            created_at=old.created_at,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("io_storages", "0001_initial"),
        ("importers", "0001_initial"),
        ("exporters", "0002_s3_export_storage"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
