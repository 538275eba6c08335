"""Drafts in a real browser (issue #21's done-means): label half a task in the Label
Stream, close the tab, come back: the work is there. The editor saves a draft as the
annotator works (LSF's autosave through ``onSubmitDraft``, and at once when the tab is
hidden or closed) and puts the task's ``drafts`` back on load."""

import os
from pathlib import Path

import pytest

from annotations.models import Annotation, AnnotationDraft
from frontend.label_templates import BY_KEY
from tasks.models import TaskLock
from tests.frontend.conftest import SUBMIT, Page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("LABELHUB_SCREENSHOTS", "/tmp/labelhub-screenshots"))

SELECTED_RESULT = "() => LabelHubEditor.current.ls.annotationStore.selected.serializeAnnotation()"


def _box(page, box, left, top, right, bottom):
    page.drag(
        (box["x"] + box["width"] * left, box["y"] + box["height"] * top),
        (box["x"] + box["width"] * right, box["y"] + box["height"] * bottom),
    )


def test_half_labeled_task_survives_a_closed_tab(page, browser, annotator, make_project, media):
    project, ids = make_project(
        BY_KEY["bbox"]["config"],
        [{"image": media["image"]}, {"image": media["image"]}],
        members=[annotator],
    )
    page.login(annotator)
    page.open_editor(f"/projects/{project.pk}/label")
    assert page.get_attribute("[data-task-id]", "data-task-id") == str(ids[0])
    box = page.image_box()
    page.pick_label("Cat")
    _box(page, box, 0.2, 0.3, 0.5, 0.7)  # one box of the two this image needs
    # LSF's autosave sends the draft 5 s after the last change; the bar says so
    page.get_by_text("Draft saved").wait_for(timeout=15000)
    draft = AnnotationDraft.objects.get()
    assert (draft.user, draft.task_id, draft.annotation_id) == (annotator, ids[0], None)
    assert [r["value"]["rectanglelabels"] for r in draft.result] == [["Cat"]]

    context = page.context
    page.close()  # the tab is gone
    # come back later: the lock has expired too, and the drafted task comes back first
    TaskLock.objects.all().delete()
    again = Page(context.new_page(), page.base)
    again.goto(page.base + f"/projects/{project.pk}/label")
    again.wait_for_selector("body.editor-ready", timeout=15000)
    assert again.get_attribute("[data-task-id]", "data-task-id") == str(ids[0])
    again.get_by_text("unsaved work on this task is back").wait_for(timeout=5000)
    restored = again.evaluate(SELECTED_RESULT)
    assert [r["value"]["rectanglelabels"] for r in restored] == [["Cat"]]
    value = restored[0]["value"]
    assert value["x"] == pytest.approx(20, abs=3) and value["width"] == pytest.approx(30, abs=3)
    SHOTS.mkdir(parents=True, exist_ok=True)
    again.screenshot(path=str(SHOTS / "draft-restored.png"))

    # finish it: the second box, submit; the annotation has both, the draft is gone
    image = again.locator("#editor img").first.bounding_box()
    again.locator(".lsf-label__text").filter(has_text="Dog").first.click()
    mouse = again.mouse
    mouse.move(image["x"] + image["width"] * 0.6, image["y"] + image["height"] * 0.2)
    mouse.down()
    mouse.move(image["x"] + image["width"] * 0.8, image["y"] + image["height"] * 0.5, steps=8)
    mouse.up()
    again.locator(SUBMIT).first.click()
    again.wait_for_function(
        "(old) => document.querySelector('[data-task-id]')?.dataset.taskId !== old",
        arg=str(ids[0]),
        timeout=15000,
    )
    (annotation,) = Annotation.objects.filter(task_id=ids[0])
    labels = sorted(r["value"]["rectanglelabels"][0] for r in annotation.result)
    assert labels == ["Cat", "Dog"]
    assert not AnnotationDraft.objects.filter(task_id=ids[0]).exists()
    assert again.problems == []


def test_draft_is_sent_when_the_tab_closes_before_the_autosave(page, annotator, make_project):
    project, ids = make_project(
        BY_KEY["text-classification"]["config"],
        [{"text": "Close me quickly"}],
        members=[annotator],
    )
    page.login(annotator)
    page.open_editor(f"/projects/{project.pk}/label")
    page.choose("Negative")
    context = page.context
    page.close(run_before_unload=True)  # well within the autosave's 5 s
    again = Page(context.new_page(), page.base)
    for _ in range(50):  # the keepalive request may land a little after the close
        if AnnotationDraft.objects.exists():
            break
        again.wait_for_timeout(100)
    draft = AnnotationDraft.objects.get()
    assert draft.result[0]["value"]["choices"] == ["Negative"]
    again.goto(page.base + f"/projects/{project.pk}/label")
    again.wait_for_selector("body.editor-ready", timeout=15000)
    restored = again.evaluate(SELECTED_RESULT)
    assert [r["value"]["choices"] for r in restored] == [["Negative"]]
    assert again.problems == []
