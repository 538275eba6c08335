"""The one-page Label Stream in a real browser: several tasks without a page load, the
annotator's Back / My annotations / update / delete, a refused save shown in the page,
and predictions marked as predictions. Screenshots go to $LABELHUB_SCREENSHOTS (or the
test's tmp dir)."""

import json
import os
from pathlib import Path

import pytest

from annotations.models import Annotation
from annotations.services import annotation_create, prediction_create
from frontend.label_templates import BY_KEY
from tests.factories import choice
from tests.frontend.conftest import SUBMIT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MARK = "window.__streamMarker"


@pytest.fixture
def shots(tmp_path):
    root = Path(os.environ.get("LABELHUB_SCREENSHOTS") or tmp_path)
    root.mkdir(parents=True, exist_ok=True)
    return lambda page, name: page.screenshot(path=str(root / f"{name}.png"))


def text_project(make_project, annotator, n, **fields):
    return make_project(
        BY_KEY["text-classification"]["config"],
        [{"text": f"Review number {i}: it was fine."} for i in range(n)],
        members=[annotator],
        **fields,
    )


def test_several_tasks_without_a_page_load(page, annotator, make_project, shots):
    project, ids = text_project(make_project, annotator, 4)
    page.login(annotator)
    page.open_editor(f"/projects/{project.pk}/label")
    page.evaluate(f"{MARK} = 'still here'")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    for value in ("Positive", "Negative", "Neutral"):
        page.choose(value)
        page.submit()
        assert page.locator("#editor .lsf-richtext__container").is_visible()
    shots(page, "stream-fourth-task")
    assert page.get_attribute("[data-task-id]", "data-task-id") == str(ids[3])
    shown = page.locator("#editor .lsf-richtext__container")
    assert shown.inner_text() == "Review number 3: it was fine."
    page.skip()
    assert page.get_by_role("heading", name="No more tasks").is_visible()
    assert page.locator("#editor").is_hidden()
    shots(page, "stream-done")
    assert page.evaluate(MARK) == "still here"  # the page was never loaded again
    assert navigations == []
    chosen = {
        a.task_id: (a.was_cancelled, [r["value"]["choices"] for r in a.result])
        for a in Annotation.objects.filter(completed_by=annotator)
    }
    assert chosen == {
        ids[0]: (False, [["Positive"]]),
        ids[1]: (False, [["Negative"]]),
        ids[2]: (False, [["Neutral"]]),
        ids[3]: (True, []),
    }


