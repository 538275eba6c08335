"""Export snapshots take the one job shape (labelhub.jobs.Job): ``detail`` is named
``error`` as on every job, and the fields every job has are added."""

from django.db import migrations, models


def finished_snapshots_progress(apps, schema_editor):
    """Completed snapshots are done: their new ``progress`` is 1."""
    snapshots = apps.get_model("exporters", "ExportSnapshot").objects
    snapshots.filter(status="completed").update(progress=1.0)


class Migration(migrations.Migration):

    dependencies = [
        ('exporters', '0003_s3_storage_moved'),
    ]

    operations = [
        migrations.RenameField(
            model_name='exportsnapshot',
            old_name='detail',
            new_name='error',
        ),
        migrations.AddField(
            model_name='exportsnapshot',
            name='errors',
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name='exportsnapshot',
            name='progress',
            field=models.FloatField(default=0.0),
        ),
        migrations.AddField(
            model_name='exportsnapshot',
            name='started_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='exportsnapshot',
            name='worker',
            field=models.CharField(blank=True, default='', max_length=255),
        ),
        migrations.RunPython(finished_snapshots_progress, migrations.RunPython.noop),
    ]
