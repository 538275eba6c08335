"""Import and migration jobs take the one job shape (labelhub.jobs.Job): ``detail`` is
named ``error`` as on every job, the migration's step state moves from ``progress``
to ``stage``, and the fields every job has are added."""

from django.db import migrations, models


def finished_jobs_progress(apps, schema_editor):
    """Completed jobs are done: their new ``progress`` is 1."""
    for name in ("ImportJob", "MigrationJob"):
        apps.get_model("importers", name).objects.filter(status="completed").update(progress=1.0)


class Migration(migrations.Migration):

    dependencies = [
        ('importers', '0004_labelstudiocopy_migrationjob'),
    ]

    operations = [
        migrations.RenameField(
            model_name='importjob',
            old_name='detail',
            new_name='error',
        ),
        migrations.RenameField(
            model_name='migrationjob',
            old_name='detail',
            new_name='error',
        ),
        migrations.AddField(
            model_name='importjob',
            name='progress',
            field=models.FloatField(default=0.0),
        ),
        migrations.AddField(
            model_name='migrationjob',
            name='attempts',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='migrationjob',
            name='errors',
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name='migrationjob',
            name='worker',
            field=models.CharField(blank=True, default='', max_length=255),
        ),
        # The migration's step-by-step state keeps its data under a new name; the
        # shared ``progress`` is the fraction every job has.
        migrations.RenameField(
            model_name='migrationjob',
            old_name='progress',
            new_name='stage',
        ),
        migrations.AddField(
            model_name='migrationjob',
            name='progress',
            field=models.FloatField(default=0.0),
        ),
        migrations.RunPython(finished_jobs_progress, migrations.RunPython.noop),
    ]
