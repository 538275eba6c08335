"""Label Stream speed at scale: next task and submit, server side, on PostgreSQL.

Builds a project of N text tasks (1M by default) with SQL (``INSERT ... SELECT
generate_series``: about a minute for 1M tasks, each with one scored prediction, 30% of
them already labeled), then for each sampling mode times, through the Django test
client and the real URL routing, authentication, permissions and JSON rendering:

- ``next``:   GET /api/projects/{id}/next/ for a user without a task (a new lock);
- ``again``:  the same GET while the lock lives (the held task comes back);
- ``submit``: POST /api/tasks/{id}/annotations/ (validation, counters, lock release).

It prints p50/p95 in milliseconds, and EXPLAIN ANALYZE of each mode's candidate query,
so that index use can be checked. The project is deleted afterwards unless ``--keep``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/labelhub_bench \\
        .venv/bin/python bench/stream_bench.py --tasks 1000000 --samples 200
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/labelhub_bench")
os.environ.setdefault("LABELHUB_DATA_DIR", "/tmp/labelhub-stream-bench")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from annotations import stream  # noqa: E402
from annotations.services import project_delete  # noqa: E402
from projects.models import Project, ProjectMember  # noqa: E402
from projects.services import member_set, project_create  # noqa: E402

CONFIG = (
    '<View><Text name="text" value="$text"/>'
    '<Choices name="sentiment" toName="text"><Choice value="Positive"/>'
    '<Choice value="Negative"/></Choices></View>'
)
RESULT = [
    {
        "id": "r1",
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["Positive"]},
    }
]
MODES = ["sequential", "uniform", "prediction-score-min", "prediction-score-max", "active-learning"]


def build(n: int, labeled_fraction: float, annotators: int) -> tuple[Project, list]:
    User = get_user_model()
    owner, _ = User.objects.get_or_create(
        username="stream-bench-owner", defaults={"email": "sbo@example.com"}
    )
    project = project_create(user=owner, title=f"stream bench {n}", label_config=CONFIG)
    users = []
    for index in range(annotators):
        user, _ = User.objects.get_or_create(
            username=f"stream-bench-{index}", defaults={"email": f"sb{index}@example.com"}
        )
        member_set(project=project, user=user, role=ProjectMember.Role.ANNOTATOR)
        users.append(user)
    labeled = int(n * labeled_fraction)
    started = time.monotonic()
    with connection.cursor() as cursor, transaction.atomic():
        cursor.execute(
            """
            INSERT INTO tasks_task (project_id, data, meta, is_labeled, total_annotations,
                cancelled_annotations, total_predictions, prediction_score, al_priority,
                created_at, updated_at)
            SELECT %s, jsonb_build_object('text', 'Task ' || g || ': the quick brown fox.'),
                '{}'::jsonb, g <= %s, (g <= %s)::int, 0, 1, NULL,
                CASE WHEN g <= %s THEN NULL ELSE random() * 50 END, now(), now()
            FROM generate_series(1, %s) g
            """,
            [project.pk, labeled, labeled, labeled, n],
        )
        cursor.execute(
            """
            INSERT INTO annotations_prediction (task_id, project_id, model_version, score,
                result, created_at, updated_at)
            SELECT id, project_id, 'bench', random(),
                '[{"id": "p", "from_name": "sentiment", "to_name": "text", "type": "choices",
                   "value": {"choices": ["Negative"]}}]'::jsonb, now(), now()
            FROM tasks_task WHERE project_id = %s
            """,
            [project.pk],
        )
        cursor.execute(
            """
            INSERT INTO annotations_annotation (task_id, project_id, completed_by_id, result,
                was_cancelled, ground_truth, lead_time, created_at, updated_at)
            SELECT id, project_id, %s, %s::jsonb, false, false, 1.0, now(), now()
            FROM tasks_task WHERE project_id = %s AND is_labeled
            """,
            [owner.pk, __import__("json").dumps(RESULT), project.pk],
        )
    from annotations.counters import prediction_scores_refresh

    prediction_scores_refresh(project_id=project.pk)
    from annotations.counters import project_counters_refresh

    project_counters_refresh(project_id=project.pk)
    with connection.cursor() as cursor:
        for table in (
            "tasks_task",
            "annotations_prediction",
            "annotations_annotation",
            "tasks_tasklock",
        ):
            cursor.execute(f"ANALYZE {table}")
    print(
        f"built {n} tasks ({labeled} labeled), {n} predictions in {time.monotonic() - started:.1f} s"
    )
    return project, users


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def summary(name: str, values: list[float]) -> str:
    return (
        f"{name:<8} p50 {statistics.median(values):6.2f} ms   p95 {pct(values, 0.95):6.2f} ms"
        f"   (n={len(values)})"
    )


def explain(project: Project, user) -> None:
    """EXPLAIN ANALYZE the statement that picks the candidate (rolled back)."""
    with CaptureQueriesContext(connection) as captured:
        with transaction.atomic():
            stream.next_task(project=project, user=user)
            transaction.set_rollback(True)
    picks = [q["sql"] for q in captured.captured_queries if "SKIP LOCKED" in q["sql"]]
    if not picks:
        print("   (no candidate query captured)")
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) " + picks[0])
        for (line,) in cursor.fetchall():
            print("   " + line)
        transaction.set_rollback(True)


def run_mode(project: Project, users: list, mode: str, samples: int) -> dict[str, list[float]]:
    Project.objects.filter(pk=project.pk).update(sampling=mode)
    clients = []
    for user in users:
        client = APIClient()
        client.force_authenticate(user)
        clients.append(client)
    url = f"/api/projects/{project.pk}/next/"
    times: dict[str, list[float]] = {"next": [], "again": [], "submit": []}
    queries: dict[str, int] = {}
    for i in range(samples + 5):
        client = clients[i % len(clients)]
        if i == 4:  # count the SQL statements of each call once, outside the timed rounds
            with CaptureQueriesContext(connection) as captured:
                task_id = client.get(url).json()["id"]
            queries["next"] = len(captured.captured_queries)
            with CaptureQueriesContext(connection) as captured:
                client.get(url)
            queries["again"] = len(captured.captured_queries)
            with CaptureQueriesContext(connection) as captured:
                client.post(f"/api/tasks/{task_id}/annotations/", {"result": RESULT}, format="json")
            queries["submit"] = len(captured.captured_queries)
        started = time.perf_counter()
        response = client.get(url)
        took_next = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.content
        task_id = response.json()["id"]
        started = time.perf_counter()
        again = client.get(url)
        took_again = (time.perf_counter() - started) * 1000
        assert again.json()["id"] == task_id
        started = time.perf_counter()
        response = client.post(
            f"/api/tasks/{task_id}/annotations/",
            {"result": RESULT, "lead_time": 2.0},
            format="json",
        )
        took_submit = (time.perf_counter() - started) * 1000
        assert response.status_code == 201, response.content
        if i >= 5:  # warm-up: connections, caches
            times["next"].append(took_next)
            times["again"].append(took_again)
            times["submit"].append(took_submit)
    times["queries"] = queries  # type: ignore[assignment]
    return times


def drop(project: Project) -> None:
    """The product's own project delete (every table that holds the project's rows)."""
    project_delete(project=project)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument(
        "--samples", type=int, default=200, help="timed next+submit rounds per mode"
    )
    parser.add_argument("--annotators", type=int, default=10)
    parser.add_argument("--labeled", type=float, default=0.3, help="fraction labeled before timing")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument(
        "--project", type=int, help="reuse a project built by an earlier --keep run"
    )
    parser.add_argument("--keep", action="store_true", help="keep the project for another run")
    parser.add_argument("--no-explain", action="store_true")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("stream_bench measures PostgreSQL: set DATABASE_URL")
    call_command("migrate", verbosity=0)
    if args.project:
        project = Project.objects.get(pk=args.project)
        users = [m.user for m in project.members.filter(role="annotator").select_related("user")]
    else:
        project, users = build(args.tasks, args.labeled, args.annotators)
    print(
        f"project {project.pk}: {project.tasks.count()} tasks, PostgreSQL "
        f"{connection.cursor().connection.server_version}, {len(users)} annotators"
    )
    try:
        for mode in args.modes.split(","):
            times = run_mode(project, users, mode, args.samples)
            print(f"== {mode}")
            for name in ("next", "again", "submit"):
                print("   " + summary(name, times[name]) + f"   {times['queries'][name]} queries")
            if not args.no_explain:
                Project.objects.filter(pk=project.pk).update(sampling=mode)
                project.refresh_from_db()
                explain(project, users[0])
    finally:
        if args.keep:
            print(f"kept project {project.pk}: rerun with --project {project.pk}")
        else:
            drop(project)


if __name__ == "__main__":
    main()
