"""Data Manager speed at scale, server side, on PostgreSQL.

Builds (or reuses, with ``--reuse``) an image project of N tasks (1M by default) with
SQL ``INSERT ... SELECT generate_series``: every task has one completion (a box labelled
Cat, Dog, Bird, Fish or Horse; one in a thousand "Zebra") by one of ten annotators and
one prediction (score, model version m0..m2); 15% of completions are reviewed. The GIN
indexes are dropped during the load and rebuilt after it, then the tables are ANALYZEd.

Then it times, through the Django test client and the real routing, authentication,
permissions and JSON rendering (so "server side" includes everything but the network):

- ``page``: GET /api/tasks/?project=&query=...&after= (keyset, 30 rows, no totals) per
  filter;
- ``count``: GET /api/dm/count/?totals=false (the "Found" counter) per filter;
- ``deep``: the keyset page 90% of the way through the label-filtered list, next to the
  OFFSET page at the same place;

prints p50/p95 in milliseconds, and EXPLAIN ANALYZE of the label-filtered page and count
queries so index use can be checked.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/labelhub_bench \\
        .venv/bin/python bench/dm_bench.py --tasks 1000000 --repeat 15 [--reuse]
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
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/labelhub_bench")
os.environ.setdefault("LABELHUB_DATA_DIR", "/tmp/labelhub-dm-bench")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from annotations.counters import project_counters_refresh  # noqa: E402
from annotations.result_index import result_index_fill  # noqa: E402
from datamanager import selectors as dm  # noqa: E402
from projects.models import Project, ProjectMember  # noqa: E402
from projects.services import member_set, project_create  # noqa: E402

LABELS = ["Cat", "Dog", "Bird", "Fish", "Horse"]
CONFIG = (
    '<View><Image name="image" value="$image"/><RectangleLabels name="label" toName="image">'
    + "".join(f'<Label value="{label}"/>' for label in [*LABELS, "Zebra"])
    + "</RectangleLabels></View>"
)
TITLE = "dm bench {n}"
GIN = [
    ("annotation_result_gin", "annotations_annotation", "result"),
    ("prediction_result_gin", "annotations_prediction", "result"),
    ("task_meta_gin", "tasks_task", "meta"),
]


def _box(label_sql: str) -> str:
    return (
        "jsonb_build_array(jsonb_build_object('id', 'r' || g, 'from_name', 'label', 'to_name', 'image', "
        "'type', 'rectanglelabels', 'original_width', 640, 'original_height', 480, 'value', "
        "jsonb_build_object('x', (g %% 80), 'y', 10, 'width', 15.5, 'height', 20, 'rotation', 0, "
        f"'rectanglelabels', jsonb_build_array({label_sql}))))"
    )


def build(n: int) -> tuple[Project, list]:
    User = get_user_model()
    owner, _ = User.objects.get_or_create(
        username="dm-bench-owner", defaults={"email": "dmb@example.com", "is_staff": True}
    )
    if not owner.is_staff:
        owner.is_staff = True
        owner.save()
    project = project_create(user=owner, title=TITLE.format(n=n), label_config=CONFIG)
    users = []
    for index in range(10):
        user, _ = User.objects.get_or_create(
            username=f"dm-bench-{index}", defaults={"email": f"dmb{index}@example.com"}
        )
        member_set(project=project, user=user, role=ProjectMember.Role.ANNOTATOR)
        users.append(user)
    reviewer, _ = User.objects.get_or_create(
        username="dm-bench-reviewer", defaults={"email": "dmbr@example.com"}
    )
    member_set(project=project, user=reviewer, role=ProjectMember.Role.REVIEWER)
    label = "CASE WHEN g %% 1000 = 0 THEN 'Zebra' ELSE (ARRAY['Cat','Dog','Bird','Fish','Horse'])[((g / 7) %% 5) + 1] END"
    plabel = "(ARRAY['Cat','Dog','Bird','Fish','Horse'])[((g / 11) %% 5) + 1]"
    user_ids = "ARRAY[" + ",".join(str(u.pk) for u in users) + "]"
    started = time.monotonic()
    with connection.cursor() as cursor, transaction.atomic():
        for name, _table, _column in GIN:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
        cursor.execute(
            """
            INSERT INTO tasks_task (project_id, data, meta, is_labeled, total_annotations,
                cancelled_annotations, total_predictions, prediction_score, created_at, updated_at)
            SELECT %s, jsonb_build_object('image', '/data/img/' || g || '.jpg',
                       'caption', 'photo ' || g || ' of a ' || lower((ARRAY['Cat','Dog','Bird','Fish','Horse'])[((g / 7) %% 5) + 1])),
                   jsonb_build_object('batch', 'b' || (g %% 100)),
                   true, 1, 0, 1, ((g::bigint * 7919) %% 1000) / 1000.0,
                   now() - make_interval(secs => %s - g), now() - make_interval(secs => %s - g)
            FROM generate_series(1, %s) g
            """,
            [project.pk, n, n, n],
        )
        cursor.execute("SELECT min(id) FROM tasks_task WHERE project_id = %s", [project.pk])
        base = cursor.fetchone()[0] - 1
        cursor.execute(
            f"""
            INSERT INTO annotations_prediction (task_id, project_id, model_version, score, result, created_at, updated_at)
            SELECT t.id, %s, 'm' || (g %% 3), ((g::bigint * 7919) %% 1000) / 1000.0, {_box(plabel)}, now(), now()
            FROM (SELECT id, id - %s AS g FROM tasks_task WHERE project_id = %s) t
            """,
            [project.pk, base, project.pk],
        )
        cursor.execute(
            f"""
            INSERT INTO annotations_annotation (task_id, project_id, completed_by_id, result, was_cancelled,
                ground_truth, lead_time, created_at, updated_at)
            SELECT t.id, %s, ({user_ids})[(g %% 10) + 1], {_box(label)}, false, false, (g %% 60) + 1.5,
                   now() - make_interval(secs => %s - g), now() - make_interval(secs => %s - g)
            FROM (SELECT id, id - %s AS g FROM tasks_task WHERE project_id = %s) t
            """,
            [project.pk, n, n, base, project.pk],
        )
        cursor.execute(
            """
            INSERT INTO annotations_review (annotation_id, reviewer_id, accepted, created_at, updated_at)
            SELECT id, %s, (id %% 20) < 2, now(), now() FROM annotations_annotation
            WHERE project_id = %s AND (id %% 20) < 3
            """,
            [reviewer.pk, project.pk],
        )
        print(f"  rows inserted in {time.monotonic() - started:.0f} s", flush=True)
    with connection.cursor() as cursor:  # after COMMIT: the FK checks are deferred to it
        for name, table, column in GIN:
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} jsonb_path_ops)"
            )
        print(f"  + GIN indexes in {time.monotonic() - started:.0f} s", flush=True)
    project_counters_refresh(project_id=project.pk)
    with transaction.atomic():
        rows = result_index_fill(project_id=project.pk)
    print(f"  + result-label index, {rows} rows, in {time.monotonic() - started:.0f} s", flush=True)
    with connection.cursor() as cursor:
        for table in (
            "annotations_resultlabel",
            "tasks_task",
            "annotations_annotation",
            "annotations_prediction",
            "annotations_review",
        ):
            cursor.execute(f"ANALYZE {table}")
    print(
        f"  built {n} tasks, {n} completions, {n} predictions in {time.monotonic() - started:.0f} s",
        flush=True,
    )
    return project, users


def find(n: int):
    project = Project.objects.filter(title=TITLE.format(n=n), task_number=n).order_by("-id").first()
    if project is None:
        return None, None
    User = get_user_model()
    users = [User.objects.get(username=f"dm-bench-{i}") for i in range(10)]
    return project, users


def item(column, operator, value, type_="String"):
    return {"filter": f"filter:tasks:{column}", "operator": operator, "type": type_, "value": value}


def timed(fn, repeat: int, warm: bool = True) -> tuple[float, float]:
    if warm:
        fn()  # warm caches and connections
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument(
        "--reuse", action="store_true", help="reuse a project built by an earlier run"
    )
    parser.add_argument("--explain", action="store_true", default=True)
    parser.add_argument("--no-explain", dest="explain", action="store_false")
    parser.add_argument(
        "--only-compare",
        action="store_true",
        help="skip our own figures, only compare with --ls-url",
    )
    parser.add_argument(
        "--ls-url", help="a running Label Studio to compare with, e.g. http://127.0.0.1:8090"
    )
    parser.add_argument("--ls-token", help="its legacy API token")
    parser.add_argument(
        "--ls-project", type=int, help="its project holding the same data (see compare_ls)"
    )
    parser.add_argument("--ls-repeat", type=int, default=1)
    parser.add_argument("--ls-timeout", type=float, default=1800)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("dm_bench measures PostgreSQL: set DATABASE_URL")
    call_command("migrate", verbosity=0)
    project, users = find(args.tasks) if args.reuse else (None, None)
    if project is None:
        print(f"building a project of {args.tasks} tasks ...", flush=True)
        project, users = build(args.tasks)
    project = Project.objects.get(pk=project.pk)
    owner = project.created_by
    client = APIClient()
    client.force_authenticate(owner)
    if args.only_compare:
        compare_ls(args, project, client)
        return
    x = users[3].pk
    filters = {
        "none": [],
        "label Cat": [item("annotations_results", "contains", "Cat")],
        "label Zebra (0.1%)": [item("annotations_results", "equal", "Zebra")],
        "label Cat + annotator": [
            item("annotations_results", "contains", "Cat"),
            item("annotators", "contains", x, "List"),
        ],
        "prediction Dog, score > 0.9": [
            item("predictions_results", "contains", "Dog"),
            item("predictions_score", "greater", 0.9, "Number"),
        ],
        "meta.batch = b7": [item("meta.batch", "equal", "b7")],
        "data.caption contains": [item("data.caption", "contains", "photo 12345 ")],
        "reviews_rejected > 0": [item("reviews_rejected", "greater", 0, "Number")],
    }
    print(
        f"\nproject {project.pk}: {project.task_number} tasks; p50 / p95 ms over {args.repeat} runs, server side"
    )
    print(f"{'filter':32} {'page (keyset)':>16} {'count':>16}  found")
    results = {}
    for name, items in filters.items():
        query = json.dumps({"filters": {"conjunction": "and", "items": items}})
        page_url = (
            f"/api/tasks/?project={project.pk}&page_size=30&after=&query={query}"  # no totals
        )
        count_url = f"/api/dm/count/?project={project.pk}&totals=false&query={query}"
        response = client.get(page_url)
        assert response.status_code == 200, response.content[:300]
        page = timed(lambda u=page_url: client.get(u), args.repeat)
        count = timed(lambda u=count_url: client.get(u), max(5, args.repeat // 3))
        found = client.get(count_url).json()["total"]
        results[name] = {"page": page, "count": count, "found": found}
        print(
            f"{name:32} {page[0]:7.1f} / {page[1]:6.1f} {count[0]:7.1f} / {count[1]:6.1f}  {found}",
            flush=True,
        )

    # Deep pages: keyset 90% of the way through the Cat list, next to OFFSET at the same place.
    cat = {"filters": {"conjunction": "and", "items": filters["label Cat"]}}
    found = results["label Cat"]["found"]
    deep_index = int(found * 0.9)
    parsed = dm.parse_query(cat)
    deep_id = (
        dm.task_queryset(project=project, query=parsed)
        .order_by("id")
        .values_list("id", flat=True)[deep_index : deep_index + 1]
        .get()
    )
    cursor = dm._encode([deep_id])
    q = json.dumps(cat)
    keyset_url = f"/api/tasks/?project={project.pk}&page_size=30&after={cursor}&query={q}"
    first_url = f"/api/tasks/?project={project.pk}&page_size=30&after=&query={q}"
    keyset = timed(lambda: client.get(keyset_url), args.repeat)
    first = timed(lambda: client.get(first_url), args.repeat)
    # OFFSET at the same place, through the same engine call without the HTTP layer
    offset = timed(
        lambda: dm.tasks_page(project=project, query=parsed, page=deep_index // 30, size=30),
        max(3, args.repeat // 5),
    )
    print(
        f"\nlabel Cat, {found} found: first page {first[0]:.1f} ms; keyset page at row {deep_index}: "
        f"{keyset[0]:.1f} ms; OFFSET page there (engine only): {offset[0]:.1f} ms (p50)"
    )

    sorted_q = json.dumps({**cat, "ordering": ["-tasks:predictions_score"]})
    by_score = timed(
        lambda: client.get(
            f"/api/tasks/?project={project.pk}&page_size=30&after=&query={sorted_q}"
        ),
        args.repeat,
    )
    print(f"label Cat ordered by -predictions_score, first page: {by_score[0]:.1f} ms (p50)")

    if args.explain:
        queryset = dm.task_queryset(project=project, query=parsed)
        ordered, _, _ = dm.ordered(queryset, parsed, dm.cols.ProjectContext.for_project(project))
        print("\nEXPLAIN ANALYZE, label Cat, first page:")
        print(ordered.values_list("id")[:31].explain(analyze=True))
        print("\nEXPLAIN ANALYZE, label Cat, count:")
        print(_explain_count(queryset))
        zebra = dm.parse_query(
            {"filters": {"conjunction": "and", "items": filters["label Zebra (0.1%)"]}}
        )
        print("\nEXPLAIN ANALYZE, label Zebra, first page:")
        print(
            dm.ordered(
                dm.task_queryset(project=project, query=zebra),
                zebra,
                dm.cols.ProjectContext.for_project(project),
            )[0]
            .values_list("id")[:31]
            .explain(analyze=True)
        )


def compare_ls(args, project, client) -> None:
    """The same Data Manager queries against Label Studio (a running server whose project
    holds the same N tasks, annotations and predictions) and against LabelHub, on the same
    machine and database server: ``GET /api/tasks/?project=&page_size=30&query=...``,
    which answers a page and the totals in both. Label Studio is timed over HTTP on
    localhost (its server is Django's, as ``label-studio start`` runs it), LabelHub through
    the test client; the network part is negligible next to the figures."""
    import urllib.parse

    import requests

    if not (args.ls_url and args.ls_token and args.ls_project):
        sys.exit("--ls-url, --ls-token and --ls-project go together")
    queries = {
        "none": [],
        "label Cat (annotations_results contains)": [
            item("annotations_results", "contains", "Cat")
        ],
        "data.caption contains": [item("data.caption", "contains", "photo 12345 ")],
        "total_annotations > 0": [item("total_annotations", "greater", 0, "Number")],
    }
    headers = {"Authorization": f"Token {args.ls_token}"}
    print(
        f"\nLabel Studio at {args.ls_url} (project {args.ls_project}) vs LabelHub (project {project.pk}), "
        f"p50 ms of a 30-task page with totals"
    )
    print(f"{'query':44} {'Label Studio':>14} {'LabelHub':>10} {'ratio':>8}")
    for name, items in queries.items():
        query = json.dumps({"filters": {"conjunction": "and", "items": items}})
        ls_url = (
            f"{args.ls_url}/api/tasks/?project={args.ls_project}&page_size=30"
            f"&query={urllib.parse.quote(query)}"
        )

        def ls_get(url=ls_url):
            response = requests.get(url, headers=headers, timeout=args.ls_timeout)
            response.raise_for_status()
            return response

        ls_total = ls_get().json().get("total") if args.ls_repeat > 1 else None
        ls = timed(ls_get, args.ls_repeat, warm=False)
        lh_url = f"/api/tasks/?project={project.pk}&page_size=30&query={query}"
        lh = timed(lambda u=lh_url: client.get(u), args.repeat)
        total = client.get(lh_url).json()["total"]
        note = f"  (found {total}{'' if ls_total is None else f'; LS {ls_total}'})"
        print(f"{name:44} {ls[0]:14.1f} {lh[0]:10.1f} {ls[0] / lh[0]:7.1f}x{note}", flush=True)


def _explain_count(queryset) -> str:
    sql, params = queryset.order_by().values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ANALYZE SELECT count(*) FROM ({sql}) AS found", params)
        return "\n".join(row[0] for row in cursor.fetchall())


if __name__ == "__main__":
    main()
