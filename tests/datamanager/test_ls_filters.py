"""Label Studio's data_manager/filters/*.tavern.yml requests: a saved view's tasks by
``/api/tasks?view=<id>`` alone, the ``annotations_ids`` column, and data keys ordered
as Label Studio orders them (numbers by value)."""

import pytest

pytestmark = pytest.mark.django_db

FLOAT_TASKS = [
    {"a": "456", "b": 789, "c": 4.56, "d": "string", "e": {"test": 1}},
    {"a": "123", "b": 123, "c": 12.3, "d": "string", "e": [1, 2, 3]},
    {"a": "789", "b": 456, "c": -7.89, "d": "string", "e": None},
]


def _project(api, tasks, annotations=None):
    config = '<View><Text name="t" value="$d"/></View>'
    tasks = [{"d": "x", **t} for t in tasks]
    pk = api.post("/api/projects/", {"title": "f", "label_config": config}, format="json").json()[
        "id"
    ]
    records = [
        {"data": t, **({"annotations": annotations[i]} if annotations else {})}
        for i, t in enumerate(tasks)
    ]
    assert api.post(f"/api/projects/{pk}/import", records, format="json").status_code == 201
    return pk


def _view(api, pk, *, filters=None, ordering=None) -> int:
    data = {"filters": filters or {"conjunction": "and", "items": []}, "ordering": ordering or []}
    response = api.post(
        f"/api/dm/views/?project={pk}", {"data": data, "project": pk}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_tasks_of_a_view_without_project(api, client_for, outsider, reviewer, project):
    pk = _project(api, FLOAT_TASKS)
    view = _view(api, pk, ordering=["tasks:data.a"])
    response = api.get(f"/api/tasks?fields=all&view={view}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["total"] == 3 and [t["data"]["a"] for t in body["tasks"]] == ["123", "456", "789"]
    assert client_for(outsider).get(f"/api/tasks?view={view}").status_code == 404
    assert api.get("/api/tasks?view=99999999").status_code == 404
    assert api.get("/api/tasks").status_code == 400


@pytest.mark.parametrize(
    "key, expected",
    [
        ("a", ["123", "456", "789"]),
        ("b", [123, 456, 789]),
        ("c", [-7.89, 4.56, 12.3]),  # by value, not as text ("-7.89" < "12.3" < "4.56")
        ("-c", [12.3, 4.56, -7.89]),
    ],
)
def test_data_keys_order_by_value(api, key, expected):
    pk = _project(api, FLOAT_TASKS)
    column = key.lstrip("-")
    view = _view(api, pk, ordering=[f"{'-' if key.startswith('-') else ''}tasks:data.{column}"])
    tasks = api.get(f"/api/tasks?fields=all&view={view}").json()["tasks"]
    assert [t["data"][column] for t in tasks] == expected
    # the keyset pages walk the same order
    first = api.get(f"/api/tasks?view={view}&after=&page_size=2").json()
    rest = api.get(f"/api/tasks?view={view}&after={first['next_after']}&page_size=2").json()
    assert [t["data"][column] for t in first["tasks"] + rest["tasks"]] == expected


def test_mixed_numbers_and_text_numbers_first(api):
    pk = _project(api, [{"v": "b"}, {"v": 10}, {"v": "a"}, {"v": 9}, {}])
    view = _view(api, pk, ordering=["tasks:data.v"])
    tasks = api.get(f"/api/tasks?view={view}").json()["tasks"]
    assert [t["data"].get("v") for t in tasks] == [9, 10, "a", "b", None]


def _ids_filter(operator, value):
    item = {
        "filter": "filter:tasks:annotations_ids",
        "operator": operator,
        "type": "String",
        "value": value,
    }
    return {"conjunction": "and", "items": [item]}


def test_annotations_ids_column(api):
    pk = _project(api, [{"t": 1}, {"t": 2}, {"t": 3}], annotations=[[{"result": []}], [], []])
    first = api.get(f"/api/tasks?project={pk}&fields=all").json()["tasks"]
    annotation_id = first[0]["annotations"][0]["id"]

    def total(operator, value):
        view = _view(
            api, pk, filters=_ids_filter(operator, value), ordering=["tasks:annotations_ids"]
        )
        response = api.get(f"/api/tasks?fields=all&view={view}")
        assert response.status_code == 200, response.content
        return response.json()["total"]

    assert total("empty", "true") == 2
    assert total("empty", "false") == 1
    assert total("equal", str(annotation_id)) == 1
    assert total("not_equal", str(annotation_id)) == 2
    assert total("equal", "123wrong") == 0  # int.tavern.yml's annotation-ids
    # an operator the column does not take: a 400 naming it when the view is used
    view = _view(api, pk, filters=_ids_filter("greater", 1))
    bad = api.get(f"/api/tasks?view={view}")
    assert bad.status_code == 400 and "operator" in bad.json()["errors"][0]["field"]
