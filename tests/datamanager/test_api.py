"""The Data Manager over HTTP: the task list with a query, views, columns, count, and
who may use them."""

import json

import pytest

from tests.factories import item, query

pytestmark = pytest.mark.django_db


def q(body) -> str:
    return json.dumps(body)


def test_task_list_with_query(api, world, annotator):
    body = query(
        item("annotations_results", "contains", "Cat"),
        item("annotators", "contains", annotator.pk, "List"),
    )
    # Label Studio's meaning: some completion says Cat and the annotator did one
    response = api.get("/api/tasks/", {"project": world.project.pk, "query": q(body)})
    assert [t["id"] for t in response.json()["tasks"]] == world.ids[:2]
    body["filters"]["match"] = "annotation"  # the annotator's own completion says Cat
    response = api.get("/api/tasks/", {"project": world.project.pk, "query": q(body)})
    assert response.status_code == 200
    data = response.json()
    assert [t["id"] for t in data["tasks"]] == [world.ids[0]]
    assert data["total"] == 1 and data["total_annotations"] == 1 and data["total_predictions"] == 1
    first = data["tasks"][0]
    assert first["reviews_accepted"] == 1 and first["reviews_rejected"] == 0
    assert first["annotators"] == [annotator.pk]
    assert first["predictions_score"] == pytest.approx(0.9)


def test_every_item_has_review_counts(api, world):
    tasks = api.get("/api/tasks/", {"project": world.project.pk}).json()["tasks"]
    by = {t["id"]: t for t in tasks}
    assert (by[world.ids[1]]["reviews_accepted"], by[world.ids[1]]["reviews_rejected"]) == (0, 1)
    full = api.get("/api/tasks/", {"project": world.project.pk, "fields": "all"}).json()["tasks"]
    assert {t["id"]: t["reviews_rejected"] for t in full} == {
        t["id"]: t["reviews_rejected"] for t in tasks
    }
    assert full[1]["annotations"][1]["reviews"][0]["accepted"] is False


def test_query_ordering_and_keyset(api, world):
    body = {"ordering": ["-tasks:total_annotations"]}
    first = api.get(
        "/api/tasks/", {"project": world.project.pk, "query": q(body), "after": "", "page_size": 4}
    ).json()
    assert (
        first["tasks"][0]["id"] == world.ids[1] and len(first["tasks"]) == 4 and first["next_after"]
    )
    second = api.get(
        "/api/tasks/",
        {
            "project": world.project.pk,
            "query": q(body),
            "after": first["next_after"],
            "page_size": 4,
        },
    ).json()
    assert len(second["tasks"]) == 2 and second["next_after"] is None
    assert {t["id"] for t in first["tasks"] + second["tasks"]} == set(world.ids)


def test_page_numbers_still_work_with_query(api, world):
    body = query(item("total_annotations", "greater", 0, "Number"))
    page2 = api.get(
        "/api/tasks/", {"project": world.project.pk, "query": q(body), "page": 2, "page_size": 2}
    ).json()
    assert [t["id"] for t in page2["tasks"]] == [world.ids[2]]
    assert (
        api.get(
            "/api/tasks/",
            {"project": world.project.pk, "query": q(body), "page": 3, "page_size": 2},
        ).status_code
        == 404
    )


def test_list_query_count_is_fixed_with_a_query(api, world, django_assert_max_num_queries, owner):
    from importers.services import tasks_import

    body = q(
        {
            **query(item("annotations_results", "contains", "Cat")),
            "ordering": ["-tasks:reviews_accepted"],
        }
    )
    url = f"/api/tasks/?project={world.project.pk}&query={body}"
    api.get(url)
    with django_assert_max_num_queries(10) as small:
        api.get(url)
    tasks_import(
        project=world.project, records=[{"image": f"/x/{i}.jpg"} for i in range(20)], user=owner
    )
    with django_assert_max_num_queries(len(small.captured_queries)):
        api.get(url)


def test_count_and_columns(api, world):
    body = query(item("annotations_results", "contains", "Dog"))
    counts = api.get("/api/dm/count/", {"project": world.project.pk, "query": q(body)}).json()
    assert counts == {"total": 2, "total_annotations": 3, "total_predictions": 2}
    columns = api.get("/api/dm/columns/", {"project": world.project.pk}).json()["columns"]
    ids = [c["id"] for c in columns]
    for expected in [
        "id",
        "completed_at",
        "total_annotations",
        "annotators",
        "annotations_results",
        "predictions_score",
        "ground_truth",
        "reviews_accepted",
        "data.image",
    ]:
        assert expected in ids
    assert next(c for c in columns if c["id"] == "data.image")["type"] == "Image"


def test_views_crud(api, world):
    data = {
        "title": "Cats",
        "filters": query(item("annotations_results", "contains", "Cat"))["filters"],
        "ordering": ["-tasks:id"],
        "hiddenColumns": {"explore": ["tasks:data.caption"]},
    }
    created = api.post("/api/dm/views/", {"project": world.project.pk, "data": data}, format="json")
    assert created.status_code == 201
    vid = created.json()["id"]
    listed = api.get("/api/dm/views/", {"project": world.project.pk}).json()
    assert [v["id"] for v in listed] == [vid] and listed[0]["data"]["title"] == "Cats"
    tasks = api.get("/api/tasks/", {"project": world.project.pk, "view": vid}).json()["tasks"]
    assert [t["id"] for t in tasks] == [world.ids[2], world.ids[1], world.ids[0]]
    patched = api.patch(f"/api/dm/views/{vid}/", {"data": {"title": "Cats!"}}, format="json").json()
    assert patched["data"]["title"] == "Cats!" and patched["data"]["ordering"] == ["-tasks:id"]
    replaced = api.put(f"/api/dm/views/{vid}", {"data": {"title": "bare"}}, format="json").json()
    assert replaced["data"] == {"title": "bare"}
    assert api.delete(f"/api/dm/views/{vid}/").status_code == 204
    api.post("/api/dm/views/", {"project": world.project.pk, "data": {}}, format="json")
    assert api.delete(f"/api/dm/views/reset/?project={world.project.pk}").status_code == 204
    assert api.get("/api/dm/views/", {"project": world.project.pk}).json() == []


