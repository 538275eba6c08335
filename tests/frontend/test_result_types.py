"""Each result type of the Label Studio docs' configs, end to end once: draw or choose
in the browser, submit, and check the stored result. (Text classification and
rectangle labels are in test_label_stream.py.)"""

import pytest

from annotations.models import Annotation
from frontend.label_templates import BY_KEY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def stored(task_id):
    (annotation,) = Annotation.objects.filter(task_id=task_id)
    assert annotation.was_cancelled is False
    return annotation.result


def by_type(result):
    found = {}
    for item in result:
        found.setdefault(item["type"], []).append(item)
    return found


def at(box, fx, fy):
    """A point at a fraction of the image's box."""
    return (box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)


def test_ner_spans(page, annotator, make_project):
    text = "Ada Lovelace met Charles Babbage in London in 1833."
    project, (task_id,) = make_project(
        BY_KEY["ner"]["config"], [{"text": text}], members=[annotator]
    )
    page.login(annotator)
    page.open_editor(f"/projects/{project.pk}/label")
    for label, words in (("Person", "Ada Lovelace"), ("Location", "London")):
        page.pick_label(label)
        page.evaluate(
            """(words) => {
              const box = document.querySelector('.lsf-richtext__container');
              const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
              let node;
              while ((node = walker.nextNode()) && node.textContent.indexOf(words) < 0) {}
              const start = node.textContent.indexOf(words);
              const range = document.createRange();
              range.setStart(node, start);
              range.setEnd(node, start + words.length);
              const selection = window.getSelection();
              selection.removeAllRanges();
              selection.addRange(range);
              const rect = range.getBoundingClientRect();
              const at = {bubbles: true, clientX: rect.right, clientY: rect.bottom - 2};
              range.startContainer.parentElement.dispatchEvent(new MouseEvent('mouseup', at));
            }""",
            words,
        )
        page.wait_for_timeout(200)
    page.submit()
    spans = {item["value"]["text"]: item["value"] for item in by_type(stored(task_id))["labels"]}
    assert spans["Ada Lovelace"]["labels"] == ["Person"]
    assert (spans["Ada Lovelace"]["start"], spans["Ada Lovelace"]["end"]) == (0, 12)
    assert spans["London"]["labels"] == ["Location"]
    assert text[spans["London"]["start"] : spans["London"]["end"]] == "London"


def test_image_classification(page, annotator, make_project, media):
    project, (task_id,) = make_project(
        BY_KEY["image-classification"]["config"], [{"image": media["image"]}], members=[annotator]
    )
    page.login(annotator)
    page.open_editor(f"/projects/{project.pk}/label")
    page.image_box()
    page.choose("Dog")
    page.submit()
    (item,) = stored(task_id)
    assert item["type"] == "choices" and item["value"] == {"choices": ["Dog"]}
    assert (item["from_name"], item["to_name"]) == ("choice", "image")


def test_polygon_ellipse_and_keypoint_without_labels(page, annotator, make_project, media):
    project, (task_id,) = make_project(
        BY_KEY["shapes"]["config"], [{"image": media["image"]}], members=[annotator]
    )
    page.login(annotator)
    page.open_editor(f"/projects/{project.pk}/label")
    box = page.image_box()

    page.click("[aria-label=polygon-tool]")
    corners = [at(box, 0.1, 0.1), at(box, 0.3, 0.1), at(box, 0.2, 0.35)]
    for point in [*corners, corners[0]]:  # clicking the first point again closes it
        page.mouse.click(*point)
        page.wait_for_timeout(150)
    page.click("[aria-label=ellipse-tool]")
    page.drag(at(box, 0.5, 0.5), at(box, 0.7, 0.7))
    page.click("[aria-label=key-point-tool]")
    page.mouse.click(*at(box, 0.85, 0.2))
    page.wait_for_timeout(200)
    page.submit()

    result = by_type(stored(task_id))
    (polygon,) = result["polygon"]
    assert len(polygon["value"]["points"]) == 3
    assert polygon["value"]["points"][0] == pytest.approx([10, 10], abs=2)
    assert polygon["value"].get("closed", True) is not False
    (ellipse,) = result["ellipse"]
    assert ellipse["value"]["x"] == pytest.approx(50, abs=2) and ellipse["value"]["radiusX"] > 5
    (keypoint,) = result["keypoint"]
    assert keypoint["value"]["x"] == pytest.approx(85, abs=2) and keypoint["value"][
        "y"
    ] == pytest.approx(20, abs=2)
    assert {item["from_name"] for items in result.values() for item in items} == {
        "polygon",
        "ellipse",
        "keypoint",
    }


def test_ocr_box_with_a_per_region_transcription(page, annotator, make_project, media):
    project, (task_id,) = make_project(
        BY_KEY["ocr"]["config"], [{"image": media["image"]}], members=[annotator]
    )
    page.login(annotator)
    page.open_editor(f"/projects/{project.pk}/label")
    box = page.image_box()
    page.click("[aria-label=rectangle-tool]")
    page.pick_label("Text")
    page.drag(at(box, 0.1, 0.2), at(box, 0.4, 0.4))
    field = page.locator("#editor textarea[placeholder='Recognized text']")
    field.fill("HELLO 42")
    field.press("Enter")
    page.wait_for_timeout(200)
    page.submit()

    result = by_type(stored(task_id))
    (rectangle,) = result["rectangle"]
    (label,) = result["labels"]
    (text,) = result["textarea"]
    assert rectangle["id"] == label["id"] == text["id"]  # one region, three results
    assert label["value"]["labels"] == ["Text"]
    assert text["value"]["text"] == ["HELLO 42"]
    assert text["value"]["x"] == pytest.approx(10, abs=2) and text["value"][
        "width"
    ] == pytest.approx(30, abs=2)


def test_audio_transcription(page, annotator, make_project, media):
    project, (task_id,) = make_project(
        BY_KEY["audio-transcription"]["config"], [{"audio": media["audio"]}], members=[annotator]
    )
    page.login(annotator)
    page.open_editor(f"/projects/{project.pk}/label")
    page.wait_for_selector("#editor wave, #editor canvas", timeout=15000)  # the waveform drew
    page.locator("#editor textarea").first.fill("a short tone")  # rows=3: Enter is a new line
    page.wait_for_timeout(200)
    page.submit()
    (item,) = stored(task_id)
    assert item["type"] == "textarea" and item["value"] == {"text": ["a short tone"]}
    assert (item["from_name"], item["to_name"]) == ("transcription", "audio")
