"""What a server process loads before its first job: no heavy library at start.

scikit-learn, SciPy, shapely, OpenCV, nltk and the storage clients cost seconds of import
and tens of MB in every process; they load where they are used (the worker's training and
prediction jobs, the agreement metrics, one export format, one storage kind). This runs
what ``labelhub start``'s launcher loads before it forks (``django.setup()``, the WSGI app,
the Celery task modules) plus one request, in a fresh interpreter, and names what leaked.
"""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.embedded  # run once, in the SQLite half of make test

HEAVY = (
    "numpy",
    "sklearn",
    "scipy",
    "skimage",
    "shapely",
    "pandas",
    "cv2",
    "nltk",
    "matplotlib",
    "boto3",
    "google.cloud.storage",
    "azure.storage.blob",
)

PROBE = f"""
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
import django
django.setup()
import labelhub.wsgi

from labelhub.celery import app
app.loader.import_default_modules()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.test import Client
assert Client().get("/health/").status_code == 200
print("LOADED:" + ",".join(m for m in {HEAVY!r} if m in sys.modules))
"""


def test_start_loads_no_heavy_library(tmp_path):
    out = _probe(PROBE, tmp_path)
    assert "LOADED:\n" in out, f"loaded at start: {out}"


# What django.setup() alone may load of LabelHub: the apps' packages, AppConfigs and
# models, and these few modules the models and the settings import. The apps'
# registrations (job kinds, subscribers, columns, actions, steps) run at first use
# (labelhub.registrations), so their modules (services, jobs, APIs) stay out.
SETUP_MODULES = {
    "labelhub",
    "labelhub.events",
    "labelhub.jobmodel",
    "labelhub.params",
    "labelhub.registrations",
    "labelhub.settings",
    "labelhub.sqlite_regex",
    "webhooks.actions",
}
# The first-party apps: the installed apps that are folders of the repository.
APPS = tuple(app for app in settings.INSTALLED_APPS if (ROOT / app).is_dir())
# Loaded by the first request or job, not by django.setup(): Celery and kombu (0.1 s),
# DRF's views and fields (with requests, PyYAML, Pygments, Jinja2 and django.test:
# 0.2 s), Pillow, lxml, the regex engine, the archive readers.
SETUP_HEAVY = (
    *HEAVY,
    "celery",
    "kombu",
    "rest_framework.views",
    "rest_framework.fields",
    "requests",
    "yaml",
    "jinja2",
    "django.test",
    "PIL",
    "lxml",
    "regex",
    "rarfile",
    "cryptography",
    "ijson",
)

SETUP_PROBE = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
import django
django.setup()
print("MODULES:" + ",".join(sorted(sys.modules)))
"""


def _run(code: str, tmp_path, *argv: str, **env_vars) -> subprocess.CompletedProcess:
    """``code`` in a fresh interpreter on the embedded default, its data in ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABELHUB_")}
    env.update({"DATABASE_URL": "", "REDIS_URL": "", "LABELHUB_DATA_DIR": str(tmp_path)})
    env.update(env_vars)
    return subprocess.run(
        [sys.executable, "-c", code, *argv], env=env, capture_output=True, text=True, timeout=300
    )


def _probe(code: str, tmp_path, *argv: str, **env_vars) -> str:
    out = _run(code, tmp_path, *argv, **env_vars)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_setup_loads_models_only(tmp_path, database):
    """``django.setup()`` (every management command, test run and script) loads the
    models and nothing behind the apps' registrations (bench/README.md: 0.7-0.9 s
    before, now Django's own floor plus the models)."""
    url = "postgres://nobody@127.0.0.1:1/none" if database == "postgres" else ""
    stdout = _probe(SETUP_PROBE, tmp_path, DATABASE_URL=url)
    loaded = set(stdout.split("MODULES:", 1)[1].strip().split(","))
    heavy = sorted(m for m in SETUP_HEAVY if m in loaded)
    assert not heavy, f"django.setup() loaded {heavy}"
    ours = {
        m for m in loaded if m.split(".")[0] in APPS or m == "labelhub" or m.startswith("labelhub.")
    }
    allowed = SETUP_MODULES | set(APPS) | {f"{a}.{m}" for a in APPS for m in ("apps", "models")}
    assert ours <= allowed, f"django.setup() loaded {sorted(ours - allowed)}"


