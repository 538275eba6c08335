"""Bulk import, end to end through the HTTP API of a real server.

Starts ``labelhub start`` (gunicorn + a Celery worker, as users run it) against
DATABASE_URL and REDIS_URL (PostgreSQL and Redis), or with ``--embedded`` on the embedded
default (SQLite and the filesystem broker in a throwaway data folder), writes a JSON file of N text tasks with one prediction each
(not timed), then for each run:

1. creates a project through the API;
2. POSTs the whole file in ONE request to ``/api/projects/{id}/import`` (streamed from
   disk; the server answers ``{"import": id}`` and runs a background job);
3. polls ``GET /api/projects/{id}/imports/{import_id}/`` until the job ends;
4. checks through ``GET /api/tasks/?project=`` that all N tasks are visible.

The total time runs from the start of the POST to the completed status. A sampler
thread adds up the resident memory (RSS) of every process of the server (gunicorn master
and workers, Celery worker and its children) every 50 ms; the peak is reported, with the
idle baseline. PostgreSQL's own processes are not counted.

    make bench BENCH=bench/import_bench.py ARGS="--tasks 1000000 --runs 3"
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/labelhub_bench \\
    REDIS_URL=redis://127.0.0.1:6379/1 .venv/bin/python bench/import_bench.py --tasks 1000000
    .venv/bin/python bench/import_bench.py --embedded --tasks 1000000 --runs 1

Prints one line per run and the medians; writes them to $BENCH_OUT/import_bench.json.
"""

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson
import requests

ROOT = Path(__file__).resolve().parent.parent
CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single">
    <Choice value="Positive"/><Choice value="Negative"/><Choice value="Neutral"/>
  </Choices>
</View>"""
LABELS = ["Positive", "Negative", "Neutral"]
TOKEN = "bench" + "0123456789abcdef" * 2


def write_tasks(path: Path, n: int) -> None:
    """N tasks, each with one choices prediction; ids and scores vary as a model's do."""
    rng = random.Random(1)
    with open(path, "wb") as out:
        out.write(b"[")
        for i in range(n):
            record = {
                "data": {
                    "text": f"Review {i}: the product was {rng.choice(['great', 'bad', 'fine'])} "
                    f"and the delivery took {i % 17} days."
                },
                "predictions": [
                    {
                        "model_version": "bench-v1",
                        "score": round(rng.random(), 4),
                        "result": [
                            {
                                "id": f"r{i}",
                                "from_name": "sentiment",
                                "to_name": "text",
                                "type": "choices",
                                "value": {"choices": [rng.choice(LABELS)]},
                            }
                        ],
                    }
                ],
            }
            if i:
                out.write(b",\n")
            out.write(orjson.dumps(record))
        out.write(b"]")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def tree_rss(root: int) -> dict[int, tuple[str, float, float]]:
    """{pid: (role, RSS in MB, PSS in MB)} for a process and all its descendants.

    ``labelhub start`` forks its children, which share the loaded code: the RSS sum counts
    those pages once per process, the PSS sum (each page shared among its mappers) once."""
    tree = _children()
    pids, out = [root], {}
    while pids:
        pid = pids.pop()
        pids.extend(tree.get(pid, []))
        try:
            values = {
                parts[0]: int(parts[1]) / 1024
                for parts in map(
                    str.split, Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
                )
                if parts and parts[0] in ("Rss:", "Pss:")
            }
            name = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue
        role = {"labelhub-web": "web", "labelhub-worker": "worker", "labelhub-hooks": "hooks"}.get(
            name, "launcher"
        )
        out[pid] = (role, values.get("Rss:", 0.0), values.get("Pss:", 0.0))
    return out


def tree_rss_mb(root: int) -> float:
    return sum(rss for _role, rss, _pss in tree_rss(root).values())


def tree_pss_mb(root: int) -> float:
    return sum(pss for _role, _rss, pss in tree_rss(root).values())


