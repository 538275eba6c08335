"""Label Studio's labels manager (``/api/labels``, ``/api/label_links``,
``/api/labels/bulk``): the requests and answers of its test_labels_manager.tavern.yml,
and who may see and change what."""

import pytest

from annotations.models import Annotation, LabelCount
from annotations.services import annotation_create, review_set
from importers.services import tasks_import
from projects.models import Label, LabelLink, ProjectMember
from projects.services import member_set, project_create
from tasks.models import Task
from tests.factories import TEXT_CONFIG, choice

pytestmark = pytest.mark.django_db

LS_CONFIG = (
    '<View><Text name="text" value="$text"/><Choices name="label" toName="text">'
    '<Choice value="pos"/><Choice value="neg"/></Choices></View>'
)


def _tasks(project, *texts) -> list[Task]:
    ids = tasks_import(
        project=project, records=[{"text": t} for t in texts], user=project.created_by
    ).task_ids
    return list(Task.objects.filter(pk__in=ids).order_by("pk"))


def _labels(project_pk, *items):
    return [
        {"title": title, "value": value, "from_name": from_name, "project": project_pk}
        for title, value, from_name in items
    ]


def test_labels_manager_tavern_flow(api, owner):
    project = api.post("/api/projects", {"title": "t", "label_config": LS_CONFIG}, format="json")
    assert project.status_code == 201
    pk = project.json()["id"]
    created = api.post(
        "/api/labels",
        _labels(
            pk,
            ("Test label1", {"key": "value1"}, "test1"),
            ("Test label2", {"key": "value2"}, "test2"),
        ),
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    label1, label2 = body[0]["id"], body[1]["id"]
    assert body[0]["title"] == "Test label1" and body[0]["value"] == {"key": "value1"}
    assert body[0]["project"] == pk and body[0]["from_name"] == "test1"
    assert body[0]["created_by"] == owner.pk and body[0]["approved"] is False
    assert body[0]["projects"] == [pk] and body[0]["organization"] == 1
    reused = api.post(
        "/api/labels",
        _labels(
            pk,
            ("Test label1", {"key": "value1"}, "test1"),
            ("Test label3", {"key": "value3"}, "test3"),
        ),
        format="json",
    )
    assert reused.status_code == 201
    assert reused.json()[0]["id"] == label1
    label3 = reused.json()[1]["id"]
    assert Label.objects.count() == 3 and LabelLink.objects.count() == 3

    links = api.get("/api/label_links")
    assert links.status_code == 200
    results = links.json()["results"]
    assert links.json()["count"] == 3
    assert {"from_name": "test3", "project": pk, "label": label3}.items() <= results[2].items()
    assert results[2]["annotations_count"] == 0

    listed = api.get("/api/labels?expand=links")
    assert listed.status_code == 200
    second = listed.json()["results"][1]
    assert second["title"] == "Test label2" and second["value"] == {"key": "value2"}
    assert second["projects"] == [pk]
    assert second["links"][0]["from_name"] == "test2"

    one = api.get(f"/api/labels/{label1}?expand=links")
    assert one.status_code == 200
    assert one.json()["id"] == label1 and one.json()["links"][0]["from_name"] == "test1"
    assert one.json()["projects"] == [pk]
    plain = api.get(f"/api/labels/{label1}/").json()
    assert plain["links"] == [one.json()["links"][0]["id"]]
    assert api.get(f"/api/labels/{label2}").status_code == 200


def test_create_needs_a_list_and_one_project(api, project, owner):
    other = project_create(user=owner, title="other", label_config=TEXT_CONFIG)
    bad = api.post(
        "/api/labels/",
        {"title": "x", "value": 1, "from_name": "a", "project": project.pk},
        format="json",
    )
    assert bad.status_code == 400
    mixed = api.post(
        "/api/labels/",
        _labels(project.pk, ("a", 1, "x")) + _labels(other.pk, ("b", 2, "x")),
        format="json",
    )
    assert mixed.status_code == 400
    assert "different projects" in mixed.content.decode()
    missing = api.post(
        "/api/labels/", [{"title": "a", "from_name": "x", "project": project.pk}], format="json"
    )
    assert missing.status_code == 400 and "[0].value" in missing.content.decode()
    assert Label.objects.count() == 0


def test_only_managers_create_and_outsiders_see_nothing(
    api, project, client_for, annotator, outsider
):
    body = _labels(project.pk, ("a", ["x"], "sentiment"))
    assert client_for(annotator).post("/api/labels/", body, format="json").status_code == 403
    assert client_for(outsider).post("/api/labels/", body, format="json").status_code == 404
    label = api.post("/api/labels/", body, format="json").json()[0]["id"]
    # a member sees the label through its link; an outsider sees neither
    assert client_for(annotator).get(f"/api/labels/{label}/").status_code == 200
    assert client_for(outsider).get(f"/api/labels/{label}/").status_code == 404
    assert client_for(outsider).get("/api/labels/").json()["count"] == 0
    assert client_for(outsider).get("/api/label_links/").json()["count"] == 0
    # only the creator changes or deletes it
    assert (
        client_for(annotator)
        .patch(f"/api/labels/{label}/", {"title": "z"}, format="json")
        .status_code
        == 403
    )
    assert client_for(annotator).delete(f"/api/labels/{label}/").status_code == 403
    link = LabelLink.objects.get().pk
    assert client_for(annotator).delete(f"/api/label_links/{link}/").status_code == 403
    assert client_for(outsider).get(f"/api/label_links/{link}/").status_code == 404


def test_patch_and_delete_label(api, project):
    label = api.post(
        "/api/labels/", _labels(project.pk, ("a", ["x"], "sentiment")), format="json"
    ).json()[0]
    changed = api.patch(
        f"/api/labels/{label['id']}/",
        {"title": "b", "description": "d", "approved": True},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["title"] == "b" and changed.json()["approved"] is True
    assert changed.json()["approved_by"] == label["created_by"]
    assert api.patch(f"/api/labels/{label['id']}/", {"title": ""}, format="json").status_code == 400
    assert api.delete(f"/api/labels/{label['id']}/").status_code == 204
    assert not Label.objects.exists() and not LabelLink.objects.exists()


def test_links_crud_and_filters(api, project, owner):
    other = project_create(user=owner, title="other", label_config=TEXT_CONFIG)
    label = api.post(
        "/api/labels/", _labels(project.pk, ("a", ["x"], "sentiment")), format="json"
    ).json()[0]
    created = api.post(
        "/api/label_links/",
        {"label": label["id"], "project": other.pk, "from_name": "s"},
        format="json",
    )
    assert created.status_code == 201, created.content
    link = created.json()
    assert link["project"] == other.pk and link["label"] == label["id"]
    again = api.post(
        "/api/label_links/",
        {"label": label["id"], "project": other.pk, "from_name": "s"},
        format="json",
    )
    assert again.status_code == 400
    only = api.get("/api/label_links/", {"project": other.pk}).json()
    assert [r["id"] for r in only["results"]] == [link["id"]]
    assert api.get("/api/label_links/", {"project": "x"}).status_code == 400
    expanded = api.get(f"/api/label_links/{link['id']}/?expand=label").json()
    assert expanded["label"]["title"] == "a"
    patched = api.patch(f"/api/label_links/{link['id']}/", {"from_name": "t"}, format="json")
    assert patched.status_code == 200 and patched.json()["from_name"] == "t"
    assert api.delete(f"/api/label_links/{link['id']}").status_code == 204
    assert LabelLink.objects.filter(project=other).count() == 0


def test_link_annotations_count(api, project, annotator):
    task = _tasks(project, "a", "b")[0]
    annotation_create(task=task, user=annotator, result=choice("Positive"))
    api.post("/api/labels/", _labels(project.pk, ("p", ["Positive"], "sentiment")), format="json")
    api.post("/api/labels/", _labels(project.pk, ("n", ["Negative"], "sentiment")), format="json")
    counts = {
        r["label"]: r["annotations_count"] for r in api.get("/api/label_links/").json()["results"]
    }
    by_title = {label.title: label.pk for label in Label.objects.all()}
    assert counts == {by_title["p"]: 1, by_title["n"]: 0}


def _ls_project(owner, annotator):
    project = project_create(user=owner, title="ls", label_config=LS_CONFIG)
    member_set(project=project, user=annotator, role=ProjectMember.Role.ANNOTATOR)
    return project


def _label_result(value: str) -> list[dict]:
    return [
        {
            "id": "r1",
            "from_name": "label",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [value]},
        }
    ]


def test_bulk_update_label_in_annotations(api, owner, annotator):
    project = _ls_project(owner, annotator)
    task = _tasks(project, "Test example phrase")[0]
    annotation = annotation_create(task=task, user=annotator, result=_label_result("pos"))
    review_set(annotation=annotation, reviewer=owner, accepted=False)
    response = api.post(
        "/api/labels/bulk",
        {"project": project.pk, "old_label": ["pos"], "new_label": ["neg"]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"annotations_updated": 1}
    got = api.get(f"/api/annotations/{annotation.pk}").json()
    assert got["result"][0]["value"] == {"choices": ["neg"]}
    counts = dict(LabelCount.objects.filter(project=project).values_list("label", "count"))
    assert counts.get("pos", 0) == 0 and counts["neg"] == 1
    # a rename is not rework: the rejection stays
    assert annotation.reviews.filter(accepted=False).exists()
    # the Data Manager's label filter sees the new label
    again = api.post(
        "/api/labels/bulk",
        {"project": project.pk, "old_label": ["pos"], "new_label": ["neg"]},
        format="json",
    )
    assert again.json() == {"annotations_updated": 0}


def test_bulk_update_refuses_a_label_the_config_lacks(api, owner, annotator):
    project = _ls_project(owner, annotator)
    task = _tasks(project, "x", "y")
    first = annotation_create(task=task[0], user=annotator, result=_label_result("pos"))
    annotation_create(task=task[1], user=annotator, result=_label_result("pos"))
    response = api.post(
        "/api/labels/bulk",
        {"project": project.pk, "old_label": ["pos"], "new_label": ["nope"]},
        format="json",
    )
    assert response.status_code == 400
    assert "new_label" in response.content.decode()
    assert Annotation.objects.get(pk=first.pk).result[0]["value"] == {"choices": ["pos"]}


def test_bulk_update_access(api, owner, annotator, client_for, outsider):
    project = _ls_project(owner, annotator)
    task = _tasks(project, "x")[0]
    annotation_create(task=task, user=annotator, result=_label_result("pos"))
    body = {"project": project.pk, "old_label": ["pos"], "new_label": ["neg"]}
    assert client_for(annotator).post("/api/labels/bulk", body, format="json").status_code == 403
    assert client_for(outsider).post("/api/labels/bulk", body, format="json").status_code == 404
    # without a project: only the projects the caller manages
    unscoped = {"old_label": ["pos"], "new_label": ["neg"]}
    assert client_for(outsider).post("/api/labels/bulk", unscoped, format="json").json() == {
        "annotations_updated": 0
    }
    assert api.post("/api/labels/bulk", unscoped, format="json").json() == {
        "annotations_updated": 1
    }
    assert api.post("/api/labels/bulk", {"project": project.pk}, format="json").status_code == 400


TAXONOMY = (
    '<View> <Text name="text" value="$text"/> <Taxonomy name="taxonomy" toName="text">'
    ' <Choice value="Archaea" /> <Choice value="Bacteria" /> <Choice value="Eukarya">'
    ' <Choice value="Human" /> <Choice value="Oppossum" /> <Choice value="Extraterrestial" />'
    " </Choice> </Taxonomy> </View>"
)


def test_validation_with_custom_labels(api, owner):
    # test_labels_manager.tavern.yml's test_validation_with_custom_labels
    pk = api.post("/api/projects", {"title": "t", "label_config": TAXONOMY}, format="json").json()[
        "id"
    ]
    task = api.post("/api/tasks", {"project": pk, "data": {"text": "x"}}, format="json").json()[
        "id"
    ]
    result = [
        {
            "from_name": "taxonomy",
            "to_name": "text",
            "type": "taxonomy",
            "value": {"taxonomy": [["value2"]]},
        }
    ]
    refused = api.post(f"/api/tasks/{task}/annotations", {"result": result}, format="json")
    assert refused.status_code == 400  # not in the config, and no custom label yet
    created = api.post(
        "/api/labels",
        [
            {"title": "Test label1", "value": ["value1"], "from_name": "test1", "project": pk},
            {"title": "Test label2", "value": ["value2"], "from_name": "test2", "project": pk},
        ],
        format="json",
    )
    assert created.status_code == 201
    annotation = api.post(
        f"/api/tasks/{task}/annotations", {"result": result, "lead_time": 12.34}, format="json"
    )
    assert annotation.status_code == 201, annotation.content
    validated = api.post(f"/api/projects/{pk}/validate", {"label_config": TAXONOMY}, format="json")
    assert validated.status_code == 200
    # a label linked to another project does not count here
    other = api.post(
        "/api/projects", {"title": "o", "label_config": TAXONOMY}, format="json"
    ).json()["id"]
    other_task = api.post(
        "/api/tasks", {"project": other, "data": {"text": "y"}}, format="json"
    ).json()
    assert (
        api.post(
            f"/api/tasks/{other_task['id']}/annotations", {"result": result}, format="json"
        ).status_code
        == 400
    )


def test_bulk_update_non_ascii_label(api, owner, annotator):
    config = (
        '<View><Text name="text" value="$text"/><Choices name="label" toName="text">'
        '<Choice value="café"/><Choice value="thé"/></Choices></View>'
    )
    project = project_create(user=owner, title="u", label_config=config)
    member_set(project=project, user=annotator, role=ProjectMember.Role.ANNOTATOR)
    task = _tasks(project, "x")[0]
    annotation = annotation_create(task=task, user=annotator, result=_label_result("café"))
    body = {"project": project.pk, "old_label": ["café"], "new_label": ["thé"]}
    assert api.post("/api/labels/bulk", body, format="json").json() == {"annotations_updated": 1}
    assert Annotation.objects.get(pk=annotation.pk).result[0]["value"] == {"choices": ["thé"]}
