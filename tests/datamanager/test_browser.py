"""The Data Manager, Ground Truth Manager and Verify Stream in Chromium, as an admin and
a reviewer would use them. Screenshots go to $LABELHUB_SCREENSHOTS (default /tmp/labelhub-dm-shots).

Chromium and the playwright fixtures come from tests/frontend/conftest.py (Debian's
/usr/bin/chromium; nothing is downloaded)."""

import os
from pathlib import Path

import pytest

from annotations.models import Annotation, Review
from annotations.services import annotation_create, prediction_create, review_set
from projects.models import ProjectMember
from projects.services import member_set, project_create
from tasks.models import Task
from tests.factories import IMAGE_CONFIG, TEXT_CONFIG, choice
from tests.frontend.conftest import browser, media, media_dir, page  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("LABELHUB_SCREENSHOTS", "/tmp/labelhub-dm-shots"))


def shot(browser_page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser_page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


@pytest.fixture
def labeled(owner, reviewer, annotator, make_user):
    """A text project: 12 tasks; annotator A labels 0-5 (Positive on even ones), B labels
    3-8 (Negative), task 3 also has a prediction; 9-11 are new."""
    from importers.services import tasks_import

    second = make_user("second@example.com")
    project = project_create(user=owner, title="Reviews of things", label_config=TEXT_CONFIG)
    member_set(project=project, user=reviewer, role=ProjectMember.Role.REVIEWER)
    member_set(project=project, user=annotator, role=ProjectMember.Role.ANNOTATOR)
    member_set(project=project, user=second, role=ProjectMember.Role.ANNOTATOR)
    texts = [
        f"Review number {i}: {'great value' if i % 2 == 0 else 'broke after a week'}"
        for i in range(12)
    ]
    ids = tasks_import(project=project, records=[{"text": t} for t in texts], user=owner).task_ids
    tasks = {t.pk: t for t in Task.objects.filter(pk__in=ids)}
    for i in range(6):
        annotation_create(
            task=tasks[ids[i]],
            user=annotator,
            result=choice("Positive" if i % 2 == 0 else "Neutral"),
        )
    for i in range(3, 9):
        annotation_create(task=tasks[ids[i]], user=second, result=choice("Negative"))
    prediction_create(task=tasks[ids[3]], result=choice("Positive"), score=0.8, model_version="v1")
    prediction_create(task=tasks[ids[4]], result=choice("Neutral"), score=0.3, model_version="v1")
    return {"project": project, "ids": ids, "second": second}


def found(browser_page) -> int:
    browser_page.wait_for_function(
        "() => document.querySelector('[data-found]')?.hasAttribute('data-count')"
    )
    return int(browser_page.get_attribute("[data-found]", "data-count"))


def row_ids(browser_page) -> list[int]:
    return [
        int(x)
        for x in browser_page.eval_on_selector_all(
            "[data-dm-table] tbody tr[data-task-id]", "rows => rows.map(r => r.dataset.taskId)"
        )
    ]


def test_admin_walks_the_data_manager(page, owner, annotator, labeled):  # noqa: F811
    project, ids = labeled["project"], labeled["ids"]
    page.login(owner)
    page.open(f"/projects/{project.pk}/data")
    assert found(page) == 12
    shot(page, "01-data-manager-full")

    # Filter: class Positive by annotator A (one completion with both) -> tasks 0, 2, 4
    row = page.locator("[data-filter-row]").last
    row.locator("[data-filter-column]").select_option("annotations_results")
    row.locator("[data-filter-operator]").select_option("contains")
    row.locator("[data-filter-value]").select_option("Positive")  # the config's labels
    page.click("[data-add-filter]")
    row = page.locator("[data-filter-row]").last
    row.locator("[data-filter-column]").select_option("annotators")
    row.locator("[data-filter-value]").select_option(str(annotator.pk))
    # within one annotation, named in the filter bar (the default is Label Studio's
    # task-level meaning)
    page.select_option("[data-filter-within]", "annotation")
    page.click("[data-apply-filters]")
    page.wait_for_load_state("load")
    assert found(page) == 3
    assert sorted(row_ids(page)) == [ids[0], ids[2], ids[4]]
    shot(page, "02-filtered-class-and-annotator")

    # Sort by the annotations column, both ways (the filters stay)
    page.click("th[data-col=total_annotations] a")
    page.wait_for_selector("th[data-col=total_annotations].sorted")
    assert found(page) == 3
    ascending = row_ids(page)
    page.click("th[data-col=total_annotations] a")
    page.wait_for_selector("th[data-col=total_annotations].sorted.desc")
    assert row_ids(page)[0] == ids[4]  # the only one of the three with two annotations
    assert row_ids(page) != ascending

    # Hide and show a column
    page.click("[data-columns-menu] summary")
    page.uncheck("[data-toggle-column=created_at]")
    assert page.locator("td[data-col=created_at]").first.is_hidden()
    page.check("[data-toggle-column=created_at]")
    page.click("[data-columns-menu] summary")

    # Quick view: a list beside the editor preview; arrows step through it
    page.click("[data-mode=quick]")
    page.wait_for_selector("[data-quick-editor][data-loaded-task]", timeout=20000)
    first = int(page.get_attribute("[data-quick-editor]", "data-loaded-task"))
    page.keyboard.press("ArrowDown")
    page.wait_for_function(
        f"() => document.querySelector('[data-quick-editor]')?.dataset.loadedTask !== '{first}'",
        timeout=20000,
    )
    page.wait_for_timeout(400)
    shot(page, "03-quick-view")
    # Ctrl+click opens the editor in a new tab
    with page.context.expect_page() as new_tab:
        page.click(f"[data-quick-task='{first}']", modifiers=["Control"])
    tab = new_tab.value
    tab.wait_for_load_state()
    # the editor page, with the filter and order along for its Previous and Next
    assert f"/projects/{project.pk}/tasks/{first}?" in tab.url and "f=annotators" in tab.url
    tab.close()

    # Back to the full view of everything; the pencil opens every completion and prediction
    page.open(f"/projects/{project.pk}/data?order=tasks:id")
    page.click(f"[data-edit-task='{ids[3]}']")
    page.wait_for_selector("body.editor-ready", timeout=20000)
    stored = page.evaluate(
        "() => [Htx.annotationStore.annotations.filter(a => !a.userGenerate).map(a => Number(a.pk)),"
        " Htx.annotationStore.predictions.map(p => Number(p.pk))]"
    )
    task_annotations = sorted(
        Annotation.objects.filter(task_id=ids[3]).values_list("id", flat=True)
    )
    assert sorted(stored[0]) == task_annotations and len(task_annotations) == 2  # both annotators
    assert len(stored[1]) == 1  # and the prediction
    page.wait_for_timeout(500)
    shot(page, "04-pencil-editor")

    # Delete a task from its row
    page.open(f"/projects/{project.pk}/data?order=tasks:id")
    assert found(page) == 12
    page.click(f"[data-delete-task='{ids[11]}']")
    page.click("dialog[data-lh-dialog] [data-lh-dialog-ok]")  # in-page, not confirm()
    page.wait_for_function(
        "() => document.querySelector('[data-found]')?.dataset.count === '11'", timeout=15000
    )
    assert not Task.objects.filter(pk=ids[11]).exists()
    assert ids[11] not in row_ids(page)

    # Ground Truth Manager from the green star: 20% of the 12 completions, then reset
    with page.expect_navigation():  # a link to the manager's page
        page.click("[data-button=ground-truth]")
    page.wait_for_function(
        "() => document.querySelector('[data-gt-matched]')?.textContent === '12'"
    )
    page.fill("[data-gt-percent]", "20")
    page.click("[data-gt-mark]")
    page.wait_for_selector("[data-gt-status][data-marked]")
    assert page.get_attribute("[data-gt-status]", "data-marked") == "3"  # ceil(12 * 0.2)
    assert Annotation.objects.filter(project=project, ground_truth=True).count() == 3
    page.wait_for_function("() => document.querySelector('[data-gt-total]')?.textContent === '3'")
    shot(page, "05-ground-truth-marked")
    page.click("[data-gt-reset]")
    page.click("dialog[data-lh-dialog] [data-lh-dialog-ok]")
    page.wait_for_selector("[data-gt-status][data-unmarked]")
    assert page.get_attribute("[data-gt-status]", "data-unmarked") == "3"
    assert not Annotation.objects.filter(project=project, ground_truth=True).exists()


def test_admin_bulk_action_and_import_dialog(page, owner, labeled):  # noqa: F811
    project, ids = labeled["project"], labeled["ids"]
    page.login(owner)
    page.open(f"/projects/{project.pk}/data?order=tasks:id")
    found(page)
    page.check(f"[data-select-task='{ids[3]}']")
    page.check(f"[data-select-task='{ids[4]}']")
    page.select_option("[data-action-select]", "delete_tasks_predictions")
    page.click("[data-run-action]")
    dialog = page.locator("dialog[data-lh-dialog]")
    assert "2 selected tasks" in dialog.inner_text()
    with page.expect_navigation():  # the page reloads when the action is done
        dialog.locator("[data-lh-dialog-ok]").click()
    page.wait_for_function(
        "() => document.querySelector('[data-found]')?.hasAttribute('data-count')"
    )
    assert not Task.objects.filter(project=project, total_predictions__gt=0).exists()
    # the result line stays after the reload
    assert "prediction" in page.inner_text("[data-action-result]").lower()

    page.click("[data-button=import]")  # "Add more data"
    shot(page, "06a-add-more-data-menu")
    page.click("[data-add-data-menu] [data-open-dialog=import-dialog]")
    page.click("[data-import-tab=paste]")
    page.fill("[data-import-paste]", '[{"text": "pasted one"}, {"text": "pasted two"}]')
    shot(page, "06-import-dialog")
    page.click("[data-import-submit]")
    page.wait_for_function(
        "() => document.querySelector('[data-found]')?.dataset.count === '14'", timeout=15000
    )
    page.click("[data-button=import]")
    page.click("[data-menu-sample-task]")  # one click from the menu
    page.wait_for_function(
        "() => document.querySelector('[data-found]')?.dataset.count === '15'", timeout=15000
    )
    page.click("[data-button=export]")
    shot(page, "07-export-dialog")
    assert page.is_visible("[data-export-form] select[name=exportType]")


def test_reviewer_walks_the_verify_stream(page, reviewer, owner, labeled):  # noqa: F811
    project, ids = labeled["project"], labeled["ids"]
    # one completion was already reviewed by this reviewer: it is not shown again
    done_before = Annotation.objects.filter(task_id=ids[0]).get()
    review_set(annotation=done_before, reviewer=reviewer, accepted=True)
    page.login(reviewer)
    page.open(f"/projects/{project.pk}/verify")
    page.wait_for_selector("[data-verify-editor][data-loaded-annotation]", timeout=20000)
    page.wait_for_timeout(400)
    shot(page, "08-verify-stream")
    seen, verdicts = [], {}
    for step in range(20):
        if page.is_visible("[data-verify-done]"):
            break
        page.wait_for_selector("[data-verify-editor][data-loaded-annotation]", timeout=20000)
        annotation_id = int(page.get_attribute("[data-verify-info]", "data-annotation-id"))
        assert annotation_id not in seen and annotation_id != done_before.pk
        seen.append(annotation_id)
        accept = step % 3 != 2
        if step == 0:
            page.click("[data-ground-truth]")  # ★ from the Verify Stream
            page.wait_for_selector("[data-ground-truth][aria-pressed=true]")
        page.evaluate(
            "() => document.querySelector('[data-verify-editor]').removeAttribute('data-loaded-annotation')"
        )
        if step % 2:
            page.keyboard.press("1" if accept else "2")
        else:
            page.keyboard.press("ArrowRight" if accept else "ArrowLeft")
        if not accept:
            # a rejection asks for a comment first (issue #26); Ctrl+Enter sends it
            page.wait_for_function("() => document.activeElement.matches('[data-verify-comment]')")
            page.keyboard.type(f"fix #{annotation_id}")
            page.keyboard.press("Control+Enter")
        verdicts[annotation_id] = accept
        page.wait_for_function(
            "() => document.querySelector('[data-verify-editor]')?.hasAttribute('data-loaded-annotation')"
            " || document.querySelector('[data-verify-done]')?.hidden === false",
            timeout=20000,
        )
    assert page.is_visible("[data-verify-done]")
    assert "11 of 12" in page.text_content(
        "[data-verify-count]"
    ) or "12 of 12" in page.text_content("[data-verify-count]")
    shot(page, "09-verify-done")
    assert len(seen) == 11
    stored = dict(
        Review.objects.filter(reviewer=reviewer)
        .exclude(annotation=done_before)
        .values_list("annotation_id", "accepted")
    )
    assert stored == verdicts
    comments = dict(
        Review.objects.filter(reviewer=reviewer, accepted=False).values_list(
            "annotation", "comment"
        )
    )
    assert comments == {pk: f"fix #{pk}" for pk, ok in verdicts.items() if not ok}
    assert Annotation.objects.get(pk=seen[0]).ground_truth

    # The flags show in the Review column of the Data Manager
    page.open(f"/projects/{project.pk}/data?order=tasks:id")
    found(page)
    for task_id in ids[:9]:
        accepted = Review.objects.filter(annotation__task_id=task_id, accepted=True).count()
        rejected = Review.objects.filter(annotation__task_id=task_id, accepted=False).count()
        assert (
            page.get_attribute(f"tr[data-task-id='{task_id}'] td[data-col=reviews]", "data-reviews")
            == f"{accepted}/{rejected}"
        )
    assert page.locator("td[data-col=reviews] .down").count() >= 1
    shot(page, "10-review-column")
    assert page.locator("[data-delete-task]").count() == 0  # reviewers read only


def test_image_tasks_show_as_images(page, owner, media):  # noqa: F811
    from importers.services import tasks_import
    from tests.factories import box

    project = project_create(user=owner, title="Street scenes", label_config=IMAGE_CONFIG)
    ids = tasks_import(
        project=project, records=[{"image": media["image"]} for _ in range(3)], user=owner
    ).task_ids
    annotation_create(task=Task.objects.get(pk=ids[0]), user=owner, result=[box("Cat")])
    page.login(owner)
    page.open(f"/projects/{project.pk}/data")
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.thumb')].every(i => i.complete && i.naturalWidth > 0)"
    )
    assert page.locator("td[data-col='data.image'] img.thumb").count() == 3
    shot(page, "11-image-thumbnails")
