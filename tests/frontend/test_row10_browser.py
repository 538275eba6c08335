"""Issue #26 row 10, the smaller things, in a real browser (Chromium through playwright):
a choice or a pre-filled prediction cleared in the Label Stream; snapshots converted and
deleted on the export page; the Data Manager's label filter as a pick list; the ML page
offering only models not yet added and a learning curve whose one point shows; the
Settings page's config conflicts in words. Screenshots go to $LABELHUB_SCREENSHOTS."""

import os
from pathlib import Path

import pytest

from annotations.models import Annotation, Prediction
from annotations.services import annotation_create
from projects.models import Project
from tasks.models import Task
from tests.factories import TEXT_CONFIG, choice
from tests.frontend.conftest import SUBMIT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("LABELHUB_SCREENSHOTS", "/tmp/labelhub-screenshots"))
TICKED = (
    "() => Array.from(document.querySelectorAll('#editor input[type=checkbox],"
    " #editor input[type=radio]')).filter(i => i.checked).map(i => i.name)"
)


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def save_response(page, method):
    return page.expect_response(
        lambda r: r.request.method == method and "/annotations/" in r.url and "drafts" not in r.url
    )


def test_stream_clears_a_prefilled_prediction_and_a_choice(page, annotator, make_project):
    project, ids = make_project(
        TEXT_CONFIG,
        [{"text": f"Review {i}"} for i in range(3)],
        members=[annotator],
        show_predictions_to_annotators=True,
    )
    strict, strict_ids = make_project(
        TEXT_CONFIG,
        [{"text": "Strict"}],
        members=[annotator],
        show_predictions_to_annotators=True,
        enable_empty_annotation=False,
    )
    for task_id in [*ids, *strict_ids]:
        Prediction.objects.create(
            task_id=task_id,
            project_id=Project.objects.get(tasks__pk=task_id).pk,
            result=choice("Negative"),
            model_version="m1",
        )
    page.login(annotator)
    page.open_editor(f"/projects/{project.pk}/label")
    page.wait_for_function(TICKED + ".length === 1")
    assert page.evaluate(TICKED) == ["Negative"]  # the wrong pre-filled prediction
    page.click("#stream-clear")
    assert page.evaluate(TICKED) == []
    assert "Submit saves the task without labels" in page.inner_text("#editor-status")
    shot(page, "row10-stream-cleared")
    with save_response(page, "POST") as saved:
        page.locator(SUBMIT).first.click()
    assert saved.value.status == 201
    assert Annotation.objects.get(task_id=ids[0]).result == []

    # a choice of one's own, cleared and changed: the change is stored
    page.wait_for_function(
        "(id) => document.querySelector('[data-task-id]')?.dataset.taskId === id", arg=str(ids[1])
    )
    page.wait_for_function(TICKED + ".length === 1")
    page.click("#stream-clear")
    page.choose("Positive")
    page.submit()
    assert [r["value"]["choices"] for r in Annotation.objects.get(task_id=ids[1]).result] == [
        ["Positive"]
    ]

    # Back reopens it; Clear and Update store it empty
    page.click("#stream-back")
    page.locator(".history-note").wait_for()
    page.wait_for_function(TICKED + ".length === 1")
    page.click("#stream-clear")
    assert "Update saves" in page.inner_text("#editor-status")
    with save_response(page, "PATCH") as patched:
        page.locator(SUBMIT).first.click()
    assert patched.value.status == 200
    page.wait_for_next(str(ids[1]))  # the stream's next task is on screen (no request left)
    assert Annotation.objects.get(task_id=ids[1]).result == []

    # a project that refuses empty annotations says so in words, and stores nothing
    page.open_editor(f"/projects/{strict.pk}/label")
    page.wait_for_function(TICKED + ".length === 1")
    page.click("#stream-clear")
    status = page.inner_text("#editor-status")
    assert "This project does not accept empty annotations" in status
    assert "enable_empty_annotation" not in status
    with save_response(page, "POST") as refused:
        page.locator(SUBMIT).first.click()
    assert refused.value.status == 400
    page.wait_for_function(
        "() => document.getElementById('editor-status').textContent.startsWith('Not saved')"
    )
    text = page.inner_text("#editor-status")
    assert "does not accept empty annotations" in text and "enable_empty" not in text
    shot(page, "row10-stream-empty-refused")
    assert not Annotation.objects.filter(task_id=strict_ids[0]).exists()


