"""Where trained model files live and with which mode, as the README says (issue #24
row 16: it said no model files are kept on disk)."""

import pathlib
import stat

import pytest

from ml.models import TrainingJob

pytestmark = pytest.mark.django_db

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def test_trained_model_files_are_where_the_readme_says(
    api, project, text_tasks, jobs_inline, django_capture_on_commit_callbacks, settings
):
    backend = api.post(
        "/api/ml/",
        {"project": project.pk, "kind": "builtin", "model": "text-classifier", "url": None},
        format="json",
    ).json()
    with django_capture_on_commit_callbacks(execute=True):
        job_id = api.post(f"/api/ml/{backend['id']}/train").json()["job"]
    job = TrainingJob.objects.get(pk=job_id)
    assert job.status == "completed", job.error
    path = pathlib.Path(settings.MEDIA_ROOT) / job.model_file
    prefix = f"ml/project-{project.pk}/backend-{backend['id']}/v1-"
    assert job.model_file.startswith(prefix) and job.model_file.endswith(".joblib")
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    readme = README.read_text()
    assert "keeps no ML model files on disk" not in readme
    assert "media/ml/project-<id>/backend-<id>/v<n>-<random>.joblib" in readme
    assert "0600" in readme
