"""Every task data key is a Data Manager column and filter, not only the keys the labeling
config reads: the importers keep the project's key list in their transaction."""

import json

import pytest

from annotations.services import task_create
from importers.services import tasks_import
from labelhub.errors import ApiError
from projects.models import Project
from projects.services import project_create
from tasks.models import Task
from tests.factories import TEXT_CONFIG, item, query

pytestmark = pytest.mark.django_db


@pytest.fixture
def text_project(owner):
    project = project_create(user=owner, title="Keys", label_config=TEXT_CONFIG)
    tasks_import(
        project=project,
        records=[
            {"text": "first", "source": "web", "extra": {"lang": "en", "n": [1, 2]}},
            {"text": "second", "source": "mail"},
            {"text": "third", "score": 7},
        ],
        user=owner,
    )
    project.refresh_from_db()
    return project


def test_import_keeps_every_key(text_project, owner):
    assert text_project.task_data_keys == ["text", "source", "extra", "score"]
    # a second import adds only the new keys, after the old ones
    tasks_import(project=text_project, records=[{"text": "x", "origin": "cli"}], user=owner)
    task_create(project=text_project, data={"text": "y", "source": "api", "late": True})
    text_project.refresh_from_db()
    assert text_project.task_data_keys == ["text", "source", "extra", "score", "origin", "late"]


def test_a_failed_import_adds_no_key(text_project, owner):
    with pytest.raises(ApiError):
        tasks_import(project=text_project, records=[{"nokey": 1}], user=owner)
    text_project.refresh_from_db()
    assert "nokey" not in text_project.task_data_keys


def test_columns_api_lists_every_key(api, text_project):
    columns = api.get("/api/dm/columns/", {"project": text_project.pk}).json()["columns"]
    data = {c["id"]: c for c in columns if c.get("parent") == "data"}
    assert list(data) == ["data.text", "data.source", "data.extra", "data.score"]
    assert data["data.text"]["type"] == "Text" and data["data.source"]["type"] == "String"


def test_filter_on_a_key_the_config_does_not_read(api, text_project):
    body = query(item("data.source", "equal", "mail"))
    tasks = api.get("/api/tasks/", {"project": text_project.pk, "query": json.dumps(body)}).json()
    assert [t["data"]["text"] for t in tasks["tasks"]] == ["second"]
    body = query(item("data.score", "greater", 5, "Number"))
    tasks = api.get("/api/tasks/", {"project": text_project.pk, "query": json.dumps(body)}).json()
    assert [t["data"]["text"] for t in tasks["tasks"]] == ["third"]


def test_page_shows_every_key_and_nested_values_as_json(client, owner, text_project):
    client.force_login(owner)
    html = client.get(f"/projects/{text_project.pk}/data").content.decode()
    for key in ("text", "source", "extra", "score"):
        assert f'data-col="data.{key}"' in html
        assert f'data-toggle-column="data.{key}"' in html
    # shown as JSON (PostgreSQL's jsonb keeps its own key order)
    assert "&quot;lang&quot;: &quot;en&quot;" in html and "&quot;n&quot;: [1, 2]" in html
    options = json.loads(
        html.split('id="dm-filter-options" type="application/json">')[1].split("<")[0]
    )
    assert {"data.source", "data.extra", "data.score"} <= {c["id"] for c in options["columns"]}


def test_projects_from_before_get_their_keys_from_a_sample(client, owner, text_project):
    Project.objects.filter(pk=text_project.pk).update(task_data_keys=[])
    text_project.refresh_from_db()
    client.force_login(owner)
    html = client.get(f"/projects/{text_project.pk}/data").content.decode()
    assert 'data-col="data.source"' in html
    text_project.refresh_from_db()
    assert set(text_project.task_data_keys) == {"text", "source", "extra", "score"}
    assert Task.objects.filter(project=text_project).count() == 3


def test_odd_key_names_are_escaped_and_never_a_500(client, owner, text_project):
    tasks_import(
        project=text_project,
        records=[{"text": "odd", '<b>"k"</b>': 1, "x__y": 2, "": 3}],
        user=owner,
    )
    client.force_login(owner)
    page = client.get(f"/projects/{text_project.pk}/data")
    html = page.content.decode()
    assert page.status_code == 200 and "<b>" not in html.split("<body", 1)[1].split("dm-data")[0]
    assert "&lt;b&gt;&quot;k&quot;&lt;/b&gt;" in html
    # a data key with "__" is a parameter, never a lookup: it orders like any other key
    page = client.get(f"/projects/{text_project.pk}/data?order=tasks:data.x__y")
    assert page.status_code == 200 and b"data-query-error" not in page.content
    # ordering on a column the engine refuses: the page says why
    page = client.get(f"/projects/{text_project.pk}/data?order=tasks:nosuch")
    assert page.status_code == 200 and b"data-query-error" in page.content
