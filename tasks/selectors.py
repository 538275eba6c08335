"""Reads over a project's tasks that the database answers in one statement."""

from django.db import connection

from tasks.models import Task


def data_column_counts(*, project_id: int) -> dict[str, int]:
    """``{data key: number of tasks whose data holds it}`` over the project's own tasks
    (benchmark copies left out, as the project's ``task_number`` leaves them out).

    One GROUP BY over the unpacked keys of each task's ``data`` (PostgreSQL
    ``jsonb_object_keys``, SQLite ``json_each``): no task reaches Python, and the answer
    has one row per distinct key. It reads every task of the project, so it is for the
    summary page and scripts, not for per-request paths.
    """
    table = Task._meta.db_table
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT k, count(*) FROM {table} t CROSS JOIN LATERAL jsonb_object_keys("
            "CASE WHEN jsonb_typeof(t.data) = 'object' THEN t.data ELSE '{}'::jsonb END) AS k "
            "WHERE t.project_id = %s AND NOT t.is_benchmark GROUP BY k"
        )
    else:
        sql = (
            f"SELECT j.key, count(*) FROM {table} t, json_each(CASE WHEN "
            "json_type(t.data) = 'object' THEN t.data ELSE '{}' END) AS j "
            "WHERE t.project_id = %s AND NOT t.is_benchmark GROUP BY j.key"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [project_id])
        return {key: count for key, count in sorted(cursor.fetchall())}