class Sampler(threading.Thread):
    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peak = 0.0
        self.peak_pss = 0.0
        self.at_peak: dict[str, float] = {}
        self.pss_at_peak: dict[str, float] = {}
        self.process_peaks: dict[int, tuple[str, float]] = {}  # pid: (role, peak RSS)
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            processes = tree_rss(self.root)
            total = sum(rss for _role, rss, _pss in processes.values())
            for pid, (role, rss, _pss) in processes.items():
                if rss > self.process_peaks.get(pid, (role, 0.0))[1]:
                    self.process_peaks[pid] = (role, rss)
            pss_total = sum(pss for _r, _rss, pss in processes.values())
            if pss_total > self.peak_pss:
                self.peak_pss = pss_total
                self.pss_at_peak = {}
                for role, _rss, pss in processes.values():
                    self.pss_at_peak[role] = round(self.pss_at_peak.get(role, 0) + pss)
            if total > self.peak:
                self.peak = total
                self.at_peak = {}
                for role, rss, _pss in processes.values():
                    self.at_peak[role] = round(self.at_peak.get(role, 0) + rss)
            time.sleep(0.05)

    def stop(self) -> float:
        self.stopped.set()
        self.join()
        return self.peak


def start_server(port: int, data_dir: Path, log: Path) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).parent / "labelhub"),
        "start",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--username",
        "bench@example.com",
        "--password",
        "bench-password-1",
        "--user-token",
        TOKEN,
    ]
    proc = subprocess.Popen(
        command,
        stdout=open(log, "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=dict(os.environ),
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/api/version/", headers=HEADERS, timeout=2).ok:
                return proc
        except requests.RequestException:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"the server exited; see {log}")
        time.sleep(0.3)
    raise SystemExit(f"the server did not answer in 180 s; see {log}")


HEADERS = {"Authorization": f"Token {TOKEN}"}


def one_run(base: str, path: Path, n: int, server: subprocess.Popen) -> dict:
    project = requests.post(
        f"{base}/api/projects/",
        headers=HEADERS,
        timeout=60,
        json={"title": f"import bench {n}", "label_config": CONFIG},
    ).json()
    pid = project["id"]
    idle = tree_rss_mb(server.pid)
    idle_pss = tree_pss_mb(server.pid)
    sampler = Sampler(server.pid)
    sampler.start()
    started = time.monotonic()
    with open(path, "rb") as body:
        response = requests.post(
            f"{base}/api/projects/{pid}/import",
            data=body,
            timeout=600,
            headers={**HEADERS, "Content-Type": "application/json"},
        )
    uploaded = time.monotonic() - started
    response.raise_for_status()
    import_id = response.json()["import"]
    status_url = f"{base}/api/projects/{pid}/imports/{import_id}/"
    while True:
        status = requests.get(status_url, headers=HEADERS, timeout=60).json()
        if status["status"] in ("completed", "failed"):
            break
        time.sleep(0.1)
    total = time.monotonic() - started
    peak = sampler.stop()
    if status["status"] != "completed":
        raise SystemExit(f"the import failed: {status['detail']}")
    listed = requests.get(
        f"{base}/api/tasks/",
        headers=HEADERS,
        timeout=120,
        params={"project": pid, "page_size": 1, "totals": "true"},
    ).json()
    visible = listed.get("total")
    assert status["task_count"] == n and status["prediction_count"] == n, status
    assert visible in (None, n), f"{visible} tasks visible, expected {n}"
    return {
        "project": pid,
        "tasks": n,
        "upload_s": round(uploaded, 2),
        "job_s": status["duration"],
        "total_s": round(total, 2),
        "rate_per_s": round(n / total),
        "peak_rss_mb": round(peak),
        "idle_rss_mb": round(idle),
        "peak_pss_mb": round(sampler.peak_pss),
        "idle_pss_mb": round(idle_pss),
        "peak_by_role_mb": sampler.at_peak,
        "peak_pss_by_role_mb": sampler.pss_at_peak,
        "process_peaks_mb": sorted(
            (role, round(rss)) for role, rss in sampler.process_peaks.values()
        ),
        "visible": visible,
    }


def _connect():
    import psycopg2

    return psycopg2.connect(os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1))


