"""Import from the page, in Chromium: creating a project leads into an import step and
then the labeling settings; the file picker takes every type the importer takes; the
Data Manager's "Add more data" adds a sample task in one click; a background import's bar
follows the bytes parsed and the tasks written; a failure says "Import failed" once.
Screenshots go to $LABELHUB_SCREENSHOTS (default /tmp/labelhub-dm-shots)."""

import json
import os
import shutil
from pathlib import Path

import pytest

from frontend.label_templates import BY_KEY
from importers.models import ImportJob
from importers.sources import accepted_extensions, work_dir
from labelhub.jobs import JobLock
from projects.models import Project
from tasks.models import Task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("LABELHUB_SCREENSHOTS", "/tmp/labelhub-dm-shots"))


def shot(browser_page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser_page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def test_create_import_then_settings(page, owner, tmp_path):
    page.login(owner)
    page.open("/projects/new")
    page.fill("#id_title", "Support tickets")
    page.get_by_label("Text classification").check()
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url("**/import?created=1")
    project = Project.objects.get(title="Support tickets")
    assert page.locator(".create-steps li.current").inner_text().endswith("Import data")
    accept = page.get_attribute("[data-import-files]", "accept").split(",")
    assert accept == accepted_extensions()
    for ext in (".json", ".csv", ".zip", ".rar", ".jpg", ".mp3", ".mp4", ".pdf", ".html"):
        assert ext in accept
    label = page.inner_text("label[for=import-files]")
    assert "ZIP" in label and "images" in label and "audio" in label and "video" in label
    assert "POST /api" not in page.content()  # the API banner is gone
    shot(page, "30-create-step-2-import")

    # A file with a key the config does not read; the bar ends full, the next step lights up
    tasks = tmp_path / "tickets.json"
    tasks.write_text(json.dumps([{"text": f"Ticket {i}", "source": "mail"} for i in range(5)]))
    page.set_input_files("[data-import-files]", str(tasks))
    page.click("[data-import-submit]")
    page.wait_for_selector("[data-import-form][data-imported='5']", timeout=15000)
    assert page.get_attribute("[data-import-progress]", "data-value") == "100"
    assert "Imported 5 tasks" in page.inner_text("[data-import-status]")
    assert "primary" in page.get_attribute("[data-next-step]", "class")
    shot(page, "31-create-step-2-imported")
    assert Task.objects.filter(project=project).count() == 5

    page.click("[data-next-step]")
    page.wait_for_url(f"**/projects/{project.pk}/settings?created=1#config")
    assert page.locator(".create-steps li.current").inner_text().endswith("Labeling settings")
    notice = page.inner_text("[data-created-notice]")
    assert "labeling config" in notice and "/import" not in notice
    assert "POST /api" not in page.content()
    shot(page, "32-create-step-3-settings")

    # the Data Manager shows the extra key as a column
    page.open(f"/projects/{project.pk}/data")
    page.wait_for_selector("th[data-col='data.source']")


def test_add_more_data_sample_task_in_one_click(page, owner, make_project):
    project, _ = make_project(BY_KEY["text-classification"]["config"], [{"text": "one"}])
    page.login(owner)
    page.open(f"/projects/{project.pk}/data")
    page.click("[data-button=import]")
    menu = page.locator("[data-add-data-menu] .menu")
    assert menu.get_by_role("link", name="JSON").get_attribute("href").endswith("format=json")
    shot(page, "33-add-more-data-menu")
    with page.expect_navigation():  # reloads once the task is in
        page.click("[data-menu-sample-task]")
    page.wait_for_function("() => document.querySelector('[data-found]')?.dataset.count === '2'")
    # a sample file downloads from the menu
    page.click("[data-button=import]")
    with page.expect_download() as download:
        page.click("[data-add-data-menu] a:has-text('CSV')")
    assert download.value.suggested_filename == f"sample-{project.pk}.csv"


def test_failure_says_import_failed_once(page, owner, make_project):
    project, _ = make_project(BY_KEY["text-classification"]["config"], [{"text": "one"}])
    page.login(owner)
    page.open(f"/projects/{project.pk}/data")
    page.click("[data-button=import]")
    page.click("[data-add-data-menu] [data-open-dialog=import-dialog]")
    page.click("[data-import-tab=paste]")
    page.fill("[data-import-paste]", '[{"wrong": "key"}]')
    page.click("[data-import-submit]")
    page.wait_for_selector("[data-import-status].error")
    text = page.inner_text("[data-import-status]")
    assert text.startswith("Import failed") and text.lower().count("import failed") == 1
    assert "record 0" in text
    shot(page, "34-import-failed-once")


def test_background_import_bar_follows_bytes_and_tasks(
    page, owner, make_project, settings, request
):
    """The worker's progress file moves; the bar and the text follow it, then completion."""
    project, _ = make_project(BY_KEY["text-classification"]["config"], [{"text": "one"}])
    folder = work_dir()
    # This test plays the worker, so it also cleans up the job's folder as the worker
    # would (tests elsewhere check that no import folder is left behind).
    request.addfinalizer(lambda: shutil.rmtree(folder, ignore_errors=True))
    job = ImportJob.objects.create(
        project=project,
        created_by=owner,
        files=[{"path": str(folder / "big.json"), "name": "big.json", "kind": None}],
        work_dir=str(folder),
        options={},
        total_bytes=40 << 20,
        status=ImportJob.Status.RUNNING,
    )
    lock = JobLock("import", job.pk)  # a live worker holds the job
    assert lock.acquire()
    progress = Path(folder) / "progress.json"

    def write(done: int, processed: int) -> None:
        progress.write_text(
            json.dumps({"processed": processed, "bytes_done": done, "bytes_total": 40 << 20})
        )

    write(0, 0)
    page.login(owner)
    page.open(f"/projects/{project.pk}/data")
    # the upload answers with the background job, as a large import does
    page.route(
        f"**/api/projects/{project.pk}/import",
        lambda route: route.fulfill(status=201, json={"import": job.pk}),
    )
    page.click("[data-button=import]")
    page.click("[data-add-data-menu] [data-open-dialog=import-dialog]")
    page.click("[data-import-tab=paste]")
    page.fill("[data-import-paste]", '[{"text": "stands for a big file"}]')
    page.click("[data-import-submit]")
    seen = []
    for done, processed in ((10 << 20, 25_000), (30 << 20, 75_000)):
        write(done, processed)
        page.wait_for_function(
            "(n) => document.querySelector('[data-import-status]')?.textContent.includes(n)",
            arg=f"{processed:,} tasks written",
            timeout=10000,
        )
        seen.append(float(page.get_attribute("[data-import-progress]", "data-value")))
    assert seen == [25, 75]
    assert "read 30 MB of 40 MB" in page.inner_text("[data-import-status]")
    shot(page, "35-background-import-progress")
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.COMPLETED, task_count=100_000, processed=100_000, total=100_000
    )
    lock.release()
    page.wait_for_function(
        "() => document.querySelector('[data-import-status]')?.textContent.includes('Imported 100,000 tasks')",
        timeout=10000,
    )
