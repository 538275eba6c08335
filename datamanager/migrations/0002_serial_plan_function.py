# PostgreSQL only: labelhub_serial_plan(), the marker that keeps a Data Manager page
# query serial (see datamanager.sql.SerialPlan). SQLite never plans in parallel.

from django.db import migrations

CREATE = (
    "CREATE OR REPLACE FUNCTION labelhub_serial_plan() RETURNS boolean"
    " LANGUAGE sql IMMUTABLE PARALLEL UNSAFE AS 'SELECT true'"
)
DROP = "DROP FUNCTION IF EXISTS labelhub_serial_plan()"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):

    dependencies = [
        ("datamanager", "0001_initial"),
    ]

    operations = [migrations.RunPython(create, drop)]
