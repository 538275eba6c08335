"""The HTML pages through Django's test client: roles, forms, CSP, the stream page."""

import json
import re

import pytest
from django.conf import settings
from django.test import Client
from django.utils.html import escape

from annotations.services import annotation_create
from frontend.label_templates import BY_KEY, TEMPLATES
from importers.samples import sample_data
from importers.services import tasks_import
from projects.label_config import parse_label_config
from projects.models import Project, ProjectMember
from projects.services import member_set, project_create, project_creator_allow
from tasks.models import TaskLock
from tests.factories import choice

pytestmark = pytest.mark.django_db


@pytest.fixture
def web():
    def make(user):
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def task_ids(project, owner):
    return tasks_import(
        project=project, records=[{"text": f"t{i}"} for i in range(3)], user=owner
    ).task_ids


def editor_data(response) -> dict:
    match = re.search(
        rb'<script id="editor-data" type="application/json">(.*?)</script>', response.content, re.S
    )
    assert match, "no editor data on the page"
    return json.loads(match.group(1))


PROJECT_PAGES = ["settings", "data", "tasks", "label", ""]


@pytest.mark.parametrize(
    "who, expected",
    [
        ("owner", {"settings": 200, "data": 200, "tasks": 302, "label": 200, "": 302}),
        ("staff", {"settings": 200, "data": 200, "tasks": 302, "label": 200, "": 302}),
        ("reviewer", {"settings": 403, "data": 200, "tasks": 302, "label": 403, "": 302}),
        ("annotator", {"settings": 403, "data": 403, "tasks": 403, "label": 200, "": 302}),
        ("outsider", {"settings": 404, "data": 404, "tasks": 404, "label": 404, "": 404}),
    ],
)
def test_project_pages_by_role(web, request, project, task_ids, who, expected):
    """``tasks`` (the old task list) redirects to the Data Manager for those who may see it."""
    client = web(request.getfixturevalue(who))
    for page in PROJECT_PAGES:
        url = f"/projects/{project.pk}/{page}"
        assert client.get(url).status_code == expected[page], url
    task_page = client.get(f"/projects/{project.pk}/tasks/{task_ids[0]}")
    assert task_page.status_code == expected["data"]


def test_project_home_sends_each_role_to_its_page(web, project, owner, annotator):
    assert (
        web(annotator).get(f"/projects/{project.pk}/")["Location"]
        == f"/projects/{project.pk}/label"
    )
    assert web(owner).get(f"/projects/{project.pk}")["Location"] in (
        f"/projects/{project.pk}/data",
        f"/projects/{project.pk}/tasks",
    )


def test_pages_need_login(web, project):
    for url in [
        "/projects/",
        "/projects",  # Label Studio's link, without the slash
        f"/projects/{project.pk}/label",
        "/projects/new",
        f"/projects/{project.pk}/settings",
    ]:
        response = web(None).get(url)
        assert response.status_code == 302 and response["Location"].startswith("/user/login/"), url


def test_projects_list_shows_only_members_projects_with_progress(
    web, project, owner, annotator, make_user, task_ids
):
    other = project_create(
        user=make_user("else@example.com"), title="Secret", label_config=project.label_config
    )
    annotation_create(
        task=project.tasks.get(pk=task_ids[0]), user=annotator, result=choice("Positive")
    )
    page = web(annotator).get("/projects/").content.decode()
    assert "Sentiment" in page and other.title not in page
    assert 'value="33"' in page  # 1 of 3 tasks: <progress value=33>
    assert f'href="/projects/{project.pk}/label"' in page
    assert f'href="/projects/{project.pk}/settings"' not in page  # annotators only label
    assert "New project" not in page
    assert "New project" in web(owner).get("/projects/").content.decode()