def test_export_dialog_converts_and_deletes_snapshots(page, owner, make_project):
    from django.core.files.storage import default_storage

    from exporters.models import ExportSnapshot

    project, ids = make_project(TEXT_CONFIG, [{"text": f"review {i}"} for i in range(3)])
    for task_id in ids:
        Annotation.objects.create(
            task_id=task_id, project=project, completed_by=owner, result=choice("Positive")
        )
    page.login(owner)
    page.open(f"/projects/{project.pk}/data")
    page.click("[data-button=export]")
    page.click("[data-export-snapshot]")
    page.wait_for_selector("[data-snapshot][data-status=completed]")
    snapshot = ExportSnapshot.objects.get()
    row = f"[data-snapshot='{snapshot.pk}']"
    offered = page.locator(f"{row} [data-convert-format] option").all_inner_texts()
    # the formats the API offers for this config, less JSON (the snapshot itself)
    assert "CSV" in offered and "TSV" in offered and "JSON" not in offered
    assert "COCO" not in offered  # disabled for a text config
    page.select_option(f"{row} [data-convert-format]", "TSV")
    page.click(f"[data-convert='{snapshot.pk}']")
    page.wait_for_selector(f"{row} a:has-text('TSV')")
    assert "TSV" not in page.locator(f"{row} [data-convert-format] option").all_inner_texts()
    page.select_option(f"{row} [data-convert-format]", "CSV")
    page.click(f"[data-convert='{snapshot.pk}']")
    page.wait_for_selector(f"{row} a:has-text('CSV')")
    page.get_by_text(f"Snapshot #{snapshot.pk}: CSV is ready to download.").wait_for()
    shot(page, "row10-snapshot-converted")
    files = [snapshot.file, *snapshot.converted_formats.values_list("file", flat=True)]
    assert len(files) == 3 and all(default_storage.exists(name) for name in files)

    # Delete asks in the page first; Cancel keeps it
    page.click(f"[data-delete-snapshot='{snapshot.pk}']")
    dialog = page.locator("[data-lh-dialog]")
    assert "with 2 converted formats" in dialog.inner_text()
    shot(page, "row10-snapshot-delete-confirm")
    dialog.get_by_role("button", name="Cancel").click()
    assert ExportSnapshot.objects.filter(pk=snapshot.pk).exists()
    page.click(f"[data-delete-snapshot='{snapshot.pk}']")
    page.click("[data-lh-dialog-ok]")
    page.get_by_text(f"Snapshot #{snapshot.pk} deleted.").wait_for()
    assert page.locator(row).count() == 0
    assert not ExportSnapshot.objects.filter(pk=snapshot.pk).exists()
    assert not any(default_storage.exists(name) for name in files)


MIXED_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single">
    <Choice value="Positive"/><Choice value="Negative"/>
  </Choices>
  <Taxonomy name="topic" toName="text">
    <Choice value="Animal"><Choice value="Cat"/><Choice value="Dog"/></Choice>
    <Choice value="Plant"/>
  </Taxonomy>
  <Choices name="tags" toName="text" value="$options" choice="multiple"/>
