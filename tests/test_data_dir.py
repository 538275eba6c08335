"""Issue #12, finding 8: the data directory is 0700 and what LabelHub writes there 0600
(the SQLite file, with password hashes and API tokens, media, secret key), for a new data
directory and one made world-readable by an older release."""

import os
import stat
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import django, os
os.environ["DJANGO_SETTINGS_MODULE"] = "labelhub.settings"
django.setup()
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE probe (x integer)")
default_storage.save("upload/1/cat.jpg", ContentFile(b"jpeg"))
"""


def _run(data_dir: Path) -> None:
    env = {**os.environ, "LABELHUB_DATA_DIR": str(data_dir), "DATABASE_URL": "", "REDIS_URL": ""}
    env.pop("LABELHUB_STATIC_ROOT", None)
    subprocess.run([sys.executable, "-c", SCRIPT], env=env, check=True, timeout=120)


def _modes(root: Path) -> dict[str, int]:
    out = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        out[str(path.relative_to(root))] = stat.S_IMODE(path.stat().st_mode)
    return out


def test_a_new_data_dir_is_private(tmp_path):
    data = tmp_path / "new"
    _run(data)
    modes = _modes(data)
    assert "labelhub.sqlite3" in modes and "secret_key" in modes
    assert "media/upload/1/cat.jpg" in modes
    for name, mode in modes.items():
        expected = 0o700 if (data / name).is_dir() else 0o600
        assert mode == expected, (name, oct(mode))


def test_an_old_world_readable_data_dir_is_tightened(tmp_path):
    data = tmp_path / "old"
    (data / "media").mkdir(parents=True)
    (data / "media" / "old.png").write_bytes(b"png")
    (data / "labelhub.sqlite3").write_bytes(b"")
    os.chmod(data, 0o755)
    os.chmod(data / "media", 0o755)
    os.chmod(data / "media" / "old.png", 0o644)
    os.chmod(data / "labelhub.sqlite3", 0o644)
    _run(data)
    modes = _modes(data)
    assert modes["."] == 0o700 and modes["media"] == 0o700
    assert modes["media/old.png"] == 0o600 and modes["labelhub.sqlite3"] == 0o600
