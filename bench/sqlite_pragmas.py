"""SQLite connection settings, one at a time, on the project result_index_bench.py builds.

For each variant of the connection's PRAGMAs (on top of WAL, which is a property of the
database file), it opens a fresh connection and times, in process:

- ``count``: the Found count of "annotation results contain Positive" (100k tasks);
- ``page``: the first page of tasks with their row columns;
- ``create``: ``annotation_create`` on tasks without one (the annotation POST's
  transaction: lock, counters, index, quality rows);

and prints p50 in milliseconds. Build the data first:

    DATABASE_URL= LABELHUB_DATA_DIR=/tmp/lh-ri-bench .venv/bin/python bench/result_index_bench.py
    DATABASE_URL= LABELHUB_DATA_DIR=/tmp/lh-ri-bench .venv/bin/python bench/sqlite_pragmas.py
"""

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

from django.db import connection  # noqa: E402

from annotations.models import Annotation  # noqa: E402
from annotations.services import annotation_create  # noqa: E402
from datamanager import selectors as dm  # noqa: E402
from projects.models import Project  # noqa: E402
from tasks.models import Task  # noqa: E402

BASE = "PRAGMA journal_mode=WAL;"
VARIANTS = {
    "synchronous=FULL (SQLite's default)": "PRAGMA synchronous=FULL;",
    "synchronous=NORMAL (before)": "PRAGMA synchronous=NORMAL;",
    "+ cache_size=32 MB": "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-32768;",
    "+ mmap_size=256 MB": "PRAGMA synchronous=NORMAL; PRAGMA mmap_size=268435456;",
    "+ temp_store=MEMORY": "PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY;",
    "all three": (
        "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-32768; "
        "PRAGMA mmap_size=268435456; PRAGMA temp_store=MEMORY;"
    ),
}
RESULT = [
    {
        "id": "b1",
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["Positive"]},
    }
]


def p50(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    project = Project.objects.order_by("-id").first()
    if project is None:
        sys.exit("build the data with bench/result_index_bench.py first")
    user = project.created_by
    query = dm.parse_query(
        {
            "filters": {
                "conjunction": "and",
                "items": [
                    {
                        "filter": "filter:tasks:annotations_results",
                        "operator": "contains",
                        "type": "String",
                        "value": "Positive",
                    }
                ],
            }
        }
    )
    free = iter(
        Task.objects.filter(project=project, total_annotations=0)
        .order_by("id")
        .values_list("id", flat=True)[:5000]
    )
    created = []
    print(f"project {project.pk}, {project.task_number} tasks; p50 ms")
    print(f"{'variant':38} {'count':>7} {'page':>7} {'create':>7}")
    for name, pragmas in VARIANTS.items():
        connection.close()
        connection.settings_dict["OPTIONS"]["init_command"] = BASE + " " + pragmas
        connection.ensure_connection()
        count = p50(lambda: dm.tasks_counts(project=project, query=query), 7)
        page = p50(lambda: dm.tasks_page(project=project, query=query, page=1, size=30), 7)

        def create() -> None:
            task = Task.objects.select_related("project").get(pk=next(free))
            created.append(annotation_create(task=task, user=user, result=RESULT).pk)

        write = p50(create, 60)
        print(f"{name:38} {count:7.1f} {page:7.1f} {write:7.1f}", flush=True)
    # leave the data as it was
    from annotations.services import annotation_delete

    for annotation in Annotation.objects.filter(pk__in=created):
        annotation_delete(annotation=annotation)


if __name__ == "__main__":
    main()
