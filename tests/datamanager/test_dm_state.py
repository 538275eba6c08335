"""Label Studio's Data Manager paths besides the task list: ``/api/dm/``,
``/api/dm/project/``, ``/api/dm/views/order/`` and ``/api/dm/actions/<id>/form/``."""

import pytest

pytestmark = pytest.mark.django_db

TEXT = '<View><Text name="text" value="$text"/></View>'


def test_dm_root_links_views(api):
    response = api.get("/api/dm/")
    assert response.status_code == 200
    assert response.json() == {"views": "http://testserver/api/dm/views/"}
    assert api.get("/api/dm").status_code == 200


def test_dm_root_needs_auth(client_for):
    assert client_for(None).get("/api/dm/").status_code in (401, 403)


def test_project_state(api, world, client_for, reviewer, outsider):
    # columns.tavern.yml's first stage: GET /api/dm/project?project=<id>
    response = api.get(f"/api/dm/project?project={world.project.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == world.project.pk and body["title"] == "Pets"
    assert body["task_count"] == 6
    # t0, t1 (two), t2, t3 (skipped): every annotation row, as Label Studio counts them
    assert body["annotation_count"] == 5
    assert body["config_has_control_tags"] is True
    # Label Studio's quirk, kept: the project counters are null here
    assert body["task_number"] is None and body["total_annotations_number"] is None
    assert body["can_delete_tasks"] is body["can_manage_tasks"] is True
    assert body["source_syncing"] is False and body["target_syncing"] is False
    # Label Studio's field set: its fields for features LabelHub lacks, at "off"
    assert body["show_collab_predictions"] is True and body["overlap_cohort_percentage"] == 100
    assert body["task_data_login"] is None and body["show_ground_truth_first"] is False
    assert body["control_weights"] == {
        "label": {"overall": 1.0, "type": "RectangleLabels", "labels": {"Cat": 1.0, "Dog": 1.0}}
    }
    as_reviewer = client_for(reviewer).get("/api/dm/project/", {"project": world.project.pk})
    assert as_reviewer.status_code == 200 and as_reviewer.json()["can_manage_tasks"] is False
    assert (
        client_for(outsider).get(f"/api/dm/project/?project={world.project.pk}").status_code == 404
    )
    assert api.get("/api/dm/project/").status_code == 400


def test_empty_config_has_no_control_tags(api, owner):
    created = api.post(
        "/api/projects/", {"title": "x", "label_config": "<View></View>"}, format="json"
    )
    assert created.status_code == 201, created.content
    body = api.get(f"/api/dm/project/?project={created.json()['id']}").json()
    assert body["config_has_control_tags"] is False and body["task_count"] == 0


def _views(api, project) -> list[int]:
    return [v["id"] for v in api.get("/api/dm/views/", {"project": project.pk}).json()]


def test_views_order(api, world, client_for, reviewer, outsider):
    ids = [
        api.post(
            "/api/dm/views/", {"project": world.project.pk, "data": {"title": t}}, format="json"
        ).json()["id"]
        for t in ("a", "b", "c")
    ]
    assert _views(api, world.project) == ids
    wanted = [ids[2], ids[0], ids[1]]
    response = api.post(
        "/api/dm/views/order/", {"project": world.project.pk, "ids": wanted}, format="json"
    )
    assert response.status_code == 200
    assert _views(api, world.project) == wanted
    orders = {
        v["id"]: v["order"] for v in api.get(f"/api/dm/views/?project={world.project.pk}").json()
    }
    assert orders == {ids[2]: 0, ids[0]: 1, ids[1]: 2}
    # without the trailing slash too (the SDK's path)
    assert (
        api.post(
            "/api/dm/views/order", {"project": world.project.pk, "ids": ids}, format="json"
        ).status_code
        == 200
    )
    assert _views(api, world.project) == ids
    # a reviewer may read the views, not reorder them; an outsider sees no project
    body = {"project": world.project.pk, "ids": wanted}
    assert client_for(reviewer).post("/api/dm/views/order/", body, format="json").status_code == 403
    assert client_for(outsider).post("/api/dm/views/order/", body, format="json").status_code == 404
    assert _views(api, world.project) == ids


def test_views_order_ignores_other_projects_views(api, world, project):
    mine = api.post(
        "/api/dm/views/", {"project": world.project.pk, "data": {}}, format="json"
    ).json()["id"]
    other = api.post("/api/dm/views/", {"project": project.pk, "data": {}}, format="json").json()
    assert other["order"] == 0
    response = api.post(
        "/api/dm/views/order/",
        {"project": world.project.pk, "ids": [other["id"], mine]},
        format="json",
    )
    assert response.status_code == 200
    assert api.get(f"/api/dm/views/{other['id']}/").json()["order"] == 0
    assert api.get(f"/api/dm/views/{mine}/").json()["order"] == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"ids": [1]}, "project"),
        ({"project": 1}, "ids"),
        ({"project": 1, "ids": []}, "ids"),
        ({"project": 1, "ids": ["x"]}, "ids"),
    ],
)
def test_views_order_bad_input(api, world, body, field):
    response = api.post("/api/dm/views/order/", body, format="json")
    assert response.status_code == 400
    assert field in response.content.decode()


def test_action_form(api, world, client_for, reviewer, outsider):
    url = "/api/dm/actions/delete_tasks/form/"
    response = api.get(url, {"project": world.project.pk})
    assert response.status_code == 200 and response.json() == []
    assert api.get("/api/dm/actions/nope/form/", {"project": world.project.pk}).status_code == 404
    assert client_for(reviewer).get(url, {"project": world.project.pk}).status_code == 403
    assert client_for(outsider).get(url, {"project": world.project.pk}).status_code == 404
    assert api.get(url).status_code == 400


def test_next_task_action(api, owner, client_for, reviewer):
    # next_task.tavern.yml's check_task_lock_with_data_manager_queue
    pk = api.post("/api/projects/", {"title": "n", "label_config": TEXT}, format="json").json()[
        "id"
    ]
    records = [{"text": "Example 1"}, {"text": "Example 2"}]
    assert api.post(f"/api/projects/{pk}/import", records, format="json").status_code == 201
    url = f"/api/dm/actions?project={pk}&id=next_task"

    def queue(ordering):
        body = {
            "ordering": ordering,
            "selectedItems": {"all": True, "excluded": []},
            "filters": {"conjunction": "and", "items": []},
        }
        response = api.post(url, body, format="json")
        assert response.status_code == 200, response.content
        return response.json()

    assert queue(["-tasks:id"])["data"] == {"text": "Example 2"}
    assert queue(["-tasks:id"])["data"] == {"text": "Example 2"}
    assert queue(["tasks:id"])["data"] == {"text": "Example 1"}  # the lock does not reorder
    first = api.post(url)
    assert first.status_code == 200
    assert api.post(url).json()["id"] == first.json()["id"]  # the Label Stream resumes
    # a reviewer does not label; the action stays out of the list
    assert client_for(reviewer).post(url).status_code in (403, 404)
    listed = api.get("/api/dm/actions/", {"project": pk}).json()
    assert "next_task" not in [a["id"] for a in listed]
