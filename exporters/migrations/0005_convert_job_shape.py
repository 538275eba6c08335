"""Conversions of export snapshots take the one job shape (labelhub.jobs.Job): Label
Studio's ``traceback`` is named ``error`` as on every job (the API still answers it as
``traceback``), and the fields every job has are added; a finished conversion's
``progress`` is 1."""

from django.db import migrations, models


def finished_conversions_progress(apps, schema_editor):
    conversions = apps.get_model("exporters", "ConvertedFormat").objects
    conversions.filter(status="completed").update(progress=1.0)


class Migration(migrations.Migration):

    dependencies = [
        ('exporters', '0004_snapshot_job_shape'),
    ]

    operations = [
        migrations.RenameField(
            model_name='convertedformat',
            old_name='traceback',
            new_name='error',
        ),
        migrations.AddField(
            model_name='convertedformat',
            name='attempts',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='convertedformat',
            name='errors',
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name='convertedformat',
            name='progress',
            field=models.FloatField(default=0.0),
        ),
        migrations.AddField(
            model_name='convertedformat',
            name='started_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='convertedformat',
            name='worker',
            field=models.CharField(blank=True, default='', max_length=255),
        ),
        migrations.RunPython(finished_conversions_progress, migrations.RunPython.noop),
    ]
