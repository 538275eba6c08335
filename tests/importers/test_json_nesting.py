"""Issue #12, finding 1: JSON nested past the limit is refused with a 400 naming the line,
before any parser builds it, on every path that parses JSON: the import in the request,
the background import, JSON Lines, and plain API bodies. Nothing is left behind."""

import io

import pytest

from importers.models import ImportJob
from importers.sources import imports_root
from labelhub.jsonlimits import MAX_DEPTH, NestingCheck, NestingError
from tasks.models import Task
from tests.factories import import_url

pytestmark = pytest.mark.django_db

DEEP = b"[" * 100_000 + b"]" * 100_000  # the attack: 200 KB, depth 100,000


def test_deep_import_body_is_a_400_naming_the_line(api, project):
    body = b'[\n{"text": "fine"},\n{"text": ' + DEEP + b"}\n]"
    response = api.post(import_url(project), body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    error = response.json()["errors"][0]
    assert error["line"] == 3 and "nested deeper than 64" in error["message"]
    assert Task.objects.filter(project=project).count() == 0
    assert list(imports_root().glob("import-*")) == []  # job-N.lock: SQLite job locks


def test_deep_uploaded_json_and_jsonl_files_are_refused(api, project):
    jsonl = b'{"text": "a"}\n{"text": "b"}\n{"text": ' + DEEP + b"}\n"
    response = api.post(
        import_url(project),
        {"file": io.BytesIO(jsonl)},
        format="multipart",
    )
    # the multipart file needs a name with an extension
    response = api.post(
        import_url(project),
        {"file": _named(jsonl, "tasks.jsonl")},
        format="multipart",
    )
    assert response.status_code == 400, response.content[:300]
    error = response.json()["errors"][0]
    assert error["file"] == "tasks.jsonl" and error["line"] == 3
    response = api.post(
        import_url(project), {"file": _named(DEEP, "deep.json")}, format="multipart"
    )
    assert response.status_code == 400 and response.json()["errors"][0]["line"] == 1
    assert Task.objects.filter(project=project).count() == 0


def _named(raw: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, raw, content_type="application/octet-stream")


def test_deep_background_import_fails_naming_the_line(api, project, settings):
    """The background path (a Celery job, run eagerly by the test's worker stand-in)."""
    from labelhub.jobs import job_run

    settings.LABELHUB_ASYNC_IMPORT_BYTES = 1000
    body = (
        b"[\n" + b'{"text": "padding padding padding padding"},\n' * 40 + b'{"t": ' + DEEP + b"}]"
    )
    response = api.post(import_url(project), body, content_type="application/json")
    assert response.status_code == 201, response.content[:300]
    job_id = response.json()["import"]
    job_run(kind="import", job_id=job_id)
    job = ImportJob.objects.get(pk=job_id)
    assert job.status == ImportJob.Status.FAILED
    assert job.errors[0]["line"] == 42 and "nested deeper" in job.errors[0]["message"]
    assert Task.objects.filter(project=project).count() == 0
    assert list(imports_root().glob("import-*")) == []  # job-N.lock: SQLite job locks


@pytest.mark.parametrize(
    "path", ["/api/projects/", "/api/tasks/", "/api/projects/validate/", "/api/dm/views/"]
)
def test_deep_api_bodies_are_a_400_not_a_recursion_error(api, project, path):
    body = b'{"project": %d,\n"data": ' % project.pk + DEEP + b"}"
    response = api.post(path, body, content_type="application/json")
    assert response.status_code == 400, (path, response.status_code, response.content[:200])
    assert "line 2" in response.json()["detail"]


def test_deep_dm_query_parameter_is_a_400(api, project):
    query = "[" * 5000 + "]" * 5000
    response = api.get(f"/api/tasks/?project={project.pk}&query={query}")
    assert response.status_code == 400


def test_nesting_up_to_the_limit_passes_and_strings_do_not_count(api, project):
    nested = {"text": "x", "n": [[[[1]]]]}
    ok = api.post(
        import_url(project),
        [{"data": nested}, {"data": {"text": "[" * 1000 + '\\"{'}}],
        format="json",
    )
    assert ok.status_code == 201, ok.content[:300]


def test_the_scanner_across_chunk_boundaries():
    """Strings, escapes and brackets split at every possible chunk boundary."""
    document = b'[{"a": "[[[[\\\\\\"{{{{", "b": ["]]]", "\\\\"]}]\n' + b"[" * MAX_DEPTH
    document += b"]" * MAX_DEPTH
    for size in range(1, 24):
        check = NestingCheck()
        for start in range(0, len(document), size):
            check.feed(document[start : start + size])
    too_deep = b'["\\"",\n"[",\n' + b"[" * (MAX_DEPTH + 1)
    for size in range(1, 24):
        check = NestingCheck()
        with pytest.raises(NestingError) as caught:
            for start in range(0, len(too_deep), size):
                check.feed(too_deep[start : start + size])
        assert caught.value.line == 3


def test_a_killed_import_leaves_no_files_once_the_next_import_runs(api, project, monkeypatch):
    """A web worker killed mid-import (SIGKILL: no ``finally`` runs) leaves its spooled
    upload; the next import sweeps it, but never a folder a live process still holds."""
    import os
    import signal

    from importers import sources

    monkeypatch.setattr(sources, "work_dirs_sweep", lambda: 0)
    ready_r, ready_w = os.pipe()
    child = os.fork()
    if child == 0:  # the "web worker": spools an upload, then waits to be killed
        folder = sources.work_dir()
        (folder / "0000-body").write_bytes(DEEP)
        os.write(ready_w, str(folder).encode())
        signal.pause()
        os._exit(0)
    folder = sources.Path(os.read(ready_r, 4096).decode())
    monkeypatch.undo()
    old = 10_000
    os.utime(folder, (os.path.getatime(folder) - old, os.path.getmtime(folder) - old))
    assert sources.work_dirs_sweep() == 0 and folder.exists()  # held by a live process
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
    assert folder.exists()  # what the killed request left behind
    response = api.post(import_url(project), [{"text": "next"}], format="json")
    assert response.status_code == 201
    assert not folder.exists()
    assert list(imports_root().glob("import-*")) == []  # job-N.lock: SQLite job locks
