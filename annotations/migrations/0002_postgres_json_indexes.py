"""GIN indexes for containment filters on results (``result @> '[{"value": ...}]'``).

PostgreSQL only: SQLite has no GIN, and there the filters scan. jsonb_path_ops is
smaller and faster than the default opclass for the ``@>`` lookups the Data Manager
makes on label values.
"""

from django.db import migrations

INDEXES = [
    ("annotation_result_gin", "annotations_annotation", "result"),
    ("prediction_result_gin", "annotations_prediction", "result"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} jsonb_path_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("annotations", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
