"""Load: 50 annotators, 5 reviewers and an admin against ``labelhub start`` on PostgreSQL.

Builds a project of N text tasks (100k by default, by SQL) with overlap 2, starts
``labelhub start --no-worker`` on a free loopback port (gunicorn, as users run it), and
runs locust headless against it for at most 60 s (bench/load_locustfile.py):
annotators take the next task and submit (one in ten skips), reviewers take the Verify
Stream's next annotation and thumb it up or down, the admin filters the Data Manager.

Then it checks, against the database:
- zero 5xx answers;
- every submit that answered 201 is in the database exactly once, and nothing else was
  written but the submits cut off when locust stops (at most one per annotator);
- no task holds more non-skipped annotations than its overlap;
and prints p50/p95 of next and submit. Output also goes to bench/out/load.txt.

    make bench BENCH=bench/load.py BENCH_DATABASE_URL=... BENCH_REDIS_URL=... \\
        ARGS="--tasks 100000 --duration 60"
"""

import argparse
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/labelhub_bench")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from annotations.counters import project_counters_refresh  # noqa: E402
from annotations.models import Annotation  # noqa: E402
from annotations.services import project_delete  # noqa: E402
from projects.models import ProjectMember  # noqa: E402
from projects.services import member_set, project_create  # noqa: E402

CONFIG = (
    '<View><Text name="text" value="$text"/>'
    '<Choices name="sentiment" toName="text"><Choice value="Positive"/>'
    '<Choice value="Negative"/></Choices></View>'
)
VENV = Path(sys.executable).parent


def build(n: int, overlap: int):
    User = get_user_model()

    def user(name: str):
        account, _ = User.objects.get_or_create(
            username=f"load-{name}", defaults={"email": f"load-{name}@example.com"}
        )
        return account, Token.objects.get_or_create(user=account)[0].key

    admin, admin_token = user("admin")
    project = project_create(
        user=admin, title=f"load {n}", label_config=CONFIG, maximum_annotations=overlap
    )
    tokens = {"admins": [admin_token], "annotators": [], "reviewers": []}
    for index in range(50):
        account, token = user(f"annotator-{index}")
        member_set(project=project, user=account, role=ProjectMember.Role.ANNOTATOR)
        tokens["annotators"].append(token)
    for index in range(5):
        account, token = user(f"reviewer-{index}")
        member_set(project=project, user=account, role=ProjectMember.Role.REVIEWER)
        tokens["reviewers"].append(token)
    started = time.monotonic()
    with connection.cursor() as cursor, transaction.atomic():
        cursor.execute(
            """
            INSERT INTO tasks_task (project_id, data, meta, is_labeled, total_annotations,
                cancelled_annotations, total_predictions, prediction_score, created_at, updated_at)
            SELECT %s, jsonb_build_object('text', 'Task ' || g || ': the quick brown fox.'),
                '{}'::jsonb, false, 0, 0, 0, NULL, now(), now()
            FROM generate_series(1, %s) g
            """,
            [project.pk, n],
        )
    project_counters_refresh(project_id=project.pk)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tasks_task")
    print(f"built {n} tasks in {time.monotonic() - started:.1f} s", flush=True)
    return project, tokens


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_up(port: int, timeout: float = 120) -> None:
    """Until the server answers HTTP (not merely accepts connections), so that locust
    measures requests, not the workers' boot."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/version/", timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("labelhub start did not come up")


def p95_from(stats_csv: Path) -> dict:
    out = {}
    with open(stats_csv) as fh:
        for row in csv.DictReader(fh):
            out[row["Name"]] = {
                "count": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "p50": float(row["50%"] or 0),
                "p95": float(row["95%"] or 0),
            }
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--overlap", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--think",
        default="2,4",
        help="an annotator's pause between tasks, seconds MIN,MAX (2,4: a person's pace on "
        "a text classification; 0.2,1: the stress pace)",
    )
    args = parser.parse_args()
    duration = min(args.duration, 60)
    out_dir = Path(os.environ.get("BENCH_OUT", ROOT / "bench" / "out"))
    out_dir.mkdir(parents=True, exist_ok=True)
    project, tokens = build(args.tasks, args.overlap)
    work = Path(tempfile.mkdtemp(prefix="labelhub-load-"))
    config, result = work / "config.json", work / "result.json"
    config.write_text(json.dumps({"project": project.pk, **tokens}))
    port = free_port()
    env = {**os.environ, "LABELHUB_DATA_DIR": str(work / "data")}
    server = subprocess.Popen(
        [str(VENV / "labelhub"), "start", "--host", "127.0.0.1", "--port", str(port),
         "--no-worker", "--workers", str(args.workers), "--password", "load-admin-pass"],
        env=env,
        stdout=open(work / "server.log", "w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_up(port)
        subprocess.run(
            [str(VENV / "locust"), "-f", str(ROOT / "bench" / "load_locustfile.py"),
             "--headless", "-u", "56", "-r", "28", "-t", f"{duration}s",
             "--host", f"http://127.0.0.1:{port}", "--csv", str(work / "load"),
             "--only-summary", "--stop-timeout", "5"],
            env={**env, "LOAD_CONFIG": str(config), "LOAD_RESULT": str(result),
                 "LOAD_THINK": args.think},
            timeout=duration + 120,
            check=False,
        )  # fmt: skip
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    seen = json.loads(result.read_text())
    created = seen["created"]
    stats = p95_from(work / "load_stats.csv")
    in_db = Annotation.objects.filter(project=project)
    over = (
        in_db.filter(was_cancelled=False)
        .values("task")
        .annotate(n=Count("id"))
        .filter(n__gt=args.overlap)
        .count()
    )
    checks = {
        "zero 5xx": not seen["server_errors"],
        "201s unique": len(set(created)) == len(created),
        "every 201 in the database": in_db.filter(pk__in=created).count() == len(created),
        # A submit still in flight when locust stops is written without its 201 being
        # read: at most one per annotator, never more.
        "no writes beyond the 201s and the submits cut off at the stop": (
            0 <= in_db.count() - len(created) <= 50
        ),
        "no task past its overlap": over == 0,
    }
    lines = [
        f"load: {args.tasks} tasks, overlap {args.overlap}, 50 annotators + 5 reviewers + "
        f"1 admin, {duration} s, gunicorn workers {args.workers}, annotator pause "
        f"{args.think} s, load average {os.getloadavg()[0]:.1f}",
        *(
            f"{name:<12} n={s['count']:<6} failures={s['failures']:<4} "
            f"p50={s['p50']:.0f} ms p95={s['p95']:.0f} ms"
            for name, s in stats.items()
        ),
        f"annotations answered 201: {len(created)}; in the database: {in_db.count()}; "
        f"reworks saved: {len(seen['reworked'])}; 5xx: {len(seen['server_errors'])}",
        *(f"{'PASS' if ok else 'FAIL'} {name}" for name, ok in checks.items()),
    ]
    report = "\n".join(lines)
    print(report)
    (out_dir / "load.txt").write_text(report + "\n")
    project_delete(project=project)
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
