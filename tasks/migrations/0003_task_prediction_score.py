"""Task.prediction_score: the mean score of a task's predictions, denormalized so the
prediction-score samplers read one index (see tasks.sampling). Existing rows are
backfilled from their predictions."""

from django.db import migrations, models

BACKFILL = """
UPDATE tasks_task SET prediction_score = (
    SELECT AVG(p.score) FROM annotations_prediction p WHERE p.task_id = tasks_task.id
) WHERE total_predictions > 0
"""


class Migration(migrations.Migration):

    dependencies = [
        ('projects', '0001_initial'),
        ('annotations', '0001_initial'),
        ('tasks', '0002_postgres_json_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='task',
            name='prediction_score',
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name='task',
            index=models.Index(fields=['project', 'is_labeled', 'prediction_score', 'id'], name='task_project_score'),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
    ]
