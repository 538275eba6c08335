"""PostgreSQL only: the regex time limit, PostgreSQL's own regex errors, that the
label filter is the GIN-indexed containment, and which pages run without parallel
workers."""

import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from datamanager import selectors as dm
from datamanager.sql import SerialPlan, time_limited
from labelhub.errors import ApiError
from tests.factories import item, query

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _needs_postgres():
    assert connection.vendor == "postgresql", "this test needs DATABASE_URL pointing at PostgreSQL"


def test_statement_timeout_bounds_a_regex_query():
    with pytest.raises(ApiError) as error:
        with time_limited(True, seconds=0.2):
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_sleep(2)")
    assert "too long" in str(error.value.detail)
    with connection.cursor() as cursor:  # the limit does not outlive the block
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] in ("0", "0ms")


def test_regex_postgres_rejects_is_a_400(api, world):
    body = query(
        item("data.caption", "regex", "(?P<name>cat)")
    )  # Python's syntax, not PostgreSQL's
    response = api.get("/api/tasks/", {"project": world.project.pk, "query": json.dumps(body)})
    assert response.status_code == 400 and "regex" in response.json()["detail"]


def test_label_filter_is_containment(settings):
    """Without the result-label index the label filter is JSON containment (which the
    GIN index answers); with it, a probe of the index and the label's tasks."""
    from projects.models import Project

    project = Project(pk=1, parsed_config={})

    def sql() -> str:
        return str(
            dm.task_queryset(
                project=project,
                query=dm.parse_query(query(item("annotations_results", "contains", "Cat"))),
            ).query
        )

    settings.RESULT_INDEX_FILTERS = False
    assert '@> [{"value": {"labels": ["Cat"]}}]' in sql().replace("'", "").replace("::jsonb", "")
    settings.RESULT_INDEX_FILTERS = True
    assert "annotations_resultlabel" in sql() and "@>" not in sql()


def test_serial_plan_rules_out_parallel_workers(world):
    """With parallel plans made free, a scan of the tasks takes workers; with the marker
    it does not, and the marker leaves no filter of its own in the plan."""
    from tasks.models import Task

    scan = Task.objects.filter(data__icontains="x").values_list("id")
    with transaction.atomic(), connection.cursor() as cursor:
        for name in ("parallel_setup_cost", "parallel_tuple_cost", "min_parallel_table_scan_size"):
            cursor.execute(f"SET LOCAL {name} = 0")
        cursor.execute("SET LOCAL enable_indexscan = off")
        assert "Gather" in scan.explain()
        serial = scan.filter(SerialPlan()).explain()
        assert "Gather" not in serial and "labelhub_serial_plan" not in serial
        assert list(scan.filter(SerialPlan())) == list(scan)


def _page_queries(api, world, body, **params) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(
            "/api/tasks/",
            {"project": world.project.pk, "query": json.dumps(body), "page_size": 2, **params},
        )
        assert response.status_code == 200, response.content[:300]
    return [q["sql"] for q in captured.captured_queries]


def _serial(sqls: list[str]) -> bool:
    return any("labelhub_serial_plan()" in sql for sql in sqls)


def test_label_filtered_pages_in_id_order_run_without_workers(api, world):
    """The id walk probing annotations (or predictions) per task runs serial; pages
    filtered on task data, sorted pages and OFFSET pages keep their workers."""
    cat = item("annotations_results", "contains", "Cat")
    dog = item("predictions_results", "contains", "Dog")
    assert _serial(_page_queries(api, world, query(cat), after=""))
    assert _serial(_page_queries(api, world, query(dog), after=""))
    response = api.get(
        "/api/tasks/",
        {"project": world.project.pk, "query": json.dumps(query(cat)), "page_size": 1, "after": ""},
    )
    assert [t["id"] for t in response.json()["tasks"]] == [world.tasks[0].pk]
    cursor = response.json()["next_after"]  # three tasks have a Cat
    assert cursor  # the next keyset page is the same walk
    assert _serial(_page_queries(api, world, query(cat), after=cursor))
    caption = item("data.caption", "contains", "cat")
    for sqls in (
        _page_queries(api, world, query(caption), after=""),
        _page_queries(api, world, query(cat, ordering=["-tasks:predictions_score"]), after=""),
        _page_queries(api, world, query(cat), page=2),
    ):
        assert not _serial(sqls)
