"""In the browser: the settings page lists the work a config edit would orphan before
saving and refuses the save; the editor names annotators; an unknown page is an HTML 404
with a way back. Screenshots go to $LABELHUB_SCREENSHOTS."""

import os
from pathlib import Path

import pytest

from annotations.services import annotation_create
from projects.models import Project
from tests.factories import TEXT_CONFIG, choice

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(os.environ.get("LABELHUB_SCREENSHOTS", "/tmp/labelhub-screenshots"))
RENAMED = TEXT_CONFIG.replace('name="sentiment"', 'name="sentiment2"')


@pytest.fixture
def labeled(make_project, annotator, owner):
    annotator.first_name, annotator.last_name = "Ada", "Lovelace"
    annotator.save()
    project, ids = make_project(
        TEXT_CONFIG, [{"text": f"Text {i}"} for i in range(3)], members=[annotator]
    )
    for task in project.tasks.order_by("id"):
        annotation_create(task=task, user=annotator, result=choice("Positive"))
    return project, ids


def test_settings_page_lists_orphaned_work_and_refuses_the_save(page, owner, labeled):
    project, _ = labeled
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.login(owner)
    page.open(f"/projects/{project.pk}/settings#config")
    page.wait_for_selector("#id_label_config")
    page.fill("#id_label_config", RENAMED)
    orphans = page.locator("#config-orphans")
    orphans.wait_for(state="visible", timeout=10000)
    # In words (the API keeps Label Studio's from_name=... wording for its tavern tests)
    text = orphans.inner_text()
    assert 'Control "sentiment" is not in the new config; 3 annotations use it.' in text
    assert "from_name" not in text
    orphans.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "config-orphans-preview.png"))

    # Put the control back but drop a used label: the list follows the edit.
    page.fill("#id_label_config", TEXT_CONFIG.replace('<Choice value="Positive"/>', ""))
    page.wait_for_function(
        "() => document.querySelector('#config-orphans')?.innerText.includes('The label \"Positive\"')",
        timeout=10000,
    )
    page.click("#config-form button[type=submit]")
    page.wait_for_selector("#config .error")
    error = page.locator("#config .error").inner_text()
    assert "Not saved: the new config has no place for work already done." in error
    assert 'The label "Positive" of control "sentiment" is used in 3 annotations.' in error
    assert "from_name" not in error and "still exist" not in error
    page.locator("#config").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "config-orphans-refused.png"))
    assert Project.objects.get(pk=project.pk).label_config == TEXT_CONFIG

    # A harmless edit clears the list and saves.
    page.fill("#id_label_config", TEXT_CONFIG.replace("Neutral", "Mixed"))
    page.wait_for_function("() => document.querySelector('#config-orphans')?.hidden", timeout=10000)
    page.click("#config-form button[type=submit]")
    page.wait_for_selector("#config .notice")


def test_the_editor_names_the_annotator(page, owner, labeled):
    project, ids = labeled
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.login(owner)
    page.open_editor(f"/projects/{project.pk}/tasks/{ids[0]}")
    page.wait_for_selector("#editor :text('Ada Lovelace')", timeout=10000)
    assert page.locator("#editor").inner_text().count("Ada Lovelace") >= 1
    page.screenshot(path=str(SHOTS / "editor-annotator-name.png"))


def test_unknown_page_is_an_html_404_with_a_way_back(page, owner):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.login(owner)
    page.open("/projects/no-such-page/")
    assert page.locator("h1").inner_text() == "Not found"
    page.screenshot(path=str(SHOTS / "html-404.png"))
    page.click("text=Back to projects")
    page.wait_for_url(page.base + "/projects/")


def test_color_pickers(page, owner, labeled):
    project, _ = labeled
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.login(owner)
    page.open(f"/projects/{project.pk}/settings")
    assert page.get_attribute("#general input[name=color]", "type") == "color"
    page.locator("#general").screenshot(path=str(SHOTS / "settings-color.png"))
    page.open("/projects/new")
    assert page.get_attribute("#create-form input[name=color]", "type") == "color"
    page.screenshot(path=str(SHOTS / "create-color.png"))
