"""Export speed and memory at scale, on PostgreSQL.

Builds a text project of ``--tasks`` tasks (1M by default; each with one choice
completion) and an image project of ``--images`` tasks (100k; each with a completion of
two boxes), with SQL ``INSERT ... SELECT generate_series``. Then, for each format, a
fresh child process streams the export through ``exporters.services.export_stream`` (the
code path of ``GET /api/projects/{id}/export``, bytes consumed and counted, no network)
and reports wall time, tasks/s and its peak RSS (``ru_maxrss``), so one format's memory
does not hide another's. Medians over ``--repeat`` runs.

Each run also reports the load average when it started and the CPU seconds of the
Python process and of its PostgreSQL backend (from /proc), which move far less with the
load of a shared machine than the wall time.

``--before TREE`` (another checkout of LabelHub, e.g. ``git worktree add /tmp/before main``)
runs every measurement as an interleaved pair, that tree's code then this one's, each
in a fresh child (its working directory the tree, since Celery's Django fixup puts the
working directory first on ``sys.path``), and reports both medians and their ratio.

Goals (issue #11): JSON, CSV, JSON_MIN of 1M text tasks under 300 MB peak RSS at
>= 50,000 tasks/s; COCO and YOLO of 100k image tasks at >= 20,000 tasks/s.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/labelhub_bench \\
        .venv/bin/python bench/export_bench.py --tasks 1000000 --images 100000 --repeat 3
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# --tree PATH (a child of --before): measure that checkout's code, not this one's.
TREE = Path(sys.argv[sys.argv.index("--tree") + 1]) if "--tree" in sys.argv else ROOT
sys.path.insert(0, str(TREE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/labelhub_bench")
os.environ.setdefault("LABELHUB_DATA_DIR", "/tmp/labelhub-export-bench")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from annotations.counters import project_counters_refresh  # noqa: E402
from exporters import services  # noqa: E402
from projects.models import Project  # noqa: E402
from projects.services import project_create  # noqa: E402

TEXT = """<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text"
choice="single"><Choice value="Positive"/><Choice value="Negative"/><Choice value="Neutral"/>
</Choices></View>"""
IMAGE = """<View><Image name="image" value="$image"/><RectangleLabels name="label"
toName="image"><Label value="Cat"/><Label value="Dog"/></RectangleLabels></View>"""


def _box(label: str, x: str) -> str:
    return (
        "jsonb_build_object('id', 'r' || g || '" + label + "', 'from_name', 'label', 'to_name', "
        "'image', 'type', 'rectanglelabels', 'original_width', 640, 'original_height', 480, "
        f"'value', jsonb_build_object('x', {x}, 'y', 10, 'width', 15.5, 'height', 20, "
        f"'rotation', 0, 'rectanglelabels', jsonb_build_array('{label}')))"
    )


def build(kind: str, n: int) -> Project:
    title = f"export bench {kind} {n}"
    existing = Project.objects.filter(title=title).first()
    if existing is not None and existing.task_number == n:  # reuse an earlier build
        return existing
    owner, _ = get_user_model().objects.get_or_create(
        username="export-bench", defaults={"email": "export-bench@example.com"}
    )
    project = project_create(
        user=owner, title=title, label_config=TEXT if kind == "text" else IMAGE
    )
    if kind == "text":
        data = "jsonb_build_object('text', 'review number ' || g || ' says something')"
        result = (
            "jsonb_build_array(jsonb_build_object('id', 'c' || g, 'from_name', 'sentiment', "
            "'to_name', 'text', 'type', 'choices', 'value', jsonb_build_object('choices', "
            "jsonb_build_array((ARRAY['Positive','Negative','Neutral'])[(g %% 3) + 1]))))"
        )
    else:
        data = "jsonb_build_object('image', '/data/upload/1/img-' || g || '.jpg')"
        result = f"jsonb_build_array({_box('Cat', '(g %% 50)')}, {_box('Dog', '(g %% 30) + 40')})"
    started = time.monotonic()
    with connection.cursor() as cursor, transaction.atomic():
        cursor.execute(
            f"""
            INSERT INTO tasks_task (project_id, data, meta, is_labeled, total_annotations,
                cancelled_annotations, total_predictions, created_at, updated_at)
            SELECT %s, {data}, '{{}}'::jsonb, true, 1, 0, 0, now(), now()
            FROM generate_series(1, %s) g
            """,
            [project.pk, n],
        )
        cursor.execute(
            f"""
            INSERT INTO annotations_annotation (task_id, project_id, completed_by_id, result,
                was_cancelled, ground_truth, lead_time, created_at, updated_at)
            SELECT t.id, %s, %s, {result}, false, false, 2.5, now(), now()
            FROM (SELECT id, id AS g FROM tasks_task WHERE project_id = %s) t
            """,
            [project.pk, owner.pk, project.pk],
        )
        cursor.execute("ANALYZE tasks_task; ANALYZE annotations_annotation")
    project_counters_refresh(project_id=project.pk)
    print(f"built {kind} project {project.pk}: {n} tasks in {time.monotonic() - started:.1f} s")
    return project


def _backend_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a local PostgreSQL backend, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # a server on another machine
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(project_id: int, export_type: str) -> None:
    """Child process: stream one export, print {seconds, bytes, rss_mb, cpu, load}."""
    import exporters

    assert Path(exporters.__file__).resolve().is_relative_to(TREE.resolve()), exporters.__file__
    project = Project.objects.get(pk=project_id)
    options = services.ExportOptions(export_type=export_type)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    load = os.getloadavg()[0]
    server = _backend_cpu(backend)
    cpu = time.process_time()
    started = time.monotonic()
    size = 0
    for chunk in services.export_stream(project=project, options=options):
        size += len(chunk)
    seconds = time.monotonic() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": seconds,
                "bytes": size,
                "rss_mb": rss_mb,
                "python_cpu_s": time.process_time() - cpu,
                "server_cpu_s": _backend_cpu(backend) - server,
                "load": load,
            }
        )
    )


def _child(project: Project, export_type: str, tree: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", str(project.pk), export_type, "--tree", str(tree)],
        check=True,
        capture_output=True,
        text=True,
        cwd=tree,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _summary(runs: list[dict], n: int) -> dict:
    seconds = statistics.median(r["seconds"] for r in runs)
    return {
        "median_s": round(seconds, 2),
        "tasks_per_s": round(n / seconds),
        "peak_rss_mb": round(max(r["rss_mb"] for r in runs), 1),
        "python_cpu_s": round(statistics.median(r["python_cpu_s"] for r in runs), 2),
        "server_cpu_s": round(statistics.median(r["server_cpu_s"] for r in runs), 2),
        "mb": round(runs[0]["bytes"] / 1e6, 1),
        "load": [round(min(r["load"] for r in runs), 1), round(max(r["load"] for r in runs), 1)],
    }


def run(project: Project, export_type: str, n: int, repeat: int, before: Path | None) -> dict:
    runs: list[dict] = []
    before_runs: list[dict] = []
    for _ in range(repeat):
        if before is not None:
            before_runs.append(_child(project, export_type, before))
            print("  before", json.dumps(before_runs[-1]), flush=True)
        runs.append(_child(project, export_type, ROOT))
        print("  after ", json.dumps(runs[-1]), flush=True)
    row = {"format": export_type, "tasks": n, **_summary(runs, n)}
    if before is not None:
        row["before"] = _summary(before_runs, n)
        row["speedup"] = round(row["before"]["median_s"] / row["median_s"], 2)
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--formats", default="JSON,CSV,JSON_MIN,COCO,YOLO", help="comma-separated subset"
    )
    parser.add_argument("--measure", nargs=2, metavar=("PROJECT", "FORMAT"))
    parser.add_argument("--tree", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--before", type=Path, help="another LabelHub checkout: interleaved before/after pairs"
    )
    args = parser.parse_args()
    if args.measure:
        measure(int(args.measure[0]), args.measure[1])
        return
    rows = []
    formats = args.formats.split(",")
    text_formats = [f for f in ("JSON", "CSV", "JSON_MIN") if f in formats]
    image_formats = [f for f in ("COCO", "YOLO") if f in formats]
    if text_formats:
        text = build("text", args.tasks)
        for fmt in text_formats:
            rows.append(run(text, fmt, args.tasks, args.repeat, args.before))
    if image_formats:
        images = build("image", args.images)
        for fmt in image_formats:
            rows.append(run(images, fmt, args.images, args.repeat, args.before))
    out = Path(os.environ.get("BENCH_OUT", ROOT / "bench" / "out"))
    out.mkdir(parents=True, exist_ok=True)
    (out / "export_bench.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
