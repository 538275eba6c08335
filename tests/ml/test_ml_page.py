"""The ML page in Chromium: add a built-in model, press Train, watch the bar reach 100%,
see the version with its metric and the learning curve; and the settings' ML section."""

import os
from pathlib import Path

import pytest

from ml.models import TrainingJob
from projects.models import Project
from tests.frontend.conftest import browser, page  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("LABELHUB_SCREENSHOTS", "/tmp/labelhub-screenshots"))


def test_train_from_the_ml_page(page, owner, project, text_tasks, jobs_inline):  # noqa: F811
    page.login(owner)
    page.open(f"/projects/{project.pk}/ml")
    page.wait_for_selector("[data-models] option", state="attached")
    options = page.locator("[data-models] option")
    assert options.count() == 3
    assert page.locator("[data-models] option[disabled]").count() == 2  # image, ner don't fit
    page.select_option("[data-models]", "text-classifier")
    page.click("[data-add-builtin] button")
    page.wait_for_selector("[data-backend] [data-train]")
    page.wait_for_function(
        "() => document.querySelector('[data-health]')?.textContent.includes('up')"
    )
    page.click("[data-train]")
    page.wait_for_function(
        "() => document.querySelector('[data-status]')?.textContent.startsWith('completed 100%')",
        timeout=60000,
    )
    assert page.locator("[data-bar]").get_attribute("value") in ("1", "1.0")
    page.wait_for_selector("[data-versions] tr", state="attached")
    row = page.locator("[data-versions] tr").first.inner_text()
    assert "v1" in row and "completed" in row and "30" in row and "accuracy" in row
    page.wait_for_selector("[data-curve] svg circle", state="attached")
    assert "text-classifier-v1" in page.locator("[data-version]").first.inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "ml_page.png"), full_page=True)
    assert TrainingJob.objects.get().status == "completed"

    # A second run: two points on the curve.
    page.click("[data-train]")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-curve] svg circle').length === 2", timeout=60000
    )
    page.screenshot(path=str(SHOTS / "ml_page_two_versions.png"), full_page=True)


def test_settings_ml_section(page, owner, project):  # noqa: F811
    page.login(owner)
    page.open(f"/projects/{project.pk}/settings#ml")
    page.fill("#id_min_annotations_to_start_training", "25")
    page.fill("#id_retrain_every", "7")
    page.select_option("#id_al_uncertainty", "entropy")
    page.fill("#id_al_epsilon", "0.2")
    page.locator("#ml button[type=submit]").click()
    page.wait_for_url("**saved=ml**")
    page.locator("#ml").screenshot(path=str(SHOTS / "settings_ml.png"))
    project = Project.objects.get(pk=project.pk)
    assert (project.min_annotations_to_start_training, project.retrain_every) == (25, 7)
    assert (project.al_uncertainty, project.al_epsilon) == ("entropy", 0.2)
    # The sampling section offers active learning.
    page.locator("#sampling input[value='active-learning']").check()
    page.locator("#sampling button[type=submit]").click()
    page.wait_for_url("**saved=sampling**")
    assert Project.objects.get(pk=project.pk).sampling == "active-learning"


def test_active_learning_check_on_the_ml_page(page, owner, project, text_tasks):  # noqa: F811
    """An active-learning project whose comparison says random picks do better: the page
    says so, draws both curves, warns about a metric from few held-out tasks, and
    switches the project to uniform sampling."""
    from django.utils import timezone

    from ml.models import MLBackend

    project.sampling = Project.Sampling.ACTIVE_LEARNING
    project.save(update_fields=["sampling"])
    backend = MLBackend.objects.create(
        project=project, kind="builtin", model="text-classifier", state="CO"
    )
    check = {
        "lane": 120,
        "test": 120,
        "points": [
            {"labels": m, "active": a, "random": r}
            for m, a, r in [(20, 0.55, 0.56), (40, 0.6, 0.66), (60, 0.63, 0.72), (80, 0.66, 0.76)]
        ],
    }
    TrainingJob.objects.create(
        backend=backend,
        project=project,
        status="completed",
        model_version=1,
        annotations_used=30,
        metrics={"accuracy": 1.0, "held_out": 6, "al_check": check},
        finished_at=timezone.now(),
    )
    page.login(owner)
    page.open(f"/projects/{project.pk}/ml")
    page.wait_for_selector("[data-al-verdict][data-state='behind']")
    assert "behind random picks" in page.locator("[data-al-verdict]").inner_text()
    warning = page.locator("[data-versions] [data-metric-warning]").first.inner_text()
    assert "only 6 held-out tasks" in warning
    assert "(6 held out)" in page.locator("[data-versions] [data-metric]").first.inner_text()
    page.wait_for_function(
        "() => { const c = document.getElementById('al-chart'); return c && c.width > 0 && window.Chart && Chart.getChart(c) && Chart.getChart(c).data.datasets.length >= 2; }"
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "ml_page_al_check.png"), full_page=True)
    page.click("[data-al-uniform]")
    page.wait_for_function(
        "() => document.querySelector('[data-al-verdict]')?.textContent.includes('now uniform')"
    )
    assert Project.objects.get(pk=project.pk).sampling == "uniform"