# Each registry, read first thing after a bare django.setup(), finds what the apps
# registered: it runs the deferred registrations itself.
REGISTRY_READS = {
    "job kinds": (
        "from labelhub import jobs; from importers.models import ImportJob;"
        "assert jobs.kind_of(ImportJob()).name == 'import'"
    ),
    "migration steps": (
        "from labelhub import migration_steps;"
        "names = {s.name for s in migration_steps.steps()};"
        "assert {'drafts', 'labels', 'ml_backends', 'webhooks', 'storages'} <= names, names"
    ),
    "shared kinds": (
        "from labelhub import migration_steps; assert migration_steps.shared_kinds() == {'label'}"
    ),
    "samplers": (
        "from annotations.sampling import sampler_for; from projects.models import Project;"
        "assert sampler_for(Project(sampling='active-learning')).__module__ == 'ml.sampling'"
    ),
    "Data Manager columns": (
        "from datamanager.selectors import parse_query;"
        "parse_query({'filters': {'conjunction': 'and', 'items': [{'filter':"
        " 'filter:tasks:storage_filename', 'operator': 'contains', 'type': 'String',"
        " 'value': 'a'}]}})"
    ),
    "Data Manager actions (request handler)": (
        "from django.test import Client; Client().get('/health/');"
        "from datamanager.actions import ACTIONS; assert 'retrieve_tasks_predictions' in ACTIONS"
    ),
    "event subscribers": (
        "from labelhub import events; events.publish(events.TASKS_DELETED, project_id=1, ids=[1]);"
        "from webhooks.services import event_published; assert event_published in events._handlers"
    ),
    "annotation subscribers": (
        "from annotations import events; events.announce('ANNOTATION_DELETED', project_id=0,"
        " annotation_id=0, task_id=0); assert len(events._handlers) == 2, events._handlers"
    ),
    "the Celery app": (
        "from labelhub import registrations; registrations.load();"
        "from celery import current_app; assert current_app.main == 'labelhub', current_app"
    ),
}


@pytest.mark.parametrize("read", list(REGISTRY_READS))
def test_registry_loads_the_registrations(tmp_path, read):
    code = (
        "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'labelhub.settings');"
        "import django; django.setup();"
        "from django.core.management import call_command; call_command('migrate', verbosity=0);"
        f"{REGISTRY_READS[read]}; print('OK')"
    )
    assert "OK" in _probe(code, tmp_path)


# The launcher migrates in a child (labelhub.cli._prepared): what migrate imports and
# renders (every migration, the models' states) must not be in the process that the web
# server and the workers are forked from.
PREPARE_PROBE = """
import argparse, multiprocessing, sys
from labelhub import cli
args = argparse.Namespace(data_dir=sys.argv[1], username="boss@example.com",
                          password=None, user_token=None, host="127.0.0.1", port=8080)
try:
    info = cli._prepared(multiprocessing.get_context("fork"), args)
except SystemExit as exc:
    print("EXIT:", exc.code)
    raise
print("INFO:", info["data_dir"])
print("DJANGO:", "django.apps" in sys.modules)
print("MIGRATIONS:" + ",".join(m for m in sys.modules if ".migrations" in m or m.endswith("migrate")))
"""


def test_start_migrates_in_a_child_the_launcher_forks_without_it(tmp_path):
    data = tmp_path / "data"
    out = _probe(PREPARE_PROBE, tmp_path, str(data))
    assert f"INFO: {data}" in out
    assert "Admin: boss@example.com / password" in out  # the child's own output
    assert "DJANGO: False" in out and "MIGRATIONS:\n" in out, out
    assert (data / "admin_password").exists()
    tables = sqlite3.connect(data / "labelhub.sqlite3").execute(
        "SELECT count(*) FROM django_migrations"
    )
    assert tables.fetchone()[0] > 20


def test_a_failed_prepare_stops_the_launcher_with_the_reason(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    out = _run(PREPARE_PROBE, tmp_path, str(blocker))
    assert out.returncode != 0 and "EXIT: 1" in out.stdout
    assert f"the data directory {blocker} (LABELHUB_DATA_DIR, --data-dir) cannot be made" in (
        out.stderr
    )
    assert "Traceback" not in out.stderr


def test_worker_recycles_no_pool_process_beside_the_autoscaler(monkeypatch):
    """With --max-memory-per-child beside --autoscale, a 1M import received after the
    first one's pool process was replaced was never run (bench/README.md): keep them apart."""
    import threading

    from labelhub import cli
    from labelhub.celery import app

    argv = []
    monkeypatch.setattr(app, "worker_main", argv.extend)
    monkeypatch.setattr(cli, "_name_process", lambda name: None)
    cli._serve_worker("labelhub-worker", threading.Event())
    assert "--autoscale=2,0" in argv
    assert not [
        a for a in argv if a.startswith(("--max-memory-per-child", "--max-tasks-per-child"))
    ]
    assert not app.conf.worker_max_memory_per_child and not app.conf.worker_max_tasks_per_child
