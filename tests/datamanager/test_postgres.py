"""PostgreSQL only: the regex time limit, PostgreSQL's own regex errors, and that the
label filter is the GIN-indexed containment."""

import json

import pytest
from django.db import connection

from datamanager import selectors as dm
from datamanager.sql import time_limited
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
