"""Migration from Label Studio: time to copy N tasks next to Label Studio's own export.

Starts Label Studio 1.23.2 (``LABELHUB_LS_BIN``, default .cache/compat-venv/bin/label-studio)
on 127.0.0.1:18820 with a fresh SQLite data directory, imports N text tasks with one
annotation and one prediction each (not timed), then times:

1. Label Studio's JSON export of the project (``GET /api/projects/{id}/export?exportType=JSON``);
2. ``importers.lsmigrate.service.migrate`` into LabelHub (DATABASE_URL, or SQLite in a
   temporary data directory), which runs that same export, the predictions list, the
   bulk write, the id mapping and the closing check;
3. a second ``migrate`` (nothing new): it asks Label Studio which tasks changed since the
   first began and reads only those (``importers.lsmigrate.delta``);
4. the same second run without that mark (the full export and compare that every re-run
   did before), for comparison;
5. one more annotation in Label Studio, then a ``migrate`` that copies exactly it.

    .venv/bin/python bench/lsmigrate_bench.py --tasks 10000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lh_bench .venv/bin/python bench/lsmigrate_bench.py --tasks 100000
"""

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
LS_BIN = os.environ.get("LABELHUB_LS_BIN", str(ROOT / ".cache/compat-venv/bin/label-studio"))
CONFIG = (
    '<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text">'
    '<Choice value="pos"/><Choice value="neg"/></Choices></View>'
)


def choice(value: str) -> list:
    return [
        {
            "id": "c1",
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [value]},
        }
    ]


def start_ls(port: int, token: str, data: Path) -> subprocess.Popen:
    drop = ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(LABEL_STUDIO_BASE_DATA_DIR=str(data), DJANGO_DB="sqlite", SENTRY_DSN="")
    log = open(data / "ls.log", "wb")
    process = subprocess.Popen(
        [
            LS_BIN,
            "start",
            "--no-browser",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data-dir",
            str(data),
            "--username",
            "bench@example.com",
            "--password",
            "bench-pass-1",
            "--user-token",
            token,
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=data,
    )
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=2).ok:
                return process
        except requests.RequestException:
            pass
        if process.poll() is not None:
            break
        time.sleep(2)
    process.kill()
    raise SystemExit("Label Studio did not start: " + (data / "ls.log").read_text()[-2000:])


def enable_legacy_tokens(url: str) -> None:
    """Label Studio 1.23 starts with legacy tokens off: sign in and turn them on."""
    session = requests.Session()
    session.get(url + "/user/login/", timeout=60)
    session.post(
        url + "/user/login/",
        data={
            "email": "bench@example.com",
            "password": "bench-pass-1",
            "csrfmiddlewaretoken": session.cookies.get("csrftoken"),
        },
        headers={"Referer": url + "/user/login/"},
        timeout=60,
    )
    headers = {"X-CSRFToken": session.cookies.get("csrftoken"), "Referer": url}
    session.post(
        url + "/api/jwt/settings",
        headers=headers,
        timeout=60,
        json={"api_tokens_enabled": True, "legacy_api_tokens_enabled": True},
    ).raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--port", type=int, default=18820)
    parser.add_argument("--no-rerun", action="store_true", help="skip the second migrate")
    args = parser.parse_args()
    token = secrets.token_hex(20)
    work = Path(tempfile.mkdtemp(prefix="lsmigrate-bench-"))
    (work / "ls").mkdir()
    os.environ.setdefault("LABELHUB_DATA_DIR", str(work / "lh"))
    os.environ["LABELHUB_SSRF_ALLOWED_HOSTS"] = "127.0.0.1"
    os.environ["DJANGO_SETTINGS_MODULE"] = "labelhub.settings"
    ls = start_ls(args.port, token, work / "ls")
    url = f"http://127.0.0.1:{args.port}"
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    try:
        enable_legacy_tokens(url)
        response = session.post(
            f"{url}/api/projects/", json={"title": "bench", "label_config": CONFIG}
        )
        response.raise_for_status()
        project = response.json()
        pid = project["id"]
        started = time.monotonic()
        for start in range(0, args.tasks, 5000):
            batch = [
                {
                    "data": {"text": f"review number {n} " + "word " * 20},
                    "annotations": [
                        {"result": choice("pos" if n % 2 else "neg"), "lead_time": 1.0}
                    ],
                    "predictions": [{"result": choice("pos"), "score": 0.5, "model_version": "v1"}],
                }
                for n in range(start, min(args.tasks, start + 5000))
            ]
            response = session.post(f"{url}/api/projects/{pid}/import", json=batch, timeout=3600)
            response.raise_for_status()
        print(
            f"filled Label Studio with {args.tasks} tasks in {time.monotonic() - started:.1f}s (not timed)"
        )

        started = time.monotonic()
        response = session.get(
            f"{url}/api/projects/{pid}/export",
            params={"exportType": "JSON", "download_all_tasks": "true"},
            timeout=3600,
        )
        response.raise_for_status()
        ls_export = time.monotonic() - started
        print(f"Label Studio export: {ls_export:.1f}s ({len(response.content) / 1e6:.1f} MB)")

        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.db import connection

        from importers.lsmigrate.service import migrate

        call_command("migrate", interactive=False, verbosity=0)
        admin, _ = get_user_model().objects.get_or_create(
            username="staff@example.com", defaults={"email": "staff@example.com", "is_staff": True}
        )
        started = time.monotonic()
        report = migrate(url=url, token=token, user=admin)
        first = time.monotonic() - started
        print("\n".join(report.lines()))
        again, second, full_again, one, third = None, 0.0, 0.0, None, 0.0
        if not args.no_rerun:
            from importers.lsmigrate import delta
            from importers.models import LabelStudioCopy

            started = time.monotonic()
            again = migrate(url=url, token=token, user=admin)
            second = time.monotonic() - started
            print("\n".join(again.lines()[:3]))
            LabelStudioCopy.objects.filter(kind=delta.SEEN).delete()  # as before: read all
            started = time.monotonic()
            migrate(url=url, token=token, user=admin)
            full_again = time.monotonic() - started
            task = session.get(
                f"{url}/api/tasks/", params={"project": pid, "page_size": 1}, timeout=600
            ).json()["tasks"][0]
            session.post(
                f"{url}/api/tasks/{task['id']}/annotations/",
                json={"result": choice("neg"), "lead_time": 2.0},
                timeout=600,
            ).raise_for_status()
            started = time.monotonic()
            one = migrate(url=url, token=token, user=admin)
            third = time.monotonic() - started
        print(f"database: {connection.vendor}")
        print(
            f"RESULT tasks={args.tasks} ls_export={ls_export:.1f}s migrate={first:.1f}s "
            f"rerun={second:.1f}s copied_again={sum(again.copied.values()) if again else '-'} "
            f"rerun_full_read={full_again:.1f}s "
            f"after_one_annotation={third:.1f}s copied={dict(one.copied) if one else '-'} "
            f"ok={report.ok}"
        )
    finally:
        ls.terminate()
        ls.wait(timeout=30)


if __name__ == "__main__":
    main()
