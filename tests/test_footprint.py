"""What a server process loads before its first job: no heavy library at start.

scikit-learn, SciPy, shapely, OpenCV, nltk and the storage clients cost seconds of import
and tens of MB in every process; they load where they are used (the worker's training and
prediction jobs, the agreement metrics, one export format, one storage kind). This runs
what ``labelhub start``'s launcher loads before it forks (``django.setup()``, the WSGI app,
the Celery task modules) plus one request, in a fresh interpreter, and names what leaked.
"""

import os
import subprocess
import sys

import pytest

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
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABELHUB_")}
    env.update(DATABASE_URL="", REDIS_URL="", LABELHUB_DATA_DIR=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert "LOADED:\n" in out.stdout, f"loaded at start: {out.stdout}"
