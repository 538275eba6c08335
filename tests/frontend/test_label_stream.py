"""The Label Stream in a real browser: the done-means test of the Label Stream issue,
plus the stream's own behaviour (shortcuts, pre-annotation, the end of the stream)."""

import pytest

from annotations.models import Annotation
from annotations.services import prediction_create
from frontend.label_templates import BY_KEY
from tests.factories import choice
from tests.frontend.conftest import SUBMIT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_annotator_labels_skips_and_draws_a_box(page, annotator, make_project, media, client_for):
    """Log in as an annotator, label three text tasks by clicking a choice and
    submitting, skip one, draw a box on an image task: the API shows exactly that."""
    text, text_ids = make_project(
        BY_KEY["text-classification"]["config"],
        [{"text": f"Review number {i}: it was fine."} for i in range(4)],
        members=[annotator],
    )
    image, image_ids = make_project(
        BY_KEY["bbox"]["config"], [{"image": media["image"]}], members=[annotator]
    )

    page.login(annotator)
    page.get_by_role("link", name="Label").first.wait_for()
    page.open_editor(f"/projects/{text.pk}/label")
    for value in ("Positive", "Negative", "Neutral"):
        page.choose(value)
        page.submit()
    page.skip()
    assert page.get_by_role("heading", name="No more tasks").is_visible()
    assert page.locator("#editor").is_hidden()  # no editor, no spinner
    assert page.locator("#editor > *").count() == 0

    page.open_editor(f"/projects/{image.pk}/label")
    box = page.image_box()
    page.pick_label("Cat")
    page.drag(
        (box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.3),
        (box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.7),
    )
    page.submit()
    assert page.get_by_role("heading", name="No more tasks").is_visible()

    api = client_for(annotator)
    tasks = {
        t["id"]: t for t in api.get(f"/api/tasks/?project={text.pk}&fields=all").json()["tasks"]
    }
    chosen = [tasks[i]["annotations"][0]["result"][0]["value"]["choices"] for i in text_ids[:3]]
    assert chosen == [["Positive"], ["Negative"], ["Neutral"]]
    for task_id in text_ids[:3]:
        (annotation,) = tasks[task_id]["annotations"]
        assert annotation["was_cancelled"] is False and annotation["completed_by"] == annotator.pk
        assert annotation["lead_time"] > 0
        assert [r["from_name"] for r in annotation["result"]] == ["sentiment"]
    (skipped,) = tasks[text_ids[3]]["annotations"]
    assert skipped["was_cancelled"] is True and skipped["result"] == []

    (drawn,) = api.get(f"/api/tasks/{image_ids[0]}/annotations/").json()
    (region,) = drawn["result"]
    assert region["type"] == "rectanglelabels" and region["value"]["rectanglelabels"] == ["Cat"]
    value = region["value"]
    assert value["x"] == pytest.approx(20, abs=3) and value["y"] == pytest.approx(30, abs=3)
    assert value["width"] == pytest.approx(30, abs=3) and value["height"] == pytest.approx(
        40, abs=3
    )
    assert region["original_width"] == 640 and region["original_height"] == 400
    assert Annotation.objects.filter(completed_by=annotator).count() == 5


def test_shortcuts_and_pre_annotation(page, annotator, make_project):
    project, ids = make_project(
        BY_KEY["text-classification"]["config"],
        [{"text": "First"}, {"text": "Second"}, {"text": "Third"}],
        members=[annotator],
    )
    prediction = prediction_create(
        task=project.tasks.get(pk=ids[0]), result=choice("Neutral"), score=0.9
    )
    page.login(annotator)
    page.open_editor(f"/projects/{project.pk}/label")
    assert (
        page.locator("#editor input[type=checkbox]").nth(2).is_checked()
    )  # copied from the prediction
    page.keyboard.press("Alt+s")  # submit, as it stands
    page.wait_for_next(str(ids[0]))
    page.wait_for_selector("body.editor-ready")
    page.keyboard.press("Alt+k")  # skip
    page.wait_for_next(str(ids[1]))
    page.wait_for_selector("body.editor-ready")
    page.choose("Positive")
    page.keyboard.press("Control+Enter")  # the editor's own shortcut
    page.wait_for_next(str(ids[2]))

    first, second, third = (Annotation.objects.get(task_id=i) for i in ids)
    assert first.parent_prediction_id == prediction.pk
    assert first.result[0]["value"] == {"choices": ["Neutral"]}
    assert second.was_cancelled and second.result == []
    assert third.result[0]["value"] == {"choices": ["Positive"]}
    prediction.refresh_from_db()
    assert prediction.result == choice("Neutral")  # the prediction itself is untouched


def test_stream_without_skip_button(page, annotator, make_project):
    project, _ = make_project(
        BY_KEY["text-classification"]["config"],
        [{"text": "Only"}],
        members=[annotator],
        show_skip_button=False,
    )
    page.login(annotator)
    page.open_editor(f"/projects/{project.pk}/label")
    assert page.locator(SUBMIT).first.is_visible()
    assert page.locator("button[aria-label=skip-task]").count() == 0


def test_create_a_project_from_a_template_with_a_live_preview(page, owner):
    page.login(owner)
    page.get_by_role("link", name="New project").click()
    page.fill("#id_title", "News entities")
    page.get_by_label("Named entity recognition").check()
    preview = page.frame_locator("iframe[name=config-preview]")
    preview.locator(".lsf-label__text", has_text="Person").wait_for(timeout=15000)
    config = page.locator("#id_label_config")
    config.fill(config.input_value().replace('"Person"', '"Human"'))  # the preview follows edits
    preview.locator(".lsf-label__text", has_text="Human").wait_for(timeout=15000)
    config.fill("<View><Text name='t' value='$t'/><Labels name='l' toName='nowhere'/></View>")
    preview.locator(".preview-error").wait_for(timeout=15000)
    config.fill(
        config.input_value()
        .replace("nowhere", "t")
        .replace("/></View>", "><Label value='X'/></Labels></View>")
    )
    preview.locator(".lsf-label__text", has_text="X").wait_for(timeout=15000)
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url("**/import?created=1")  # then the import step
    from projects.models import Project

    project = Project.objects.get(title="News entities")
    assert project.parsed_config["controls"]["l"]["labels"] == ["X"]


def test_task_page_updates_an_annotation_through_the_default_handlers(page, owner, make_project):
    from annotations.services import annotation_create

    project, (task_id,) = make_project(
        BY_KEY["text-classification"]["config"], [{"text": "Fix me"}]
    )
    annotation = annotation_create(
        task=project.tasks.get(pk=task_id), user=owner, result=choice("Negative")
    )
    page.login(owner)
    page.open_editor(f"/projects/{project.pk}/tasks/{task_id}")
    page.choose("Negative")  # untick
    page.choose("Positive")
    with page.expect_response(lambda r: r.request.method == "PATCH") as patched:
        page.locator(SUBMIT).first.click()  # LSF labels it Update for a stored annotation
    assert patched.value.status == 200
    annotation.refresh_from_db()
    assert [r["value"]["choices"] for r in annotation.result] == [["Positive"]]
    assert annotation.lead_time > 0
