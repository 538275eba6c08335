"""Storages take the one job shape (labelhub.jobs.Job): a storage is the row of its own
syncs, run by the job framework. The fields every job has are added; Label Studio's
``traceback`` becomes the job's ``error`` (the API still answers it as ``traceback``),
and each existing row's sync state is carried over: its traceback, a finished sync's
progress (1) and end (``last_sync``, or ``meta.time_failure`` for a failed one), a
running sync's start (``meta.time_in_progress``) and the number of syncs run
(``meta.attempts``)."""

from datetime import datetime

from django.db import migrations, models
from django.utils import timezone

FINISHED = ("completed", "completed_with_errors")


def _when(meta, name):
    try:
        value = datetime.fromisoformat(str((meta or {}).get(name)))
    except (TypeError, ValueError):
        return None
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _attempts(meta) -> int:
    value = (meta or {}).get("attempts", 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def traceback_to_job(apps, schema_editor):
    for name in ("ImportStorage", "ExportStorage"):
        model = apps.get_model("io_storages", name)
        for storage in model.objects.exclude(status="initialized").iterator():
            storage.error = storage.traceback or ""
            storage.attempts = _attempts(storage.meta)
            if storage.status in FINISHED:
                storage.progress = 1.0
                storage.finished_at = storage.last_sync
            elif storage.status == "failed":
                storage.finished_at = _when(storage.meta, "time_failure")
            if storage.status in (*FINISHED, "failed", "in_progress"):
                storage.started_at = _when(storage.meta, "time_in_progress")
            storage.save(
                update_fields=["error", "attempts", "progress", "started_at", "finished_at"]
            )


def job_to_traceback(apps, schema_editor):
    for name in ("ImportStorage", "ExportStorage"):
        model = apps.get_model("io_storages", name)
        for storage in model.objects.exclude(error="").iterator():
            storage.traceback = storage.error
            storage.save(update_fields=["traceback"])


class Migration(migrations.Migration):

    dependencies = [
        ('io_storages', '0002_s3_storages_moved'),
    ]

    operations = [
        migrations.AddField(
            model_name='importstorage',
            name='attempts',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='importstorage',
            name='error',
            field=models.TextField(blank=True, default=''),
        ),
        migrations.AddField(
            model_name='importstorage',
            name='errors',
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name='importstorage',
            name='finished_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='importstorage',
            name='progress',
            field=models.FloatField(default=0.0),
        ),
        migrations.AddField(
            model_name='importstorage',
            name='started_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='importstorage',
            name='worker',
            field=models.CharField(blank=True, default='', max_length=255),
        ),
        migrations.AlterField(
            model_name='importstorage',
            name='status',
            field=models.CharField(choices=[('initialized', 'Initialized'), ('queued', 'Queued'), ('in_progress', 'In progress'), ('failed', 'Failed'), ('completed', 'Completed'), ('completed_with_errors', 'Completed with errors')], default='initialized', max_length=32),
        ),
        migrations.AddField(
            model_name='exportstorage',
            name='attempts',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='exportstorage',
            name='error',
            field=models.TextField(blank=True, default=''),
        ),
        migrations.AddField(
            model_name='exportstorage',
            name='errors',
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name='exportstorage',
            name='finished_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='exportstorage',
            name='progress',
            field=models.FloatField(default=0.0),
        ),
        migrations.AddField(
            model_name='exportstorage',
            name='started_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='exportstorage',
            name='worker',
            field=models.CharField(blank=True, default='', max_length=255),
        ),
        migrations.AlterField(
            model_name='exportstorage',
            name='status',
            field=models.CharField(choices=[('initialized', 'Initialized'), ('queued', 'Queued'), ('in_progress', 'In progress'), ('failed', 'Failed'), ('completed', 'Completed'), ('completed_with_errors', 'Completed with errors')], default='initialized', max_length=32),
        ),
        migrations.RunPython(traceback_to_job, job_to_traceback),
        migrations.RemoveField(
            model_name='exportstorage',
            name='traceback',
        ),
        migrations.RemoveField(
            model_name='importstorage',
            name='traceback',
        ),
    ]
