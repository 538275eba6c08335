"""Issue #26 row 2: deleting a project removes its uploaded media and export snapshots
(``labelhub.media_files``), and leaves other projects' files alone."""

from pathlib import Path

import pytest

from projects.models import Project
from tests.factories import IMAGE_CONFIG, upload

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _files(root: Path, prefix: str) -> list[str]:
    folder = root / prefix
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_delete_removes_the_projects_media(
    api, make_project, settings, django_capture_on_commit_callbacks, jobs_inline
):
    doomed, kept = make_project(IMAGE_CONFIG, "doomed"), make_project(IMAGE_CONFIG, "kept")
    for name in ("a.png", "b.png"):
        assert upload(api, doomed, name, PNG).status_code == 201
    assert upload(api, kept, "c.png", PNG).status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        snapshot = api.post(f"/api/projects/{doomed.pk}/exports/", {}, format="json")
    assert snapshot.status_code in (200, 201), snapshot.content
    root = Path(settings.MEDIA_ROOT)
    assert len(_files(root, f"export/{doomed.pk}")) == 1
    assert len(_files(root, f"upload/{doomed.pk}")) == 2
    served = api.get(api.get(f"/api/projects/{doomed.pk}/tasks/").json()[0]["data"]["image"])
    assert served.status_code in (200, 302)

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/projects/{doomed.pk}/").status_code == 204
    assert not Project.objects.filter(pk=doomed.pk).exists()
    assert _files(root, f"upload/{doomed.pk}") == []
    assert _files(root, f"export/{doomed.pk}") == []
    assert not (root / f"upload/{doomed.pk}").exists()
    assert len(_files(root, f"upload/{kept.pk}")) == 1  # another project's file stays


def test_media_delete_on_s3_batches_by_prefix():
    """On a bucket: one prefix listing and batched deletes, under the storage's location."""
    from labelhub.media_files import project_media_delete

    calls = []

    class Objects:
        def filter(self, Prefix):
            calls.append(Prefix)
            return self

        def delete(self):
            return [{"Deleted": [{"Key": "x"}, {"Key": "y"}]}]

    class Bucket:
        objects = Objects()

    class Storage:
        bucket = Bucket()
        location = "media"

    assert project_media_delete(project_id=7, storage=Storage()) == 4
    assert calls == ["media/upload/7/", "media/export/7/"]
