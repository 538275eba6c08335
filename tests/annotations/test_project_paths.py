"""Label Studio's per-project paths: counts, summary, the old task list with its paging,
annotators, model versions, templates and GET validate (test_projects.tavern.yml,
project_tasks_api_paging.tavern.yml, data_import.tavern.yml's summary stages)."""

import pytest

from annotations.models import Prediction
from annotations.services import annotation_create, prediction_create, task_create
from tasks.models import Task
from tests.factories import TEXT_CONFIG, choice

pytestmark = pytest.mark.django_db


def _import(api, project, tasks):
    response = api.post(f"/api/projects/{project.pk}/import", tasks, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_counts_lists_each_visible_project_with_its_counters(
    api, client_for, project, outsider, annotator
):
    tasks = [task_create(project=project, data={"text": f"t{i}"}) for i in range(3)]
    annotation_create(task=tasks[0], user=annotator, result=choice("Positive"))
    annotation_create(task=tasks[1], user=annotator, result=[], was_cancelled=True)
    prediction_create(task=tasks[2], result=choice("Negative"), model_version="m1")
    body = api.get("/api/projects/counts").json()
    assert body["count"] == 1
    assert body["results"] == [
        {
            "id": project.pk,
            "task_number": 3,
            "finished_task_number": 1,  # a skip does not label a task
            "total_predictions_number": 1,
            "total_annotations_number": 1,
            "num_tasks_with_annotations": 1,
            "useful_annotation_number": 1,
            "ground_truth_number": 0,
            "skipped_annotations_number": 1,
        }
    ]
    only = api.get("/api/projects/counts/?include=task_number").json()["results"]
    assert only == [{"id": project.pk, "task_number": 3}]
    assert api.get("/api/projects/counts/?include=nope").status_code == 400
    assert client_for(outsider).get("/api/projects/counts/").json()["count"] == 0


def test_summary_counts_data_columns_and_annotation_labels(api, project, annotator, client_for):
    _import(
        api,
        project,
        [
            {"text": "a", "key1": 1},
            {"text": "b", "key1": 2, "extra": True},
            {"data": {"text": "c"}},
        ],
    )
    task = Task.objects.filter(project=project).order_by("id").first()
    annotation_create(task=task, user=annotator, result=choice("Positive"))
    body = api.get(f"/api/projects/{project.pk}/summary").json()
    assert body["all_data_columns"] == {"extra": 1, "key1": 2, "text": 3}
    assert body["common_data_columns"] == ["text"]
    assert body["created_annotations"] == {"sentiment|text|choices": 1}
    assert body["created_labels"] == {"sentiment": {"Positive": 1}}
    assert body["project"] == project.pk
    assert api.post(f"/api/projects/{project.pk}/summary/reset/").status_code == 200
    # An annotator would read every annotator's labels: not for them.
    assert client_for(annotator).get(f"/api/projects/{project.pk}/summary/").status_code == 403
    assert client_for(annotator).post(f"/api/projects/{project.pk}/summary/reset").status_code == (
        403
    )


def test_project_tasks_list_pages_like_label_studio(api, project):
    _import(api, project, [{"text": "Example 1"}, {"text": "Example 2"}])
    url = f"/api/projects/{project.pk}/tasks"
    listed = api.get(url)
    assert listed.status_code == 200
    body = listed.json()
    assert [t["data"] for t in body] == [{"text": "Example 2"}, {"text": "Example 1"}]
    first = body[0]
    assert first["meta"] == {}
    assert first["is_labeled"] is False
    assert first["overlap"] == 1
    assert first["project"] == project.pk
    assert first["annotations"] == [] and first["predictions"] == []
    assert first["updated_by"] is None
    one = api.get(f"{url}?start=0&page_size=1").json()
    two = api.get(f"{url}?start=1&page_size=1").json()
    assert [t["data"]["text"] for t in one + two] == ["Example 2", "Example 1"]
    assert len(api.get(f"{url}?page_size=-1").json()) == 2
    assert api.get(f"{url}?start=0&page_size=4").status_code == 200
    assert api.get(f"{url}?start=1&page_size=0").status_code == 404
    assert api.get(f"{url}?start=240000&page_size=100000000").status_code == 404
    assert api.get(f"{url}?page=2&page_size=1").json()[0]["data"]["text"] == "Example 1"
    assert api.get(f"{url}?page_size=x").status_code == 400
    assert api.get(f"{url}?page=0").status_code == 404
    assert api.get(f"{url}?start=-1").status_code == 400


def test_project_tasks_overlap_follows_the_project(api, project):
    _import(api, project, [{"text": "a"}])
    api.patch(f"/api/projects/{project.pk}", {"maximum_annotations": 3}, format="json")
    assert api.get(f"/api/projects/{project.pk}/tasks/").json()[0]["overlap"] == 3


def test_project_tasks_create_and_delete_all(api, project, client_for, annotator):
    url = f"/api/projects/{project.pk}/tasks/"
    created = api.post(url, {"data": {"text": "Test example phrase"}}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["data"] == {"text": "Test example phrase"}
    assert Task.objects.filter(project=project).count() == 1
    assert api.post(url, {"data": "text"}, format="json").status_code == 400
    assert client_for(annotator).post(url, {"data": {"text": "x"}}, format="json").status_code == (
        403
    )
    task = Task.objects.get(project=project)
    annotation_create(task=task, user=annotator, result=choice("Positive"))
    prediction_create(task=task, result=choice("Negative"), model_version="m1")
    assert client_for(annotator).delete(url).status_code == 403
    assert api.delete(url).status_code == 204
    assert not Task.objects.filter(project=project).exists()
    assert not Prediction.objects.filter(project=project).exists()
    project.refresh_from_db()
    assert project.task_number == 0
    assert project.total_annotations_number == 0
    assert project.total_predictions_number == 0
    assert project.task_data_keys == []
    # Empty, the old list answers Label Studio's 404.
    assert api.get(url).status_code == 404


def test_project_tasks_hide_other_annotators_work(api, project, client_for, annotator, make_user):
    from projects.models import ProjectMember
    from projects.services import member_set

    other = make_user("other@example.com")
    member_set(project=project, user=other, role=ProjectMember.Role.ANNOTATOR)
    task = task_create(project=project, data={"text": "t"})
    annotation_create(task=task, user=other, result=choice("Positive"))
    mine = client_for(annotator).get(f"/api/projects/{project.pk}/tasks/").json()
    assert mine[0]["annotations"] == []
    assert len(api.get(f"/api/projects/{project.pk}/tasks/").json()[0]["annotations"]) == 1


def test_annotators_lists_who_annotated(api, project, annotator, reviewer, client_for, outsider):
    task = task_create(project=project, data={"text": "t"})
    annotation_create(task=task, user=annotator, result=choice("Positive"))
    body = api.get(f"/api/projects/{project.pk}/annotators/").json()
    assert body == [
        {
            "id": annotator.pk,
            "email": annotator.email,
            "first_name": "",
            "last_name": "",
            "avatar": None,
        }
    ]
    assert client_for(outsider).get(f"/api/projects/{project.pk}/annotators/").status_code == 404


def test_model_versions_count_predictions(api, project, client_for, annotator):
    tasks = [task_create(project=project, data={"text": f"t{i}"}) for i in range(2)]
    prediction_create(task=tasks[0], result=choice("Positive"), model_version="old")
    prediction_create(task=tasks[0], result=choice("Positive"), model_version="new")
    prediction_create(task=tasks[1], result=choice("Positive"), model_version="new")
    # The API takes only a known version (as Label Studio); the settings page takes any.
    project.__class__.objects.filter(pk=project.pk).update(model_version="chosen")
    body = api.get(f"/api/projects/{project.pk}/model-versions").json()
    assert body == {"new": 2, "old": 1, "chosen": 0}
    extended = api.get(f"/api/projects/{project.pk}/model-versions/?extended=true").json()
    assert [(r["model_version"], r["count"]) for r in extended["static"]] == [
        ("new", 2),
        ("old", 1),
    ]
    assert extended["live"] is None
    api.patch(
        f"/api/projects/{project.pk}", {"show_predictions_to_annotators": False}, format="json"
    )
    hidden = client_for(annotator).get(f"/api/projects/{project.pk}/model-versions/").json()
    assert hidden == {"chosen": 0}

    url = f"/api/projects/{project.pk}/model-versions/"
    assert client_for(annotator).delete(
        url, {"model_version": "new"}, format="json"
    ).status_code == (403)
    assert api.delete(url, {}, format="json").status_code == 400
    assert api.delete(url, {"model_version": "new"}, format="json").json() == 2
    assert list(Prediction.objects.values_list("model_version", flat=True)) == ["old"]
    tasks[1].refresh_from_db()
    project.refresh_from_db()
    assert tasks[1].total_predictions == 0 and project.total_predictions_number == 1


def test_templates_and_get_validate(api, project, client_for, annotator):
    body = api.get("/api/templates").json()
    assert body["groups"] and body["templates"]
    assert {"title", "group", "config"} <= set(body["templates"][0])
    got = api.get(f"/api/projects/{project.pk}/validate")
    assert got.status_code == 200
    assert got.json() == {"label_config": TEXT_CONFIG}
    assert client_for(annotator).get(f"/api/projects/{project.pk}/validate/").status_code == 403
    assert client_for(None).get("/api/templates/").status_code in (401, 403)


def test_put_is_taken_where_label_studio_takes_it(api, project):
    task = task_create(project=project, data={"text": "t"})
    assert api.put(f"/api/tasks/{task.pk}", {"data": {"text": "u"}}, format="json").json()[
        "data"
    ] == {"text": "u"}
    annotation = annotation_create(task=task, user=project.created_by, result=choice("Positive"))
    changed = api.put(
        f"/api/annotations/{annotation.pk}", {"result": choice("Negative")}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["result"] == choice("Negative")
    prediction = prediction_create(task=task, result=choice("Positive"), model_version="m")
    moved = api.put(f"/api/predictions/{prediction.pk}", {"model_version": "n"}, format="json")
    assert moved.status_code == 200 and moved.json()["model_version"] == "n"
    renamed = api.put(f"/api/projects/{project.pk}", {"title": "Renamed"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["title"] == "Renamed"


def test_list_endpoints_cost_a_fixed_number_of_queries(
    api, project, annotator, django_assert_num_queries, make_project
):
    tasks = [task_create(project=project, data={"text": f"t{i}"}) for i in range(5)]
    for task in tasks:
        annotation_create(task=task, user=annotator, result=choice("Positive"))
        prediction_create(task=task, result=choice("Positive"), model_version="m")
    for i in range(3):
        make_project(TEXT_CONFIG, f"more {i}")
    # token auth, membership role, the page of tasks, its annotations (+ their users and
    # reviews) and predictions: the same for 5 tasks as for 50.
    with django_assert_num_queries(7):
        assert len(api.get(f"/api/projects/{project.pk}/tasks/").json()) == 5
    # token auth, count, the page with its two counted subqueries.
    with django_assert_num_queries(3):
        assert api.get("/api/projects/counts/").json()["count"] == 4
