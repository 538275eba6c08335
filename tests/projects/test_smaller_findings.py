"""Issue #12, finding 9: docs CSP, SSRF messages and NAT64, what annotators see."""

import ipaddress

import pytest

from annotations.services import annotation_create, prediction_create
from importers.services import tasks_import
from importers.ssrf import is_public
from tests.factories import choice

pytestmark = pytest.mark.django_db


def test_api_docs_have_a_csp_without_inline_script(api):
    page = api.get("/api/docs/")
    assert page.status_code == 200
    policy = page["Content-Security-Policy"]
    assert (
        "script-src 'self'" in policy
        and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    )
    assert b"<script>" not in page.content  # the config script is loaded by URL
    script = api.get("/api/docs/?script=")
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content


@pytest.mark.parametrize(
    "address",
    ["64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::a00:1", "64:ff9b:1::c0a8:1"],
)
def test_nat64_forms_of_private_addresses_are_not_public(address):
    assert not is_public(ipaddress.ip_address(address))


def test_nat64_form_of_a_public_address_is_public():
    assert is_public(ipaddress.ip_address("64:ff9b::808:808"))


def test_refused_url_import_does_not_echo_the_resolved_address(api, project):
    response = api.post(f"/api/projects/{project.pk}/import?url=http://localhost:9/x.json")
    assert response.status_code == 400
    text = response.content.decode()
    assert "127.0.0.1" not in text and "::1" not in text
    assert "not a public address" in text


@pytest.fixture
def labeled(project, owner, annotator, make_user):
    from projects.models import ProjectMember
    from projects.services import member_set

    other = make_user("other-annotator@example.com")
    member_set(project=project, user=other, role=ProjectMember.Role.ANNOTATOR)
    task_id = tasks_import(project=project, records=[{"text": "t"}], user=owner).task_ids[0]
    from tasks.models import Task

    task = Task.objects.get(pk=task_id)
    annotation_create(task=task, user=other, result=choice("Positive"))
    annotation_create(task=task, user=annotator, result=choice("Negative"))
    prediction_create(task=task, result=choice("Neutral"), score=0.5)
    project.show_predictions_to_annotators = False
    project.save(update_fields=["show_predictions_to_annotators"])
    return task, other


def test_annotators_see_only_their_own_id_in_annotators(client_for, project, annotator, labeled):
    task, other = labeled
    rows = client_for(annotator).get(f"/api/tasks/?project={project.pk}").json()["tasks"]
    assert rows[0]["annotators"] == [annotator.pk]
    admin_rows = client_for(project.created_by).get(f"/api/tasks/?project={project.pk}").json()
    assert set(admin_rows["tasks"][0]["annotators"]) == {annotator.pk, other.pk}


def test_hidden_predictions_stay_hidden_from_annotators(client_for, project, annotator, labeled):
    task, _ = labeled
    client = client_for(annotator)
    assert client.get(f"/api/tasks/{task.pk}/").json()["predictions"] == []
    assert client.get(f"/api/predictions/?task={task.pk}").json() == []
    assert client.get(f"/api/predictions/?project={project.pk}").json() == []
    full = client.get(f"/api/tasks/?project={project.pk}&fields=all").json()["tasks"]
    assert full[0]["predictions"] == []
    prediction_id = task.predictions.get().pk
    assert client.get(f"/api/predictions/{prediction_id}/").status_code == 404
    admin = client_for(project.created_by)
    assert len(admin.get(f"/api/tasks/{task.pk}/").json()["predictions"]) == 1
    project.show_predictions_to_annotators = True
    project.save(update_fields=["show_predictions_to_annotators"])
    assert len(client.get(f"/api/predictions/?task={task.pk}").json()) == 1
