"""Data Manager result filters on the embedded SQLite default, with and without the
result-label index (``annotations.result_index``), server side.

Builds (or reuses, with ``--reuse``) a text project of N tasks (100k by default) with SQL:
every task has one prediction (Positive, Negative or Neutral; score), every other task
one completion (the same three choices, one in a thousand "Mixed"). Then it times,
through the Django test client and the real routing, permissions and JSON rendering:

- ``page``: GET /api/tasks/?project=&query=...&after= (keyset, 30 rows, no totals);
- ``last``: the last page of the same filter (``-tasks:id`` ordering);
- ``count``: GET /api/dm/count/?totals=false (the "Found" counter);
- then the Label Stream: GET /api/projects/{id}/next/ and the annotation POST, p50;

once reading the JSON (``RESULT_INDEX_FILTERS = False``: what LabelHub did before) and
once through the index, and prints p50 in milliseconds and the rows found (which must be
the same). It also times the rebuild of the index for the project.

    DATABASE_URL= LABELHUB_DATA_DIR=/tmp/lh-ri-bench \\
        .venv/bin/python bench/result_index_bench.py --tasks 100000 --repeat 9 [--reuse]
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
os.environ.setdefault("LABELHUB_DATA_DIR", "/tmp/labelhub-result-index-bench")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from annotations.counters import project_counters_refresh  # noqa: E402
from annotations.result_index import result_index_clear, result_index_fill  # noqa: E402
from projects.models import Project  # noqa: E402
from projects.services import project_create  # noqa: E402

CONFIG = (
    '<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text">'
    '<Choice value="Positive"/><Choice value="Negative"/><Choice value="Neutral"/>'
    '<Choice value="Mixed"/></Choices></View>'
)
TITLE = "result index bench {n}"


def _choice(expr: str) -> str:
    return (
        "json_array(json_object('id', 'r' || g, 'from_name', 'sentiment', 'to_name', 'text', "
        f"'type', 'choices', 'value', json_object('choices', json_array({expr}))))"
    )


def build(n: int) -> Project:
    User = get_user_model()
    owner, _ = User.objects.get_or_create(
        username="ri-bench-owner", defaults={"email": "rib@example.com", "is_staff": True}
    )
    project = project_create(user=owner, title=TITLE.format(n=n), label_config=CONFIG)
    label = (
        "CASE WHEN g % 1000 = 0 THEN 'Mixed' ELSE "
        "CASE (g / 7) % 3 WHEN 0 THEN 'Positive' WHEN 1 THEN 'Negative' ELSE 'Neutral' END END"
    )
    plabel = "CASE (g / 11) % 3 WHEN 0 THEN 'Positive' WHEN 1 THEN 'Negative' ELSE 'Neutral' END"
    started = time.monotonic()
    with connection.cursor() as cursor, transaction.atomic():
        cursor.execute(
            """
            WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < %s)
            INSERT INTO tasks_task (project_id, data, meta, is_labeled, total_annotations,
                cancelled_annotations, total_predictions, prediction_score, overlap_extra,
                is_benchmark, agreement, created_at, updated_at)
            SELECT %s, json_object('text', 'review number ' || g), '{}', g % 2 = 0,
                   CASE WHEN g % 2 = 0 THEN 1 ELSE 0 END, 0, 1, ((g * 7919) % 1000) / 1000.0,
                   0, 0, NULL, datetime('now'), datetime('now')
            FROM s
            """,
            [n, project.pk],
        )
        cursor.execute("SELECT min(id) FROM tasks_task WHERE project_id = %s", [project.pk])
        base = cursor.fetchone()[0] - 1
        cursor.execute(
            f"""
            INSERT INTO annotations_prediction (task_id, project_id, model_version, score,
                result, created_at, updated_at)
            SELECT t.id, %s, 'm' || (g % 3), ((g * 7919) % 1000) / 1000.0, {_choice(plabel)},
                   datetime('now'), datetime('now')
            FROM (SELECT id, id - %s AS g FROM tasks_task WHERE project_id = %s) t
            """,
            [project.pk, base, project.pk],
        )
        cursor.execute(
            f"""
            INSERT INTO annotations_annotation (task_id, project_id, completed_by_id, result,
                was_cancelled, ground_truth, lead_time, created_at, updated_at)
            SELECT t.id, %s, %s, {_choice(label)}, 0, 0, (g % 60) + 1.5,
                   datetime('now'), datetime('now')
            FROM (SELECT id, id - %s AS g FROM tasks_task WHERE project_id = %s) t
            WHERE g % 2 = 0
            """,
            [project.pk, owner.pk, base, project.pk],
        )
    print(f"  rows inserted in {time.monotonic() - started:.1f} s", flush=True)
    project_counters_refresh(project_id=project.pk)
    rebuild(project)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return project


def rebuild(project: Project) -> None:
    started = time.monotonic()
    with transaction.atomic():
        result_index_clear(project_id=project.pk)
        rows = result_index_fill(project_id=project.pk)
    print(f"  result index: {rows} rows in {time.monotonic() - started:.2f} s", flush=True)


def item(column, operator, value, type_="String"):
    return {"filter": f"filter:tasks:{column}", "operator": operator, "type": type_, "value": value}


def timed(fn, repeat: int) -> float:
    fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--rebuild", action="store_true", help="time a rebuild of the index")
    args = parser.parse_args()
    if connection.vendor != "sqlite":
        sys.exit("result_index_bench measures SQLite: leave DATABASE_URL empty")
    call_command("migrate", verbosity=0)
    project = None
    if args.reuse:
        project = Project.objects.filter(title=TITLE.format(n=args.tasks)).order_by("-id").first()
    if project is None:
        print(f"building a project of {args.tasks} tasks ...", flush=True)
        project = build(args.tasks)
    elif args.rebuild:
        rebuild(project)
    client = APIClient()
    client.force_authenticate(project.created_by)
    filters = {
        "annotation Positive": [item("annotations_results", "contains", "Positive")],
        "annotation Mixed (0.05%)": [item("annotations_results", "equal", "Mixed")],
        "prediction Negative": [item("predictions_results", "contains", "Negative")],
        "annotation not Positive": [item("annotations_results", "not_contains", "Positive")],
    }
    print(f"\nproject {project.pk}, {args.tasks} tasks; p50 ms over {args.repeat} runs")
    print(f"{'filter':26} {'index':>6} {'first page':>11} {'last page':>10} {'count':>8}  found")
    for name, items in filters.items():
        for use_index in (False, True):
            settings.RESULT_INDEX_FILTERS = use_index
            query = {"filters": {"conjunction": "and", "items": items}}
            q = json.dumps(query)
            last = json.dumps({**query, "ordering": ["-tasks:id"]})
            base = f"/api/tasks/?project={project.pk}&page_size=30&after="
            page_url, last_url = f"{base}&query={q}", f"{base}&query={last}"
            count_url = f"/api/dm/count/?project={project.pk}&totals=false&query={q}"
            assert client.get(page_url).status_code == 200
            page = timed(lambda u=page_url: client.get(u), args.repeat)
            last_page = timed(lambda u=last_url: client.get(u), args.repeat)
            count = timed(lambda u=count_url: client.get(u), max(3, args.repeat // 2))
            found = client.get(count_url).json()["total"]
            label = "yes" if use_index else "no"
            print(
                f"{name:26} {label:>6} {page:11.1f} {last_page:10.1f} {count:8.1f}  {found}",
                flush=True,
            )
    settings.RESULT_INDEX_FILTERS = True
    # The Label Stream at this size: next task, then submit it (the annotation POST).
    result = [
        {
            "id": "n1",
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": ["Positive"]},
        }
    ]
    nexts, posts = [], []
    for _ in range(args.repeat * 4):
        started = time.perf_counter()
        task = client.get(f"/api/projects/{project.pk}/next/").json()
        nexts.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        response = client.post(
            f"/api/tasks/{task['id']}/annotations/", {"result": result}, format="json"
        )
        posts.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 201, response.content[:200]
    print(
        f"\nnext task p50 {statistics.median(nexts):.1f} ms, "
        f"annotation create p50 {statistics.median(posts):.1f} ms ({len(posts)} each)"
    )


if __name__ == "__main__":
    main()