</View>"""


def test_results_filter_picks_the_configs_labels(page, owner, make_project):
    project, ids = make_project(
        MIXED_CONFIG,
        [{"text": f"t{i}", "options": [{"value": "Spam"}, {"value": "Ham"}]} for i in range(3)],
    )
    results = [
        choice("Positive"),
        [
            {**choice("Negative")[0]},
            {
                "id": "t1",
                "from_name": "topic",
                "to_name": "text",
                "type": "taxonomy",
                "value": {"taxonomy": [["Animal", "Cat"]]},
            },
        ],
        [
            {
                "id": "g1",
                "from_name": "tags",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": ["Spam"]},
            }
        ],
    ]
    for task_id, result in zip(ids, results, strict=True):  # the service keeps the label index
        annotation_create(task=Task.objects.get(pk=task_id), user=owner, result=result)
    page.login(owner)
    page.open(f"/projects/{project.pk}/data")
    row = page.locator("[data-filter-row]").last
    row.locator("[data-filter-column]").select_option("annotations_results")
    pick = row.locator("select[data-filter-value]")
    groups = pick.locator("optgroup").evaluate_all("gs => gs.map(g => g.label)")
    assert groups == ["sentiment (Choices)", "topic (Taxonomy)"]
    texts = pick.locator("option").all_inner_texts()
    assert texts == [
        "Positive",
        "Negative",
        "Animal",
        "Animal › Cat",
        "Animal › Dog",
        "Plant",
        "Other text…",
    ]
    pick.select_option("Cat")
    shot(page, "row10-dm-label-pick")
    page.click("[data-apply-filters]")
    page.wait_for_function(
        "() => document.querySelector('[data-found]')?.getAttribute('data-count') === '1'"
    )
    # the applied filter comes back as the picked label
    row = page.locator("[data-filter-row]").first
    assert row.locator("select[data-filter-value]").input_value() == "Cat"

    # labels from the task data ($options): Other text… gives a text box
    row.locator("select[data-filter-value]").select_option(label="Other text…")
    box = row.locator("input[data-filter-value]")
    box.fill("Spam")
    page.click("[data-apply-filters]")
    page.wait_for_function(
        "() => document.querySelector('[data-found]')?.getAttribute('data-count') === '1'"
    )
    row = page.locator("[data-filter-row]").first
    assert row.locator("input[data-filter-value]").input_value() == "Spam"
    shot(page, "row10-dm-label-other")


INSIDE_SVG = """() => {
  const svg = document.querySelector('[data-curve] svg');
  const dot = svg.querySelector('circle[data-point]').getBoundingClientRect();
  const axis = svg.querySelectorAll('line')[0].getBoundingClientRect();  // the x axis
  const box = svg.getBoundingClientRect();
  return {right: dot.right < axis.right - 4, top: dot.top > box.top + 2};
}"""
INSIDE_CHART = """() => {
  const chart = Chart.getChart(document.getElementById('al-chart'));
  const area = chart.chartArea;
  return chart.data.datasets.map((d, i) => chart.getDatasetMeta(i).data.map(p =>
    p.x - 4 > area.left && p.x + 4 < area.right && p.y - 4 > area.top && p.y + 4 < area.bottom
  ).every(Boolean)).every(Boolean);
}"""


def test_ml_page_offers_models_once_and_shows_a_single_point(page, owner, project):
    from django.utils import timezone

    from ml.models import MLBackend, TrainingJob

    project.sampling = Project.Sampling.ACTIVE_LEARNING
    project.save(update_fields=["sampling"])
    page.login(owner)
    page.open(f"/projects/{project.pk}/ml")
    page.wait_for_selector("[data-models] option", state="attached")
    page.select_option("[data-models]", "text-classifier")
    page.click("[data-add-builtin] button")
    page.wait_for_selector("[data-backend] [data-train]")
    added = page.locator("[data-models] option[value=text-classifier]")
    assert added.is_disabled() and added.inner_text().endswith("— added")
    # nothing else fits a text classification config: nothing left to add
    assert page.locator("[data-add-builtin] button").is_disabled()

    # one completed training (accuracy 1.0, the top of the scale) and one comparison point
    backend = MLBackend.objects.get(project=project)
    TrainingJob.objects.create(
        backend=backend,
        project=project,
        status="completed",
        model_version=1,
        annotations_used=30,
        metrics={
            "accuracy": 1.0,
            "held_out": 40,
            "al_check": {
                "lane": 40,
                "test": 40,
                "points": [{"labels": 30, "active": 1.0, "random": 0.9}],
            },
        },
        finished_at=timezone.now(),
    )
    page.reload()
    page.wait_for_selector("[data-curve] svg circle[data-point]", state="attached")
    assert page.evaluate(INSIDE_SVG) == {"right": True, "top": True}
    assert page.text_content("[data-curve] [data-x-max]") == "30"
    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.getElementById('al-chart'))"
    )
    assert page.evaluate(INSIDE_CHART)
    shot(page, "row10-ml-single-point")
    # the reloaded page still knows the model is added
    assert page.locator("[data-models] option[value=text-classifier]").is_disabled()
