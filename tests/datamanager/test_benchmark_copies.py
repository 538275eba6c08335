"""Issue #26 row 3: Benchmark QA copies stay out of the production Data Manager (its
list, "Found", totals, actions and exports) unless a filter names the "Benchmark"
column; then the page marks them, and what it counts is what an action or an export
gets."""

import json

import pytest

from tests.factories import TEXT_CONFIG, choice

pytestmark = pytest.mark.django_db

SHOW = {
    "filters": {
        "conjunction": "and",
        "items": [
            {
                "filter": "filter:tasks:is_benchmark",
                "operator": "equal",
                "type": "Boolean",
                "value": True,
            }
        ],
    }
}


@pytest.fixture
def linked(api):
    gold = api.post("/api/projects/", {"title": "Gold", "label_config": TEXT_CONFIG}, format="json")
    gold = gold.json()["id"]
    api.post(f"/api/projects/{gold}/import", [{"text": "g1"}, {"text": "g2"}], format="json")
    for task in api.get(f"/api/tasks/?project={gold}").json()["tasks"]:
        api.post(
            f"/api/tasks/{task['id']}/annotations/",
            {"result": choice("Positive"), "ground_truth": True},
            format="json",
        )
    prod = api.post("/api/projects/", {"title": "Prod", "label_config": TEXT_CONFIG}, format="json")
    prod = prod.json()["id"]
    api.post(f"/api/projects/{prod}/import", [{"text": f"p{i}"} for i in range(3)], format="json")
    added = api.post(
        f"/api/projects/{prod}/quality/settings/", {"benchmark_project": gold}, format="json"
    )
    assert added.json()["benchmark_tasks"] == 2
    return prod


def _ids(api, prod, query=None):
    url = f"/api/tasks/?project={prod}&page_size=100"
    if query:
        url += "&query=" + json.dumps(query)
    body = api.get(url).json()
    return body["total"], sorted(t["id"] for t in body["tasks"])


def test_benchmark_copies_are_out_of_the_list_counts_actions_and_exports(api, linked):
    prod = linked
    total, ids = _ids(api, prod)
    assert total == 3 and len(ids) == 3  # production tasks only
    shown_total, shown = _ids(api, prod, SHOW)
    assert shown_total == 2 and not set(shown) & set(ids)

    # an action on "all found" touches what the list found, no benchmark copy
    run = api.post(
        f"/api/dm/actions/?id=delete_tasks&project={prod}",
        {"selectedItems": {"all": True, "excluded": [ids[0]]}},
        format="json",
    )
    assert run.json()["processed_items"] == 2
    total, left = _ids(api, prod)
    assert (total, left) == (1, [ids[0]])
    assert _ids(api, prod, SHOW)[0] == 2  # the copies are still there

    # exports: the plain one holds production tasks; with the filter, what it shows
    plain = api.get(f"/api/projects/{prod}/export?exportType=JSON&download_all_tasks=true")
    assert [t["id"] for t in json.loads(b"".join(plain.streaming_content))] == [ids[0]]


def test_page_marks_and_offers_the_copies(client_for, owner, linked):
    from django.test import Client

    browser = Client()
    browser.force_login(owner)
    page = browser.get(f"/projects/{linked}/data").content.decode()
    assert "2 Benchmark QA copies not counted here" in page and "data-benchmark>" not in page
    shown = browser.get(
        f"/projects/{linked}/data?f=is_benchmark&op=equal&v=true&t=Boolean"
    ).content.decode()
    assert shown.count("data-benchmark>") == 2 and "production tasks only" in shown
