"""The Data Manager's export dialog in Chromium, with a filter applied: the download and
a snapshot hold only the filtered tasks, and earlier snapshots are listed with a
progress bar for one being built. Screenshots go to $LABELHUB_SCREENSHOTS (default
/tmp/labelhub-export-shots)."""

import os
from pathlib import Path

import orjson
import pytest

from annotations.services import annotation_create
from exporters.models import ExportSnapshot
from importers.services import tasks_import
from labelhub.jobs import JobLock
from projects.services import project_create
from tasks.models import Task
from tests.factories import TEXT_CONFIG, choice
from tests.frontend.conftest import browser, page  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("LABELHUB_SCREENSHOTS", "/tmp/labelhub-export-shots"))


@pytest.fixture
def jobs_inline():
    from labelhub.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


def test_export_dialog_follows_the_filter(page, owner, jobs_inline, tmp_path):  # noqa: F811
    project = project_create(user=owner, title="Reviews", label_config=TEXT_CONFIG)
    ids = tasks_import(
        project=project, records=[{"text": f"review {i}"} for i in range(8)], user=owner
    ).task_ids
    tasks = {t.pk: t for t in Task.objects.filter(pk__in=ids)}
    for i, task_id in enumerate(ids[:6]):
        annotation_create(
            task=tasks[task_id], user=owner, result=choice("Positive" if i % 2 == 0 else "Negative")
        )
    # An earlier snapshot still being built (a worker holds it): the list shows its progress.
    running = ExportSnapshot.objects.create(
        project=project,
        created_by=owner,
        title="earlier, running",
        status="in_progress",
        processed=40,
        total=100,
    )
    lock = JobLock("export", running.pk)  # this test plays the live worker holding it
    assert lock.acquire()

    page.login(owner)
    page.open(f"/projects/{project.pk}/data")
    row = page.locator("[data-filter-row]").last
    row.locator("[data-filter-column]").select_option("annotations_results")
    row.locator("[data-filter-operator]").select_option("contains")
    row.locator("[data-filter-value]").select_option("Positive")  # the config's labels
    page.click("[data-apply-filters]")
    page.wait_for_function(
        "() => document.querySelector('[data-found]')?.getAttribute('data-count') === '3'"
    )

    page.click("[data-button=export]")
    assert page.get_attribute("[data-export-scope]", "data-filtered") == "true"
    assert "current filter finds (3)" in page.inner_text("[data-export-scope]")
    assert page.is_disabled("select[name=exportType] option[value=COCO]")
    page.wait_for_selector("[data-snapshot][data-status=in_progress] progress")

    with page.expect_download() as download:
        page.click("[data-export-submit]")
    body = orjson.loads(Path(download.value.path()).read_bytes())
    positive = [ids[0], ids[2], ids[4]]
    assert [t["id"] for t in body] == positive

    page.click("[data-export-snapshot]")
    page.wait_for_selector("[data-snapshot][data-status=completed]")
    snapshot = ExportSnapshot.objects.get(status="completed")
    assert snapshot.counters["task_number"] == 3
    assert snapshot.query["filters"]["items"][0]["value"] == "Positive"
    page.select_option(f"[data-convert-format='{snapshot.pk}']", "CSV")  # the snapshot's own list
    page.click(f"[data-convert='{snapshot.pk}']")
    page.wait_for_selector(f"[data-snapshot='{snapshot.pk}'] a:has-text('CSV')")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "export-dialog-filtered.png"))
    assert page.problems == []
    lock.release()