def test_back_history_update_and_delete(
    page, annotator, owner, make_project, make_user, client_for, shots
):
    project, ids = text_project(make_project, annotator, 4)
    other = annotation_create(
        task=project.tasks.get(pk=ids[3]), user=owner, result=choice("Positive")
    )
    page.login(annotator)
    page.open_editor(f"/projects/{project.pk}/label")
    page.evaluate(f"{MARK} = 1")
    page.choose("Positive")
    page.submit()
    page.choose("Negative")
    page.submit()
    third = page.get_attribute("[data-task-id]", "data-task-id")

    # Back: the newest of their annotations, in the editor, with Update.
    page.click("#stream-back")
    page.wait_for_function(
        "(id) => document.querySelector('[data-task-id]')?.dataset.taskId === id", arg=str(ids[1])
    )
    page.locator(".history-note").wait_for()
    page.ticked("Negative")
    # Back again: the one before.
    page.click("#stream-back")
    page.wait_for_function(
        "(id) => document.querySelector('[data-task-id]')?.dataset.taskId === id", arg=str(ids[0])
    )
    page.ticked("Positive")

    # My annotations: theirs only, newest first; reopen the newest and update it.
    page.click("#stream-history")
    page.locator(".history-item").first.wait_for()
    items = page.locator(".history-item")
    assert items.count() == 2
    assert items.nth(0).get_attribute("data-annotation-id") == str(
        Annotation.objects.get(task_id=ids[1], completed_by=annotator).pk
    )
    items.nth(0).click()
    page.wait_for_function(
        "(id) => document.querySelector('[data-task-id]')?.dataset.taskId === id", arg=str(ids[1])
    )
    shots(page, "stream-history-open")
    page.choose("Negative")  # untick
    page.choose("Neutral")
    with page.expect_response(lambda r: r.request.method == "PATCH") as patched:
        page.locator(SUBMIT).first.click()  # LSF's Update
    assert patched.value.status == 200
    # After an update the stream goes on with the task they were given.
    page.wait_for_function(
        "(id) => document.querySelector('[data-task-id]')?.dataset.taskId === id", arg=third
    )
    updated = Annotation.objects.get(task_id=ids[1], completed_by=annotator)
    assert [r["value"]["choices"] for r in updated.result] == [["Neutral"]]
    assert Annotation.objects.filter(completed_by=annotator).count() == 2

    # Delete the first one from the history.
    first = Annotation.objects.get(task_id=ids[0], completed_by=annotator)
    page.locator(f".history-item[data-annotation-id='{first.pk}']").click()
    page.locator("#stream-delete").wait_for()
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_response(lambda r: r.request.method == "DELETE") as deleted:
        page.click("#stream-delete")
    assert deleted.value.status == 204
    page.wait_for_function(
        "() => document.querySelectorAll('.history-item').length === 1"
        " && document.querySelector('#stream-delete')?.hidden"
    )
    shots(page, "stream-history-after-delete")
    assert not Annotation.objects.filter(pk=first.pk).exists()
    assert page.evaluate(MARK) == 1

    # Still no one else's work, and no Data Manager.
    api = client_for(annotator)
    assert api.get(f"/api/annotations/{other.pk}/").status_code == 404
    assert (
        api.patch(f"/api/annotations/{other.pk}/", {"result": []}, format="json").status_code == 404
    )
    assert api.delete(f"/api/annotations/{other.pk}/").status_code == 404
    mine = api.get(f"/api/projects/{project.pk}/my-annotations/").json()["results"]
    assert [row["task"] for row in mine] == [ids[1]]
    page.open(f"/projects/{project.pk}/data")
    assert page.locator("#editor").count() == 0 and "Data Manager" not in page.title()


def test_a_refused_save_is_shown_and_kept(page, annotator, make_project, shots):
    project, ids = text_project(make_project, annotator, 2)
    page.login(annotator)
    page.open_editor(f"/projects/{project.pk}/label")
    refusal = {
        "detail": "Empty annotations are not allowed in this project",
        "errors": [{"field": "result", "message": "choose at least one label"}],
    }

    def refuse(route):
        if route.request.method == "POST":
            route.fulfill(status=400, content_type="application/json", body=json.dumps(refusal))
        else:
            route.continue_()

    def annotations_url(url):
        return "/annotations/" in url

    page.route(annotations_url, refuse)
    page.choose("Positive")
    page.locator(SUBMIT).first.click()
    page.locator("#editor-status.error").wait_for()
    text = page.locator("#editor-status").inner_text()
    assert "Empty annotations are not allowed" in text and "choose at least one label" in text
    shots(page, "stream-refused")
    assert page.get_attribute("[data-task-id]", "data-task-id") == str(ids[0])
    assert page.locator("#editor input[name=Positive]").is_checked()  # kept
    assert page.locator(SUBMIT).first.inner_text() == "Submit"  # not "Update"
    page.unroute(annotations_url)
    page.wait_for_function("() => !LabelHubEditor.current.ls.isSubmitting")
    page.submit()
    assert Annotation.objects.get(task_id=ids[0]).result[0]["value"] == {"choices": ["Positive"]}


