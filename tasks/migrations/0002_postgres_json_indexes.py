"""A GIN index on task meta for ``meta @> {...}`` filters; PostgreSQL only.

Task data gets no GIN index: it is the bulk of a large import, the index would slow
COPY several-fold, and the Data Manager's data filters (contains, regex) cannot use it.
"""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS task_meta_gin ON tasks_task USING gin (meta jsonb_path_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS task_meta_gin")


class Migration(migrations.Migration):
    dependencies = [("tasks", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