def test_annotator_only_sees_the_label_link(web, project, annotator, owner):
    nav = re.findall(
        r'data-nav="(\w+)"', web(annotator).get(f"/projects/{project.pk}/label").content.decode()
    )
    assert nav == ["label", "quality"]  # the Label Stream and "My performance"
    admin_nav = re.findall(
        r'data-nav="(\w+)"', web(owner).get(f"/projects/{project.pk}/settings").content.decode()
    )
    assert set(admin_nav) >= {"data", "label", "settings"}


def test_label_page_hands_out_the_next_task_in_json_script(web, project, task_ids, annotator):
    client = web(annotator)
    response = client.get(f"/projects/{project.pk}/label")
    data = editor_data(response)
    assert data["task"]["id"] == task_ids[0] and data["task"]["data"] == {"text": "t0"}
    assert data["config"] == project.label_config
    assert "topbar" in data["interfaces"] and "skip" in data["interfaces"]
    assert "annotations:menu" not in data["interfaces"]  # no completion panel in the stream
    assert data["user"]["email"] == annotator.email
    assert TaskLock.objects.filter(user=annotator, task_id=task_ids[0]).exists()
    assert editor_data(client.get(f"/projects/{project.pk}/label"))["task"]["id"] == task_ids[0]
    # the page's only inline scripts are JSON data
    scripts = re.findall(rb"<script(?![^>]*\bsrc=)([^>]*)>", response.content)
    assert scripts and all(b'type="application/json"' in attrs for attrs in scripts)


def test_label_page_says_when_nothing_is_left(web, project, annotator):
    response = web(annotator).get(f"/projects/{project.pk}/label")
    page = response.content.decode()
    assert response.status_code == 200 and "No more tasks" in page
    # No editor is mounted (the root stays hidden and empty); the editor's code is there
    # for "My annotations", which reopens the user's work on this page.
    assert '<div id="editor" class="editor-root" data-mode="stream" hidden></div>' in page
    assert editor_data(response)["task"] is None


def test_label_page_without_skip(web, project, task_ids, annotator):
    Project.objects.filter(pk=project.pk).update(show_skip_button=False)
    assert (
        "skip" not in editor_data(web(annotator).get(f"/projects/{project.pk}/label"))["interfaces"]
    )


def test_csp_headers(web, project, task_ids, annotator, owner):
    editor_csp = web(annotator).get(f"/projects/{project.pk}/label")["Content-Security-Policy"]
    # 1.23's audio decoder compiles WebAssembly ('wasm-unsafe-eval' allows only that);
    # no 'unsafe-eval' for JavaScript either way
    if settings.LABELHUB_EDITOR == "1.4":
        assert "script-src 'self';" in editor_csp and "object-src 'none'" in editor_csp
    else:
        assert "script-src 'self' 'wasm-unsafe-eval';" in editor_csp
        assert "object-src * blob:" in editor_csp  # the PDF tag's <embed>
    assert "'unsafe-eval'" not in editor_csp
    assert "style-src 'self' 'unsafe-inline'" in editor_csp
    assert "frame-ancestors 'none'" in editor_csp
    page_csp = web(owner).get("/projects/")["Content-Security-Policy"]
    assert "script-src 'self';" in page_csp and "unsafe-inline" not in page_csp
    assert web(owner).get("/user/login/")["Content-Security-Policy"]
    preview = web(owner).post("/projects/preview", {"label_config": project.label_config})
    assert "frame-ancestors 'self'" in preview["Content-Security-Policy"]
    assert preview["X-Frame-Options"] == "SAMEORIGIN"


def test_create_project_from_a_template(web, owner):
    client = web(owner)
    page = client.get("/projects/new?template=ner")
    assert page.status_code == 200 and b"Named entity recognition" in page.content
    assert escape(BY_KEY["ner"]["config"].split("\n")[1].strip()).encode() in page.content
    response = client.post(
        "/projects/new",
        {"title": "News", "template": "ner", "label_config": BY_KEY["ner"]["config"]},
    )
    project = Project.objects.get(title="News")
    assert response["Location"] == f"/projects/{project.pk}/import?created=1"
    assert project.parsed_config["controls"]["label"]["type"] == "Labels"
    assert ProjectMember.objects.get(project=project, user=owner).role == "admin"