def test_predictions_are_marked_and_model_version_chooses(page, annotator, make_project, shots):
    project, ids = text_project(make_project, annotator, 2, model_version="v2")
    for task_id in ids:
        task = project.tasks.get(pk=task_id)
        prediction_create(task=task, result=choice("Negative"), score=0.95, model_version="v1")
        prediction_create(task=task, result=choice("Neutral"), score=0.62, model_version="v2")
    page.login(annotator)
    page.open_editor(f"/projects/{project.pk}/label")
    note = page.locator(".prediction-note")
    assert "model v2" in note.inner_text() and "score 0.62" in note.inner_text()
    # in the editor's side panel (where it lists regions), not only somewhere on the page
    in_panel = page.evaluate("LabelHubEditor.SIDE_PANEL") + " > .prediction-note"
    page.wait_for_selector(in_panel)
    page.ticked("Neutral")
    shots(page, "stream-prediction")
    page.submit()
    assert "model v2" in page.locator(".prediction-note").inner_text()
    page.wait_for_selector(in_panel)  # next task too
    page.ticked("Neutral")  # the next task too
    assert Annotation.objects.get(task_id=ids[0]).parent_prediction.model_version == "v2"


def test_label_tasks_as_displayed(page, owner, annotator, make_project, client_for, shots):
    """From the Data Manager, filtered (text contains "odd") and ordered by id
    descending: the button labels exactly those tasks, in that order, on one page."""
    project, ids = make_project(
        BY_KEY["text-classification"]["config"],
        [{"text": f"Review {i} {'odd' if i % 2 else 'even'}"} for i in range(6)],
        members=[annotator],
    )
    page.login(owner)
    page.open(f"/projects/{project.pk}/data?f=data.text&op=contains&t=String&v=odd&order=-tasks:id")
    page.get_by_role("link", name="Label tasks as displayed").click()
    page.wait_for_selector("body.editor-ready", timeout=15000)
    page.evaluate(f"{MARK} = 'dm'")
    shots(page, "stream-as-displayed")
    assert page.locator(".displayed-note").is_visible()
    seen = []
    for _ in range(3):
        seen.append(int(page.get_attribute("[data-task-id]", "data-task-id")))
        page.choose("Positive")
        page.submit()
    assert page.get_by_role("heading", name="No more tasks").is_visible()
    assert seen == [ids[5], ids[3], ids[1]]
    assert page.evaluate(MARK) == "dm"
    assert set(Annotation.objects.filter(completed_by=owner).values_list("task_id", flat=True)) == {
        ids[1],
        ids[3],
        ids[5],
    }
    # The plain stream still offers the rest; annotators may not use the DM's stream.
    api = client_for(annotator)
    query = json.dumps({"filters": {"conjunction": "and", "items": []}})
    assert api.get(f"/api/dm/next/?project={project.pk}&query={query}").status_code == 403
    assert api.get(f"/api/projects/{project.pk}/next/").json()["id"] == ids[0]


def test_benchmark_feedback_then_the_next_task(page, annotator, make_project, shots):
    """After a benchmark task the answer carries ``benchmark_score`` (Benchmark QA
    feedback): the page shows the next task at once with the score over it, still
    without a load. The
    score is added to the real answer here; tests/annotations covers the server side."""
    project, ids = text_project(make_project, annotator, 2)
    page.login(annotator)
    page.open_editor(f"/projects/{project.pk}/label")
    page.evaluate(f"{MARK} = 'bench'")

    def with_score(route):
        response = route.fetch()
        body = response.json()
        body["benchmark_score"] = 0.75
        route.fulfill(response=response, body=json.dumps(body))

    page.route(lambda url: "/annotations/" in url, with_score)
    page.choose("Positive")
    page.locator(SUBMIT).first.click()
    # the next task at once, with the score in a note over it (no pause, issue #26)
    page.wait_for_next(str(ids[0]))
    assert page.get_attribute("[data-task-id]", "data-task-id") == str(ids[1])
    note = page.locator(".benchmark-note")
    note.wait_for()
    assert "your score 75%" in note.inner_text() and "good" in note.get_attribute("class")
    shots(page, "stream-benchmark-feedback")
    assert page.evaluate(MARK) == "bench"