def drop_project_rows(project_id: int) -> None:
    """Delete a run's rows with SQL and vacuum (not timed), so that every run starts from
    the same tables and the server does not spend memory deleting a million objects."""
    conn = _connect()
    conn.autocommit = True
    with conn.cursor() as cur:
        for table in (
            "annotations_resultlabel",  # the result index (before the rows it points at)
            "annotations_prediction",
            "annotations_annotation",
            "tasks_task",
        ):
            cur.execute(f"DELETE FROM {table} WHERE project_id = %s", [project_id])
        for table in ("annotations_prediction", "annotations_annotation", "tasks_task"):
            cur.execute(f"VACUUM ANALYZE {table}")
    conn.close()


def fk_mode() -> str:
    with _connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = cur.fetchone()[0]
    return (
        "per-row FK triggers skipped (superuser)"
        if superuser
        else "FK triggers run (or granted SET)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the projects afterwards")
    parser.add_argument(
        "--port", type=int, default=0, help="the server's port (default: a free one)"
    )
    parser.add_argument(
        "--embedded",
        action="store_true",
        help="SQLite and the filesystem broker (labelhub start's default), not DATABASE_URL",
    )
    args = parser.parse_args()
    if args.embedded:
        for name in ("DATABASE_URL", "REDIS_URL"):
            os.environ.pop(name, None)
    elif not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit(
            "Set DATABASE_URL to a PostgreSQL database (make bench does), or --embedded."
        )
    else:
        os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/1")
    out_dir = Path(os.environ.get("BENCH_OUT") or ROOT / "bench" / "out")
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="import-bench-", dir=os.environ.get("BENCH_TMP")))
    path = out_dir / f"import-{args.tasks}.json"
    if not path.exists():
        started = time.monotonic()
        write_tasks(path, args.tasks)
        print(
            f"wrote {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.monotonic() - started:.1f}s"
        )
    port = args.port or free_port()
    server = start_server(port, work / "data", work / "server.log")
    base = f"http://127.0.0.1:{port}"
    results = []
    try:
        database = "SQLite (embedded default)" if args.embedded else fk_mode()
        print(f"server up on {base}; {database}; load average {os.getloadavg()[0]:.2f}")
        for run in range(args.runs):
            result = one_run(base, path, args.tasks, server)
            results.append(result)
            print(
                f"run {run + 1}: {result['tasks']} tasks+predictions in {result['total_s']}s "
                f"(upload {result['upload_s']}s, job {result['job_s']:.1f}s) = "
                f"{result['rate_per_s']} tasks/s; peak RSS web+worker {result['peak_rss_mb']} MB "
                f"(idle {result['idle_rss_mb']} MB; at peak {result['peak_by_role_mb']}); "
                f"peak PSS {result['peak_pss_mb']} MB (idle {result['idle_pss_mb']} MB; "
                f"at peak {result['peak_pss_by_role_mb']}); "
                f"each process's own peak RSS {result['process_peaks_mb']}; "
                f"load average {os.getloadavg()[0]:.2f}",
                flush=True,
            )
            if not args.keep:
                if not args.embedded:
                    drop_project_rows(result["project"])
                requests.delete(
                    f"{base}/api/projects/{result['project']}/", headers=HEADERS, timeout=600
                )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    summary = {
        "tasks": args.tasks,
        "runs": results,
        "median_total_s": statistics.median(r["total_s"] for r in results),
        "median_rate_per_s": statistics.median(r["rate_per_s"] for r in results),
        "median_peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in results),
    }
    print(
        f"median of {len(results)}: {summary['median_total_s']:.1f}s, "
        f"{summary['median_rate_per_s']:.0f} tasks/s, peak RSS {summary['median_peak_rss_mb']:.0f} MB"
    )
    (out_dir / "import_bench.json").write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