def test_create_project_with_a_bad_config_says_why(web, owner):
    response = web(owner).post(
        "/projects/new",
        {"title": "Bad", "label_config": "<View><Choices name='x' toName='nope'/></View>"},
    )
    assert response.status_code == 200 and b'class="error"' in response.content
    assert not Project.objects.filter(title="Bad").exists()


def test_only_staff_and_allowed_users_may_create_projects(web, project, annotator, make_user):
    assert web(annotator).get("/projects/new").status_code == 403
    newcomer = make_user("new@example.com")
    assert web(newcomer).get("/projects/new").status_code == 403
    allowed = project_creator_allow(user=newcomer, allowed=True)
    assert web(allowed).get("/projects/new").status_code == 200


def test_settings_sections_save_through_the_services(web, project, owner):
    client = web(owner)
    url = f"/projects/{project.pk}/settings"
    client.post(
        url,
        {
            "section": "general",
            "title": "Renamed",
            "description": "d",
            "expert_instruction": "Be careful",
            "color": "#123456",
        },
    )
    client.post(
        url,
        {
            "section": "sampling",
            "sampling": "uniform",
            "maximum_annotations": 3,
            "show_predictions_to_annotators": "",
            "show_skip_button": "on",
        },
    )
    config = BY_KEY["text-classification"]["config"].replace("Neutral", "Mixed")
    saved = client.post(url, {"section": "config", "label_config": config})
    assert saved.status_code == 302 and saved["Location"].endswith("#config")
    project.refresh_from_db()
    assert (project.title, project.expert_instruction, project.color) == (
        "Renamed",
        "Be careful",
        "#123456",
    )
    assert (project.sampling, project.maximum_annotations) == ("uniform", 3)
    assert project.show_predictions_to_annotators is False and project.show_skip_button is True
    assert "Mixed" in project.parsed_config["controls"]["sentiment"]["labels"]


def test_settings_reject_a_bad_config_and_keep_the_old(web, project, owner):
    before = project.label_config
    response = web(owner).post(
        f"/projects/{project.pk}/settings", {"section": "config", "label_config": "<View><Text/>"}
    )
    assert response.status_code == 200 and b'class="error"' in response.content
    project.refresh_from_db()
    assert project.label_config == before


def test_settings_members(web, project, owner, annotator, make_user):
    client = web(owner)
    url = f"/projects/{project.pk}/settings"
    newcomer = make_user("newcomer@example.com")
    client.post(url, {"section": "member_add", "email": "NEWCOMER@example.com", "role": "reviewer"})
    assert ProjectMember.objects.get(project=project, user=newcomer).role == "reviewer"
    missing = client.post(
        url,
        {"section": "member_add", "email": "nobody@example.com", "role": "annotator"},
        follow=True,
    )
    # The same answer as for an account that exists (issue #24 row 11): both invited.
    assert b"No user has this email" not in missing.content
    assert missing.content.count(b"(invited)") == 2
    client.post(url, {"section": "member", "email": "newcomer@example.com", "role": "annotator"})
    assert ProjectMember.objects.get(project=project, user=newcomer).role == "annotator"
    client.post(url, {"section": "member", "user": annotator.pk, "role": "reviewer"})
    assert ProjectMember.objects.get(project=project, user=annotator).role == "reviewer"
    client.post(url, {"section": "member", "user": annotator.pk, "remove": "on"})
    assert not ProjectMember.objects.filter(project=project, user=annotator).exists()
    last_admin = client.post(url, {"section": "member", "user": owner.pk, "remove": "on"})
    assert b"at least one admin" in last_admin.content
    demote = client.post(url, {"section": "member", "user": owner.pk, "role": "annotator"})
    assert b"at least one admin" in demote.content
    assert ProjectMember.objects.get(project=project, user=owner).role == "admin"


