"""The quality page in Chromium: charts drawn, table sortable, heat map, links, roles."""

import os
from pathlib import Path

import pytest

from annotations.services import annotation_create, annotation_update
from projects.models import ProjectMember
from projects.services import member_set
from tasks.models import Task
from tests.factories import TEXT_CONFIG, choice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("LABELHUB_SCREENSHOTS", "/tmp/labelhub-screenshots"))


@pytest.fixture
def quality_project(make_project, make_user, annotator, owner):
    second = make_user("second@example.com")
    project, ids = make_project(
        TEXT_CONFIG,
        [{"text": f"t{i}"} for i in range(4)],
        members=[annotator, second],
        maximum_annotations=2,
    )
    tasks = list(Task.objects.filter(pk__in=ids).order_by("pk"))
    answers = {
        annotator: ["Positive", "Positive", "Negative", "Neutral"],
        second: ["Positive", "Negative", "Negative", "Neutral"],
    }
    for user, values in answers.items():
        for task, value in zip(tasks, values, strict=True):
            annotation_create(task=task, user=user, result=choice(value), lead_time=3.0)
    gold = annotation_create(task=tasks[1], user=owner, result=choice("Negative"))
    annotation_update(annotation=gold, ground_truth=True)
    return project, second


def test_quality_page_for_an_admin(page, quality_project, owner, annotator):
    project, second = quality_project
    page.login(owner)
    page.open(f"/projects/{project.pk}/quality")
    page.wait_for_selector("body[data-quality-ready]", timeout=15000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "quality-admin.png"), full_page=True)

    rows = page.locator("#annotator-table tbody tr")
    assert rows.count() == 3  # two annotators and the owner (the ground truth)
    # Agreement: tasks 0, 2, 3 agree (1), task 1: a-b 0, a-gt 0, b-gt 1 -> 1/3.
    assert page.text_content("#q-agreement") == "83.3%"
    assert page.text_content("#q-overlap") == "4"
    # Sorting by email puts annotator@ first, then owner@, then second@.
    page.click("th[data-sort=email]")
    emails = page.locator("#annotator-table tbody tr td:first-child").all_text_contents()
    assert emails == sorted(emails)
    page.click("th[data-sort=email]")
    assert page.locator("#annotator-table tbody tr td:first-child").all_text_contents() == sorted(
        emails, reverse=True
    )
    # The annotator's link opens the Data Manager filtered to their work.
    href = page.get_attribute(f"tr[data-user='{annotator.pk}'] a", "href")
    assert href == f"/projects/{project.pk}/data?f=annotators&op=contains&t=List&v={annotator.pk}"
    # Heat map: a 3x3 table with the pair annotator/second at 75% (3 of 4 tasks agree).
    assert page.locator("#heatmap tr").count() == 4
    assert "75.0%" in page.text_content("#heatmap")
    # Every chart has drawn on its canvas.
    for canvas in ("chart-per-day", "chart-annotators", "chart-histogram", "chart-labels-0"):
        assert page.evaluate(
            "(id) => !!window.Chart.getChart(document.getElementById(id))", canvas
        ), canvas
    assert page.get_attribute("#quality-csv", "href").endswith("/quality/?format=csv")

    page.goto(page.base + href)
    page.wait_for_load_state()
    assert page.locator("[data-select-task]").count() == 4


def test_my_performance_for_an_annotator(page, quality_project, annotator):
    project, second = quality_project
    page.login(annotator)
    page.open(f"/projects/{project.pk}/quality")
    page.wait_for_selector("body[data-quality-ready]", timeout=15000)
    page.screenshot(path=str(SHOTS / "quality-annotator.png"), full_page=True)
    assert page.text_content("h1") == "My performance"
    rows = page.locator("#annotator-table tbody tr")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-user") == str(annotator.pk)
    assert page.locator("#heatmap").count() == 0
    assert page.locator("#annotator-table a").count() == 0  # no Data Manager for annotators


def test_label_stream_shows_rework_and_saves_onto_it(
    page, make_project, owner, annotator, reviewer
):
    from annotations.services import review_set

    project, ids = make_project(
        TEXT_CONFIG, [{"text": "one"}, {"text": "two"}], members=[annotator]
    )
    member_set(project=project, user=reviewer, role=ProjectMember.Role.REVIEWER)
    task = Task.objects.get(pk=ids[0])
    mine = annotation_create(task=task, user=annotator, result=choice("Positive"))
    review_set(annotation=mine, reviewer=reviewer, accepted=False, comment="Read it again")
    page.login(annotator)
    page.open_editor(f"/projects/{project.pk}/label")
    assert page.get_attribute("[data-task-id]", "data-task-id") == str(ids[0])
    assert "Read it again" in page.text_content(".rework-note")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "label-rework.png"))
    page.choose("Negative")
    page.page.keyboard.press("Alt+s")
    page.wait_for_next(str(ids[0]))
    mine.refresh_from_db()
    assert mine.result[0]["value"]["choices"] == ["Negative"]
    assert not mine.reviews.exists()  # the fix cleared the rejection
    assert task.annotations.count() == 1  # saved onto it, not a second annotation
