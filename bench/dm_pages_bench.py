"""The Data Manager page at scale: every data key as a column, page numbers, first,
last, go to page, and the editor's Previous/Next, on PostgreSQL.

Builds (or reuses, with ``--reuse``) a text project of N tasks (1M by default) with one
``INSERT ... SELECT generate_series``: each task's data has ``text``, ``source``,
``customer`` and a nested ``extra`` object, and one task in 10,000 a key of its own
(``rare_<n>``), so the key list is not simply "what the first task has".

Then it times, through the Django test client and the real routing, permissions and
template rendering (server side, everything but the network), p50 / p95 in ms:

- ``columns``: GET /api/dm/columns/ (every data key; read from ``Project.task_data_keys``,
  never from the tasks);
- the Data Manager page (HTML, 30 rows) at page 1, the next page (keyset ``after``), the
  previous page (keyset ``before``), page 2 and the middle page by number (OFFSET), and
  the last page (the reversed order's first page);
- the same pages ordered by ``data.source`` and filtered on ``data.source``;
- the editor page of a task in the middle, with the filter and order (Previous/Next);
- ``sample``: ``task_data_keys_sample``, the one-off scan for projects from before the key
  list (first and last 1000 tasks by id).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lh_wddm \\
        .venv/bin/python bench/dm_pages_bench.py --tasks 1000000 --repeat 9 [--reuse]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
os.environ.setdefault("LABELHUB_DATA_DIR", "/tmp/labelhub-dm-pages-bench")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402

from annotations.counters import project_counters_refresh  # noqa: E402
from datamanager import selectors as dm  # noqa: E402
from projects.models import Project  # noqa: E402
from projects.services import project_create  # noqa: E402
from tasks.models import Task  # noqa: E402
from tasks.services import task_data_keys_sample  # noqa: E402

CONFIG = (
    '<View><Text name="text" value="$text"/><Choices name="c" toName="text">'
    '<Choice value="Yes"/><Choice value="No"/></Choices></View>'
)
TITLE = "dm pages bench {n}"


def build(n: int) -> Project:
    User = get_user_model()
    owner, _ = User.objects.get_or_create(
        username="dm-pages-bench", defaults={"email": "dmpb@example.com", "is_staff": True}
    )
    project = project_create(user=owner, title=TITLE.format(n=n), label_config=CONFIG)
    started = time.monotonic()
    with connection.cursor() as cursor, transaction.atomic():
        cursor.execute(
            """
            INSERT INTO tasks_task (project_id, data, meta, is_labeled, total_annotations,
                cancelled_annotations, total_predictions, created_at, updated_at)
            SELECT %s,
                   jsonb_build_object('text', 'message ' || g,
                       'source', (ARRAY['web','mail','phone','chat'])[(g %% 4) + 1],
                       'customer', 'C-' || (g %% 5000),
                       'extra', jsonb_build_object('n', g, 'tags', jsonb_build_array('a', 'b')))
                   || CASE WHEN g %% 10000 = 0 THEN jsonb_build_object('rare_' || g, true)
                           ELSE '{}'::jsonb END,
                   '{}'::jsonb, false, 0, 0, 0,
                   now() - make_interval(secs => %s - g), now() - make_interval(secs => %s - g)
            FROM generate_series(1, %s) g
            """,
            [project.pk, n, n, n],
        )
    project_counters_refresh(project_id=project.pk)
    keys = ["text", "source", "customer", "extra"] + [
        f"rare_{g}" for g in range(10000, n + 1, 10000)
    ]
    # What the importer writes in its transaction (a SQL load bypasses it).
    Project.objects.filter(pk=project.pk).update(task_data_keys=keys[:200])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tasks_task")
    print(f"  built {n} tasks in {time.monotonic() - started:.0f} s", flush=True)
    return Project.objects.get(pk=project.pk)


def timed(fn, repeat: int) -> tuple[float, float]:
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
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("dm_pages_bench measures PostgreSQL: set DATABASE_URL")
    call_command("migrate", verbosity=0)
    project = None
    if args.reuse:
        project = (
            Project.objects.filter(title=TITLE.format(n=args.tasks), task_number=args.tasks)
            .order_by("-id")
            .first()
        )
    if project is None:
        print(f"building a project of {args.tasks} tasks ...", flush=True)
        project = build(args.tasks)
    client = Client()
    client.force_login(project.created_by)
    base = f"/projects/{project.pk}/data"
    size = 30
    pages = -(-args.tasks // size)

    def get(url: str, expect: str = "") -> str:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        text = response.content.decode()
        assert expect in text, (url, expect)
        return text

    def cursor(html: str, name: str) -> str:
        marker = f"&amp;{name}="
        return html.split(marker, 1)[1].split("&amp;", 1)[0].split('"', 1)[0]

    print(
        f"\nproject {project.pk}: {project.task_number:,} tasks, {len(project.task_data_keys)} data keys;"
        f" p50 / p95 ms over {args.repeat} runs, server side (load average "
        f"{os.getloadavg()[0]:.1f}; a shared 2-core machine: noisy)"
    )
    rows = []
    rows.append(
        (
            "columns API",
            timed(lambda: client.get(f"/api/dm/columns/?project={project.pk}"), args.repeat),
        )
    )
    for label, params in (
        ("id order", {"size": size}),
        ("order data.source", {"size": size, "order": "tasks:data.source"}),
        (
            "filter data.source=mail",
            {"size": size, "f": "data.source", "op": "equal", "v": "mail", "t": "String"},
        ),
    ):
        query = urlencode(params)
        first = get(f"{base}?{query}", 'data-col="data.extra"')
        after = cursor(first, "after")
        second = get(f"{base}?{query}&after={after}&page=2")
        before = cursor(second, "before")
        found = args.tasks // 4 if "f" in params else args.tasks
        last_page = -(-found // size)
        tail = found - (last_page - 1) * size
        rows += [
            (f"{label}: page 1", timed(lambda q=query: get(f"{base}?{q}"), args.repeat)),
            (
                f"{label}: next (keyset)",
                timed(lambda q=query, a=after: get(f"{base}?{q}&after={a}&page=2"), args.repeat),
            ),
            (
                f"{label}: previous (keyset)",
                timed(lambda q=query, b=before: get(f"{base}?{q}&before={b}&page=1"), args.repeat),
            ),
            (
                f"{label}: page 2 (offset)",
                timed(lambda q=query: get(f"{base}?{q}&page=2"), args.repeat),
            ),
            (
                f"{label}: middle page {last_page // 2:,} (offset)",
                timed(lambda q=query, p=last_page // 2: get(f"{base}?{q}&page={p}"), args.repeat),
            ),
            (
                f"{label}: last page {last_page:,}",
                timed(
                    lambda q=query, p=last_page, t=tail: get(f"{base}?{q}&page={p}&last={t}"),
                    args.repeat,
                ),
            ),
        ]
    middle = (
        Task.objects.filter(project=project)
        .order_by("id")
        .values_list("id", flat=True)[args.tasks // 2]
    )
    editor_query = urlencode(
        {
            "f": "data.source",
            "op": "equal",
            "v": "mail",
            "t": "String",
            "order": "-tasks:data.customer",
        }
    )
    rows.append(
        (
            "editor page, filter + order (Previous/Next)",
            timed(
                lambda: get(f"/projects/{project.pk}/tasks/{middle}?{editor_query}"), args.repeat
            ),
        )
    )
    rows.append(
        (
            "neighbours alone, id order",
            timed(
                lambda: dm.task_neighbours(
                    project=project, query=dm.parse_query({}), task_id=middle
                ),
                args.repeat,
            ),
        )
    )
    rows.append(
        (
            "sample keys (one-off)",
            timed(lambda: task_data_keys_sample(project_id=project.pk), args.repeat),
        )
    )
    width = max(len(name) for name, _ in rows)
    for name, (p50, p95) in rows:
        print(f"  {name:{width}}  {p50:8.1f}  {p95:8.1f}")
    print(f"  ({pages:,} pages of {size} in id order)")


if __name__ == "__main__":
    main()