def test_staff_create_a_member_from_settings(web, project, owner, staff):
    url = f"/projects/{project.pk}/settings"
    body = {
        "section": "member_add",
        "email": "fresh@example.com",
        "role": "annotator",
        "password": "long-password",
    }
    # A project admin who is not staff creates no account: the invitation waits.
    web(owner).post(url, body)
    assert not ProjectMember.objects.filter(project=project, user__email="fresh@example.com")
    web(staff).post(url, body)
    member = ProjectMember.objects.get(project=project, user__email="fresh@example.com")
    assert member.role == "annotator" and member.user.check_password("long-password")
    assert b'name="password"' not in web(owner).get(url).content


def test_settings_forms_need_csrf(project, owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(f"/projects/{project.pk}/settings", {"section": "general", "title": "x"})
    assert response.status_code == 403


def test_task_list_and_task_page(web, project, task_ids, owner, annotator, reviewer):
    annotation_create(
        task=project.tasks.get(pk=task_ids[0]), user=annotator, result=choice("Positive")
    )
    old_list = web(owner).get(f"/projects/{project.pk}/tasks")
    assert old_list.status_code == 302
    assert old_list["Location"] == f"/projects/{project.pk}/data"
    listing = web(owner).get(old_list["Location"]).content.decode()
    for task_id in task_ids:
        assert f'href="/projects/{project.pk}/tasks/{task_id}"' in listing
    data = editor_data(web(owner).get(f"/projects/{project.pk}/tasks/{task_ids[0]}"))
    assert data["task"]["annotations"][0]["result"] == choice("Positive")
    assert data["readOnly"] is False
    assert (
        editor_data(web(reviewer).get(f"/projects/{project.pk}/tasks/{task_ids[0]}"))["readOnly"]
        is True
    )
    assert web(owner).get(f"/projects/{project.pk}/tasks/999999").status_code == 404


def test_preview_fills_every_data_key(web, owner):
    for template in TEMPLATES:
        response = web(owner).post("/projects/preview", {"label_config": template["config"]})
        data = editor_data(response)
        keys = parse_label_config(template["config"]).data_keys
        assert set(keys) <= set(data["task"]["data"]), template["key"]
    bad = web(owner).post("/projects/preview", {"label_config": "<View><Image name='i'/></View>"})
    assert b"preview-error" in bad.content and b"editor-data" not in bad.content


def test_sample_data_and_audio(web, owner):
    parsed = parse_label_config(BY_KEY["audio-transcription"]["config"])
    # The preview fills the config with the import dialog's samples (one sample_data).
    audio = sample_data(parsed)["audio"]
    assert audio.startswith("/static/importers/samples/") and audio.endswith(".wav")
    preview = web(owner).post(
        "/projects/preview", {"label_config": BY_KEY["audio-transcription"]["config"]}
    )
    assert audio.encode() in preview.content
    wav = web(owner).get("/projects/preview/sample.wav")
    assert wav["Content-Type"] == "audio/wav" and wav.content[:4] == b"RIFF"


def test_reviewer_may_not_label_but_sees_the_task_list(web, project, reviewer, task_ids):
    member_set(project=project, user=reviewer, role=ProjectMember.Role.REVIEWER)
    assert web(reviewer).get(f"/projects/{project.pk}/label").status_code == 403
    assert web(reviewer).get(f"/projects/{project.pk}/tasks")["Location"] == (
        f"/projects/{project.pk}/data"
    )
    assert web(reviewer).get(f"/projects/{project.pk}/data").status_code == 200


def test_label_studio_settings_links_open_the_settings_page(web, project, owner, annotator):
    """Label Studio's ``/projects/{id}/settings/{tab}`` bookmarks land on our settings page,
    with the same access rule (annotators get the 403 page)."""
    for tab in ("labeling", "general", "ml", "danger-zone"):
        page = web(owner).get(f"/projects/{project.pk}/settings/{tab}")
        assert page.status_code == 200 and b"label_config" in page.content
    assert web(annotator).get(f"/projects/{project.pk}/settings/labeling").status_code == 403
