import pytest

from annotations.services import annotation_create, prediction_create
from importers.services import tasks_import
from tasks.models import Task
from tests.factories import choice

pytestmark = pytest.mark.django_db


@pytest.fixture
def tasks(project, owner, annotator):
    result = tasks_import(
        project=project, records=[{"text": f"t{i}"} for i in range(5)], user=owner
    )
    ids = result.task_ids
    annotation_create(task=Task.objects.get(pk=ids[0]), user=annotator, result=choice("Positive"))
    annotation_create(task=Task.objects.get(pk=ids[1]), user=owner, result=choice("Negative"))
    prediction_create(
        task=Task.objects.get(pk=ids[0]), result=choice("Neutral"), score=0.4, model_version="m1"
    )
    return ids


def test_list_shape_and_totals(api, project, tasks):
    body = api.get(f"/api/tasks/?project={project.pk}").json()
    assert set(body) == {"tasks", "total", "total_annotations", "total_predictions"}
    assert body["total"] == 5 and body["total_annotations"] == 2 and body["total_predictions"] == 1
    first = body["tasks"][0]
    assert first["id"] == tasks[0]
    assert (
        first["total_annotations"] == 1
        and first["cancelled_annotations"] == 0
        and first["total_predictions"] == 1
    )
    assert "annotations" not in first


def test_paging_and_page_past_end(api, project, tasks):
    page2 = api.get(f"/api/tasks?project={project.pk}&page=2&page_size=2").json()
    assert [t["id"] for t in page2["tasks"]] == tasks[2:4]
    assert api.get(f"/api/tasks/?project={project.pk}&page=4&page_size=2").status_code == 404
    assert api.get(f"/api/tasks/?project={project.pk}&page=0").status_code == 400


def test_fields_all_nests_annotations_and_predictions(api, project, tasks):
    body = api.get(f"/api/tasks/?project={project.pk}&fields=all").json()
    first = body["tasks"][0]
    assert first["annotations"][0]["result"] == choice("Positive")
    assert first["predictions"][0]["model_version"] == "m1"


def test_order(api, project, tasks):
    ids = [t["id"] for t in api.get(f"/api/tasks/?project={project.pk}&order=-id").json()["tasks"]]
    assert ids == sorted(tasks, reverse=True)
    assert api.get(f"/api/tasks/?project={project.pk}&order=secret").status_code == 400
    done = api.get(f"/api/tasks/?project={project.pk}&order=-completed_at").json()["tasks"]
    assert done[0]["id"] in tasks[:2]


def test_list_query_count_is_fixed(api, project, tasks, django_assert_max_num_queries, owner):
    url = f"/api/tasks/?project={project.pk}&fields=all"
    api.get(url)  # warm the token/role caches of the test client
    with django_assert_max_num_queries(9) as small:
        api.get(url)
    tasks_import(
        project=project,
        records=[
            {
                "data": {"text": "x"},
                "annotations": [{"result": choice("Positive")}],
                "predictions": [{"result": choice("Positive")}],
            }
        ]
        * 30,
        user=owner,
    )
    with django_assert_max_num_queries(len(small.captured_queries)):
        api.get(url)


def test_project_param_required(api):
    response = api.get("/api/tasks/")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "project"


def test_create_get_patch_delete(api, project):
    created = api.post(
        "/api/tasks/", {"project": project.pk, "data": {"text": "new"}}, format="json"
    )
    assert created.status_code == 201
    tid = created.json()["id"]
    detail = api.get(f"/api/tasks/{tid}").json()
    assert (
        detail["data"] == {"text": "new"}
        and detail["annotations"] == []
        and detail["predictions"] == []
    )
    patched = api.patch(
        f"/api/tasks/{tid}/", {"data": {"text": "changed"}, "meta": {"a": 1}}, format="json"
    )
    assert patched.json()["data"] == {"text": "changed"} and patched.json()["meta"] == {"a": 1}
    bad = api.patch(f"/api/tasks/{tid}/", {"data": {"other": 1}}, format="json")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "data.text"
    assert api.delete(f"/api/tasks/{tid}").status_code == 204
    project.refresh_from_db()
    assert project.task_number == 0


def test_create_needs_data_keys(api, project):
    response = api.post("/api/tasks/", {"project": project.pk, "data": {"nope": 1}}, format="json")
    assert response.status_code == 400
    assert Task.objects.count() == 0


def test_delete_task_recounts_project(api, project, tasks):
    api.delete(f"/api/tasks/{tasks[0]}/")
    project.refresh_from_db()
    assert project.task_number == 4
    assert project.total_annotations_number == 1
    assert project.total_predictions_number == 0
    assert project.num_tasks_with_annotations == 1


def test_s3_data_is_shown_through_the_resolve_path(api, owner):
    """Label Studio's form: /tasks/{id}/resolve/?fileuri=<base64 of the URI>."""
    from projects.services import project_create
    from tests.factories import IMAGE_CONFIG

    project = project_create(user=owner, title="s3", label_config=IMAGE_CONFIG)
    task = api.post(
        "/api/tasks/",
        {"project": project.pk, "data": {"image": "s3://bucket/a b.png"}},
        format="json",
    ).json()
    assert (
        task["data"]["image"]
        == f"/tasks/{task['id']}/resolve/?fileuri=czM6Ly9idWNrZXQvYSBiLnBuZw=="
    )
    exported = b"".join(
        api.get(f"/api/projects/{project.pk}/export?download_all_tasks=true").streaming_content
    )
    assert b"s3://bucket/a b.png" in exported  # exports keep the stored form
