"""PostgreSQL only: the regex time limit, PostgreSQL's own regex errors, that the
label filter is the GIN-indexed containment, and which pages run without parallel
workers."""

import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from datamanager import selectors as dm
from datamanager.sql import serial_plan, time_limited
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


def _workers() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        return cursor.fetchone()[0]


@pytest.mark.parametrize("outer", [False, True])
def test_serial_plan_turns_workers_off_for_its_block_only(outer):
    before = _workers()
    assert before != "0"

    def check():
        with serial_plan(True):
            assert _workers() == "0"
        assert _workers() == before  # restored, also inside an outer transaction
        with serial_plan(False):
            assert _workers() == before

    if outer:
        with transaction.atomic():
            check()
    else:
        check()


def _page_queries(api, world, body, **params) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(
            "/api/tasks/",
            {"project": world.project.pk, "query": json.dumps(body), "page_size": 2, **params},
        )
        assert response.status_code == 200, response.content[:300]
    return [q["sql"] for q in captured.captured_queries]


def _serial_then_page(sqls: list[str]) -> bool:
    """Whether the workers were turned off right before the page's query."""
    for index, sql in enumerate(sqls):
        if "max_parallel_workers_per_gather" in sql:
            return 'FROM "tasks_task"' in sqls[index + 1]
    return False


def test_label_filtered_pages_in_id_order_run_without_workers(api, world):
    """The id walk probing annotations (or predictions) per task runs serial; pages
    filtered on task data, sorted pages and OFFSET pages keep their workers."""
    cat = item("annotations_results", "contains", "Cat")
    dog = item("predictions_results", "contains", "Dog")
    first = _page_queries(api, world, query(cat), after="")
    assert _serial_then_page(first)
    assert _serial_then_page(_page_queries(api, world, query(dog), after=""))
    response = api.get(
        "/api/tasks/",
        {"project": world.project.pk, "query": json.dumps(query(cat)), "page_size": 1, "after": ""},
    )
    cursor = response.json()["next_after"]  # three tasks have a Cat
    assert cursor  # the next keyset page is the same walk
    assert _serial_then_page(_page_queries(api, world, query(cat), after=cursor))
    caption = item("data.caption", "contains", "cat")
    for sqls in (
        _page_queries(api, world, query(caption), after=""),
        _page_queries(api, world, query(cat, ordering=["-tasks:predictions_score"]), after=""),
        _page_queries(api, world, query(cat), page=2),
    ):
        assert not any("max_parallel_workers_per_gather" in sql for sql in sqls)
    assert _workers() != "0"