def test_actions_list(api, client_for, reviewer, world):
    ids = [a["id"] for a in api.get("/api/dm/actions/", {"project": world.project.pk}).json()]
    for expected in [
        "delete_tasks",
        "delete_tasks_annotations",
        "delete_tasks_predictions",
        "predictions_to_annotations",
        "mark_ground_truth",
        "unmark_ground_truth",
        "remove_duplicates",
    ]:
        assert expected in ids
    assert client_for(reviewer).get("/api/dm/actions/", {"project": world.project.pk}).json() == []


ROLES = ["staff", "owner", "reviewer", "annotator", "outsider", "anonymous"]


@pytest.fixture
def as_role(client_for, staff, owner, reviewer, annotator, outsider):
    users = {
        "staff": staff,
        "owner": owner,
        "reviewer": reviewer,
        "annotator": annotator,
        "outsider": outsider,
        "anonymous": None,
    }
    return lambda role: client_for(users[role])


CASES = [
    (
        "get",
        "/api/tasks/?project={p}&query=" + q(query(item("id", "greater", 0, "Number"))),
        None,
        [200, 200, 200, 403, 404, 401],
    ),
    ("get", "/api/dm/views/?project={p}", None, [200, 200, 200, 403, 404, 401]),
    ("post", "/api/dm/views/", {"project": "{p}", "data": {}}, [201, 201, 403, 403, 404, 401]),
    ("get", "/api/dm/views/{v}/", None, [200, 200, 200, 403, 404, 401]),
    ("patch", "/api/dm/views/{v}/", {"data": {"title": "t"}}, [200, 200, 403, 403, 404, 401]),
    ("get", "/api/dm/actions/?project={p}", None, [200, 200, 200, 403, 404, 401]),
    (
        "post",
        "/api/dm/actions/?id=unmark_ground_truth&project={p}",
        {"selectedItems": {"all": True}},
        [200, 200, 403, 403, 404, 401],
    ),
    ("get", "/api/dm/columns/?project={p}", None, [200, 200, 200, 403, 404, 401]),
    ("get", "/api/dm/count/?project={p}", None, [200, 200, 200, 403, 404, 401]),
    ("get", "/api/projects/{p}/verify/next/", None, [200, 200, 200, 403, 404, 401]),
    ("get", "/api/projects/{p}/verify/progress/", None, [200, 200, 200, 403, 404, 401]),
    (
        "post",
        "/api/projects/{p}/ground-truth/sample",
        {"fraction": 0.5},
        [200, 200, 403, 403, 404, 401],
    ),
    ("post", "/api/projects/{p}/ground-truth/reset", {}, [200, 200, 403, 403, 404, 401]),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "method,path,body,expected", CASES, ids=[f"{c[0]} {c[1][:45]}" for c in CASES]
)
def test_roles(as_role, world, role, method, path, body, expected):
    from datamanager.models import View

    view = View.objects.create(project=world.project, data={})
    fill = {"p": world.project.pk, "v": view.pk}
    url = (
        path.format(**fill)
        if "{" in path and "query=" not in path
        else path.replace("{p}", str(world.project.pk))
    )
    if body is not None:
        body = json.loads(json.dumps(body).replace('"{p}"', str(world.project.pk)))
    response = (
        getattr(as_role(role), method)(url, body, format="json")
        if body is not None
        else getattr(as_role(role), method)(url)
    )
    assert response.status_code == expected[ROLES.index(role)], response.content


def test_annotators_keep_the_plain_task_list(client_for, annotator, world):
    assert (
        client_for(annotator).get("/api/tasks/", {"project": world.project.pk}).status_code == 200
    )


def test_views_and_page_query_counts_are_fixed(
    api, world, owner, client, django_assert_max_num_queries
):
    from datamanager.models import View
    from importers.services import tasks_import

    View.objects.create(project=world.project, data={"title": "a"})
    views_url = f"/api/dm/views/?project={world.project.pk}"
    client.force_login(owner)
    page_url = f"/projects/{world.project.pk}/data?order=-tasks:reviews_accepted"
    api.get(views_url)
    client.get(page_url)
    with django_assert_max_num_queries(6) as views_small:
        api.get(views_url)
    with django_assert_max_num_queries(20) as page_small:
        client.get(page_url)
    for n in range(5):
        View.objects.create(project=world.project, data={"title": f"v{n}"})
    tasks_import(
        project=world.project, records=[{"image": f"/y/{i}.jpg"} for i in range(25)], user=owner
    )
    with django_assert_max_num_queries(len(views_small.captured_queries)):
        api.get(views_url)
    with django_assert_max_num_queries(len(page_small.captured_queries)):
        page = client.get(page_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="dm-form"' in html  # the Data Manager, not an error page
    assert html.count('<tr data-task-id="') == 30  # a full first page of the 31 tasks
