"""The steps of ``api_bench.py --client`` that are closest to the 20x line, in process:
each request through Django's whole stack (middleware, authentication, the view, the
renderer) with the Django test client, timed (p50 of ``--samples``) and with its SQL
statements counted; ``--profile STEP`` prints a cProfile profile (cumulative, then own time) of that step.

It builds, once, the bench's project in a SQLite data directory (10k text tasks with one
prediction each, ``--annotations`` of them annotated), as the embedded default keeps it:

    DATABASE_URL= .venv/bin/python bench/request_profile.py [--data-dir /tmp/lh-prof]
    DATABASE_URL= .venv/bin/python bench/request_profile.py --profile next

Steps: ``next`` (GET /api/projects/{id}/next/), ``last`` (the task list's last page of
30), ``first`` (its first page), ``create`` (POST /api/tasks/{id}/annotations/),
``export`` (the JSON export of all tasks, read to its end; not in the default steps).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default="/tmp/labelhub-request-profile")
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--annotations", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--profile", choices=("next", "last", "first", "create", "export"))
    parser.add_argument("--steps", default="next,last,first,create")
    args = parser.parse_args()
    os.environ["LABELHUB_DATA_DIR"] = args.data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
    import django

    django.setup()
    from api_bench import CONFIG, TOKEN, payload
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from projects.models import Project
    from projects.services import admin_ensure

    call_command("migrate", interactive=False, verbosity=0)
    admin_ensure(email="bench@example.com", password="bench-password", token=TOKEN)
    client = Client(HTTP_AUTHORIZATION=f"Token {TOKEN}")
    project = Project.objects.filter(title="profile").first()
    if project is None:
        pid = client.post(
            "/api/projects/",
            {"title": "profile", "label_config": CONFIG},
            content_type="application/json",
        ).json()["id"]
        response = client.post(
            f"/api/projects/{pid}/import", payload(args.tasks), content_type="application/json"
        )
        assert response.status_code == 201, response.content[:300]
        ids = [
            t["id"]
            for t in client.get(f"/api/tasks/?project={pid}&page_size={args.annotations}").json()[
                "tasks"
            ]
        ]
        for task_id in ids:
            client.post(
                f"/api/tasks/{task_id}/annotations/",
                {"result": _result("Positive"), "lead_time": 3.5},
                content_type="application/json",
            )
    else:
        pid = project.pk
    from tasks.models import Task

    fresh = iter(
        Task.objects.filter(project_id=pid, total_annotations=0)
        .order_by("-id")
        .values_list("id", flat=True)
    )
    last = (args.tasks + 29) // 30

    def step(name: str):
        if name == "next":
            return client.get(f"/api/projects/{pid}/next/")
        if name == "last":
            return client.get(f"/api/tasks/?project={pid}&page={last}&page_size=30")
        if name == "first":
            return client.get(f"/api/tasks/?project={pid}&page=1&page_size=30")
        if name == "export":
            response = client.get(
                f"/api/projects/{pid}/export?exportType=JSON&download_all_tasks=true"
            )
            response.body = b"".join(response.streaming_content)
            return response
        return client.post(
            f"/api/tasks/{next(fresh)}/annotations/",
            {"result": _result("Negative"), "lead_time": 3.5},
            content_type="application/json",
        )

    if args.profile:
        import cProfile
        import pstats

        for _ in range(5):
            step(args.profile)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.samples):
            step(args.profile)
        profiler.disable()
        stats = pstats.Stats(profiler).strip_dirs()
        stats.sort_stats("cumulative").print_stats(int(os.environ.get("PROFILE_LINES", 60)))
        stats.sort_stats("tottime").print_stats(30)
        return
    load = os.getloadavg()[0]
    print(f"load average {load:.1f}")
    for name in args.steps.split(","):
        for _ in range(5):
            step(name)
        queries: list[str] = []

        def record(execute, sql, params, many, context, queries=queries):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            response = step(name)
        assert response.status_code in (200, 201), (name, response.status_code)
        samples, cpu = [], []
        for _ in range(args.samples):
            started, started_cpu = time.perf_counter(), time.process_time()
            step(name)
            samples.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        print(
            f"{name:8} p50 {statistics.median(samples) * 1000:6.2f} ms  "
            f"min {min(samples) * 1000:6.2f} ms  CPU p50 {statistics.median(cpu) * 1000:6.2f} ms  "
            f"{len(queries)} statements, {len(getattr(response, 'body', None) or response.content)} bytes"
        )
        if os.environ.get("SHOW_SQL"):
            for query in queries:
                print("   ", query[:300])


def _result(label: str) -> list:
    return [
        {
            "id": "r1",
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [label]},
        }
    ]


if __name__ == "__main__":
    main()
