"""Import N text tasks (each with one prediction) through the HTTP API, then export
them, and print the rates; or, with ``--client``, run the Label-Studio-style client of
issue #14 step by step.

It starts a real server (`labelhub start`: gunicorn and a Celery worker) on a free port
against ``--database-url`` (PostgreSQL by default: the labelhub_bench database; ``""``
for the embedded SQLite default), in a fresh data directory.

    .venv/bin/python bench/api_bench.py --tasks 100000 --repeat 3
    .venv/bin/python bench/api_bench.py --client --database-url "" --tasks 10000

The client (``--client``) does what a Label Studio script does, with the same calls:
create a project (p50 of 20), import N tasks with predictions in one call, 1,000
annotation POSTs (p50), the task list's first and last page (p50 of 20 each), the Data
Manager filter "annotation results contain Positive" first and last page and its Found
count, the next task (p50 of 50), and a JSON export of all tasks. Each step prints
seconds (or ms).

``--label-studio BIN`` runs the same client, in the same run, against Label Studio
(``BIN`` is its ``label-studio`` command in a venv of its own, e.g. the compat harness's:
``bash scripts/compat/setup.sh`` makes ``.cache/compat-venv/bin/label-studio`` with the
pins Label Studio needs today, see scripts/compat/requirements.txt), started on
its own embedded default (SQLite, a fresh data directory, legacy API tokens on), and
prints both columns with the ratio LS / LabelHub. With ``--client``, ``--repeat R`` runs
R rounds, each against fresh servers (LabelHub, then Label Studio), and prints the medians
over the rounds, the ratio of the medians and the range of the rounds' ratios. The Found
count is each server's own call: LabelHub's Data Manager asks ``/api/dm/count/``, Label
Studio's reads ``total`` from ``/api/tasks/``. ``--port P`` puts LabelHub on P and Label
Studio on P + 1 (a free port each by default). ``--before TREE`` starts each round with
another checkout's code (e.g. ``git archive main | tar -x -C TREE``) on this venv, and adds
its medians as a "before" column.

    .venv/bin/python bench/api_bench.py --client --database-url "" --tasks 10000 \
        --label-studio .cache/compat-venv/bin/label-studio
"""

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
import requests

ROOT = Path(__file__).resolve().parent.parent
CONFIG = (
    '<View><Text name="text" value="$text"/>'
    '<Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>'
    "</View>"
)
TOKEN = "bench0123456789abcdef0123456789abcdef012"


PORT: int | None = None  # --port


def free_port(offset: int = 0) -> int:
    if PORT is not None:
        return PORT + offset
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def payload(n: int) -> bytes:
    return orjson.dumps(
        [
            {
                "data": {"text": f"Task number {i}: the quick brown fox jumps over the lazy dog."},
                "predictions": [
                    {
                        "model_version": "bench",
                        "score": (i % 100) / 100,
                        "result": [
                            {
                                "id": f"p{i}",
                                "from_name": "sentiment",
                                "to_name": "text",
                                "type": "choices",
                                "value": {"choices": ["Positive" if i % 2 else "Negative"]},
                            }
                        ],
                    }
                ],
            }
            for i in range(n)
        ]
    )


def wait_ready(base: str, headers: dict, proc: subprocess.Popen, timeout: float = 600) -> None:
    """Until the server answers (Label Studio migrates a new database first: 20-60 s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the server exited during start-up")
        try:
            if requests.get(f"{base}/api/version/", headers=headers, timeout=30).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not start")


def run_once(base: str, headers: dict, body: bytes, n: int) -> tuple[float, float]:
    project = requests.post(
        f"{base}/api/projects/", json={"title": "bench", "label_config": CONFIG}, headers=headers
    ).json()
    started = time.perf_counter()
    response = requests.post(
        f"{base}/api/projects/{project['id']}/import",
        data=body,
        headers={**headers, "Content-Type": "application/json"},
        timeout=3600,
    )
    response.raise_for_status()
    job = response.json()
    if "import" in job:  # a background import: poll until it lands
        while True:
            status = requests.get(
                f"{base}/api/projects/{project['id']}/imports/{job['import']}/", headers=headers
            ).json()
            if status["status"] in ("completed", "failed"):
                break
            time.sleep(0.2)
        assert status["status"] == "completed", status
    import_seconds = time.perf_counter() - started
    visible = requests.get(
        f"{base}/api/tasks/?project={project['id']}&page_size=1", headers=headers
    ).json()["total"]
    assert visible == n, (visible, n)

    started = time.perf_counter()
    size = 0
    with requests.get(
        f"{base}/api/projects/{project['id']}/export?exportType=JSON&download_all_tasks=true",
        headers=headers,
        stream=True,
        timeout=3600,
    ) as export:
        export.raise_for_status()
        for chunk in export.iter_content(1 << 20):
            size += len(chunk)
    export_seconds = time.perf_counter() - started
    requests.delete(f"{base}/api/projects/{project['id']}/", headers=headers)
    return import_seconds, export_seconds


# Samples of each quick step (project create, the task list's pages): 20, not 5 as until
# 2026-12-07. On a 2-core VM a single slow period moved the median of 5 by a third in
# either column; 20 cost Label Studio about 5 s more per run.
SAMPLES = 20


def _timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def client_run(
    base: str, headers: dict, n: int, annotations: int, label_studio: bool = False
) -> dict:
    """The Label-Studio-style client; returns {step: seconds (a median where repeated)}."""
    s = requests.Session()
    s.headers.update(headers)
    out: dict[str, float] = {}
    creates = []
    for i in range(SAMPLES):
        seconds, response = _timed(
            lambda i=i: s.post(
                f"{base}/api/projects/", json={"title": f"client {i}", "label_config": CONFIG}
            )
        )
        response.raise_for_status()
        creates.append(seconds)
        project = response.json()
    out[f"create a project (p50 of {SAMPLES})"] = statistics.median(creates)
    pid = project["id"]
    body = payload(n)
    seconds, _ = _timed(lambda: _import(s, base, pid, body))
    out[f"import {n} tasks with predictions, one call"] = seconds
    ids = [
        t["id"]
        for t in s.get(f"{base}/api/tasks/?project={pid}&page_size={annotations}").json()["tasks"]
    ]
    posts = []
    for i, task_id in enumerate(ids[:annotations]):
        result = [
            {
                "id": f"a{i}",
                "from_name": "sentiment",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": ["Positive" if i % 3 == 0 else "Negative"]},
            }
        ]
        seconds, response = _timed(
            lambda t=task_id, r=result: s.post(
                f"{base}/api/tasks/{t}/annotations/", json={"result": r, "lead_time": 3.5}
            )
        )
        assert response.status_code == 201, response.text[:300]
        posts.append(seconds)
    out[f"create an annotation (p50 of {len(posts)})"] = statistics.median(posts)
    last = (n + 29) // 30
    for name, url in (
        (
            f"task list, first page (p50 of {SAMPLES})",
            f"/api/tasks/?project={pid}&page=1&page_size=30",
        ),
        (
            f"task list, last page (p50 of {SAMPLES})",
            f"/api/tasks/?project={pid}&page={last}&page_size=30",
        ),
    ):
        samples = [
            _timed(lambda u=url: s.get(base + u).raise_for_status())[0] for _ in range(SAMPLES)
        ]
        out[name] = statistics.median(samples)
    contains = {
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
    view = s.post(
        f"{base}/api/dm/views/", json={"project": pid, "data": {**contains, "title": "Positive"}}
    )
    q = orjson.dumps(contains).decode()

    def found_count() -> int:
        if label_studio:  # its Data Manager reads the total of the task list
            params = {"project": pid, "query": q, "page_size": 1}
            return s.get(f"{base}/api/tasks/", params=params).json()["total"]
        return s.get(f"{base}/api/dm/count/", params={"project": pid, "query": q}).json()["total"]

    found = found_count()
    last_filtered = max(1, (found + 29) // 30)
    steps = [
        ("DM filter 'annotation results contain Positive', first page", {"query": q, "page": 1}),
        ("the same filter, last page", {"query": q, "page": last_filtered}),
    ]
    if view.ok:
        steps.append(
            (
                "the same filter through a saved view, last page",
                {"view": view.json()["id"], "page": last_filtered},
            )
        )
    for name, params in steps:
        samples = []
        for _ in range(5):
            seconds, response = _timed(
                lambda p=params: s.get(
                    f"{base}/api/tasks/", params={"project": pid, "page_size": 30, **p}
                )
            )
            response.raise_for_status()
            samples.append(seconds)
        out[name] = statistics.median(samples)
    out["its Found count"] = statistics.median(_timed(found_count)[0] for _ in range(5))
    nexts = []
    for _ in range(50):
        seconds, response = _timed(lambda: s.get(f"{base}/api/projects/{pid}/next/"))
        assert response.status_code in (200, 404), response.text[:300]
        nexts.append(seconds)
    out["next task (p50 of 50)"] = statistics.median(nexts)
    seconds, size = _timed(lambda: _export(s, base, pid))
    print(f"export: {size / 1e6:.1f} MB; filter found {found}", flush=True)
    out["export JSON, all tasks"] = seconds
    return out


def _figure(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1000:.1f} ms"


def _import(s, base: str, pid: int, body: bytes) -> None:
    response = s.post(
        f"{base}/api/projects/{pid}/import",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=3600,
    )
    response.raise_for_status()
    job = response.json()
    if "import" in job:
        while True:
            status = s.get(f"{base}/api/projects/{pid}/imports/{job['import']}/").json()
            if status["status"] in ("completed", "failed"):
                break
            time.sleep(0.05)
        assert status["status"] == "completed", status


def _export(s, base: str, pid: int) -> int:
    size = 0
    with s.get(
        f"{base}/api/projects/{pid}/export?exportType=JSON&download_all_tasks=true",
        stream=True,
        timeout=3600,
    ) as export:
        export.raise_for_status()
        for chunk in export.iter_content(1 << 20):
            size += len(chunk)
    return size


@contextlib.contextmanager
def labelhub_server(database_url: str, tree: Path | None = None):
    """``labelhub start`` on a free port in a fresh data directory: (base URL, headers).
    ``tree``: another checkout's code (first on PYTHONPATH, and the working directory,
    which gunicorn puts first on its path) with this venv."""
    port = free_port()
    env = {
        **os.environ,
        **({"PYTHONPATH": str(tree)} if tree else {}),
        "DATABASE_URL": database_url,
        "LABELHUB_DATA_DIR": tempfile.mkdtemp(prefix="labelhub-bench-"),
        "LABELHUB_USERNAME": "bench@example.com",
        "LABELHUB_PASSWORD": "bench-password",
        "LABELHUB_USER_TOKEN": TOKEN,
    }
    bin_dir = Path(sys.executable).parent
    server = subprocess.Popen(
        [str(bin_dir / "labelhub"), "start", "--port", str(port)],
        env=env,
        cwd=tree or ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with _running(server, f"http://127.0.0.1:{port}") as base:
        yield base, {"Authorization": f"Token {TOKEN}"}


@contextlib.contextmanager
def label_studio_server(command: str):
    """``label-studio start`` on its embedded default (SQLite) in a fresh data directory,
    with the legacy token API on (1.23 turns it off for new organizations)."""
    port = free_port(1)
    if os.sep in command:  # a path, run from the data directory below
        command = os.path.abspath(command)
    data_dir = tempfile.mkdtemp(prefix="label-studio-bench-")
    log = open(Path(data_dir) / "label-studio.log", "wb")
    server = subprocess.Popen(
        [command, "start", "--no-browser", "--port", str(port), "--data-dir", data_dir,
         "--username", "bench@example.com", "--password", "bench-password",
         "--user-token", TOKEN, "--enable-legacy-api-token"],
        env={**os.environ, "LABEL_STUDIO_BASE_DATA_DIR": data_dir, "DATABASE_URL": ""},
        cwd=data_dir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    print(f"Label Studio's log: {log.name}", flush=True)
    with _running(server, f"http://127.0.0.1:{port}", timeout=1800) as base:
        yield base, {"Authorization": f"Token {TOKEN}"}


@contextlib.contextmanager
def _running(server: subprocess.Popen, base: str, timeout: float = 600):
    try:
        wait_ready(base, {"Authorization": f"Token {TOKEN}"}, server, timeout=timeout)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument(
        "--repeat", type=int, default=3, help="import/export runs, or --client rounds"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/labelhub_bench"
        ),
    )
    parser.add_argument("--client", action="store_true", help="the Label-Studio-style client")
    parser.add_argument("--annotations", type=int, default=1000)
    parser.add_argument(
        "--label-studio",
        metavar="BIN",
        help="with --client: also run it against Label Studio's `label-studio` command",
    )
    parser.add_argument("--port", type=int, help="LabelHub's port; Label Studio's is one more")
    parser.add_argument(
        "--before",
        metavar="TREE",
        help="with --client: each round also runs another checkout's code first (PYTHONPATH)",
    )
    args = parser.parse_args()
    global PORT
    PORT = args.port
    if args.client:
        client_main(args)
        return
    with labelhub_server(args.database_url) as (base, headers):
        body = payload(args.tasks)
        print(f"{args.tasks} tasks with one prediction each, {len(body) / 1e6:.1f} MB of JSON")
        imports, exports = [], []
        for run in range(args.repeat):
            import_s, export_s = run_once(base, headers, body, args.tasks)
            imports.append(import_s)
            exports.append(export_s)
            print(
                f"run {run + 1}: import {import_s:.2f}s ({args.tasks / import_s:,.0f} tasks/s), "
                f"export {export_s:.2f}s ({args.tasks / export_s:,.0f} tasks/s)",
                flush=True,
            )
        imp, exp = statistics.median(imports), statistics.median(exports)
        print(
            f"median: import {imp:.2f}s = {args.tasks / imp:,.0f} tasks/s; "
            f"export {exp:.2f}s = {args.tasks / exp:,.0f} tasks/s"
        )


def client_main(args) -> None:
    """``--repeat`` rounds of the client, each against fresh servers: LabelHub, then Label
    Studio when asked (so both halves of a round share the machine's load of the moment).
    Prints each round's LabelHub column, then the medians of every step over the rounds and
    the ratio of the medians, with the range of the rounds' own ratios."""
    database = "SQLite" if not args.database_url else "PostgreSQL"
    print(f"Label-Studio-style client, {args.tasks} tasks, {database}", flush=True)
    ours: list[dict] = []
    theirs: list[dict] = []
    before: list[dict] = []
    loads: list[str] = []
    for round_ in range(args.repeat):
        if args.before:
            with labelhub_server(args.database_url, Path(args.before)) as (base, headers):
                before.append(client_run(base, headers, args.tasks, args.annotations))
            print(f"| step | before ({args.before}), round {round_ + 1} |\n|---|---|")
            for step, seconds in before[-1].items():
                print(f"| {step} | {_figure(seconds)} |", flush=True)
        with labelhub_server(args.database_url) as (base, headers):
            ours.append(client_run(base, headers, args.tasks, args.annotations))
        load = f"{os.getloadavg()[0]:.1f}"
        print(f"| step | LabelHub, round {round_ + 1} (load {load}) |\n|---|---|")
        for step, seconds in ours[-1].items():
            print(f"| {step} | {_figure(seconds)} |", flush=True)
        if args.label_studio:
            with label_studio_server(args.label_studio) as (base, headers):
                theirs.append(
                    client_run(base, headers, args.tasks, args.annotations, label_studio=True)
                )
            load += f"/{os.getloadavg()[0]:.1f}"
            print(f"| step | Label Studio, round {round_ + 1} (load {load}) |\n|---|---|")
            for step, seconds in theirs[-1].items():
                print(f"| {step} | {_figure(seconds)} |", flush=True)
        loads.append(load)
    print(f"medians of {args.repeat} rounds; load average after each half: {', '.join(loads)}")
    if not theirs:
        print("| step | LabelHub |" + (" before |" if before else ""))
        print("|---|---|" + ("---|" if before else ""))
        for step in ours[0]:
            line = f"| {step} | {_figure(statistics.median(r[step] for r in ours))} |"
            if before:
                line += f" {_figure(statistics.median(r[step] for r in before))} |"
            print(line)
        return
    head = "| step | Label Studio | LabelHub | LS / LabelHub | rounds |"
    if before:
        head += " before | LS / before |"
    print(head + "\n|" + "---|" * (head.count("|") - 1))
    for step in ours[0]:
        mine = statistics.median(r[step] for r in ours)
        other = statistics.median(r[step] for r in theirs)
        ratios = [t[step] / o[step] for o, t in zip(ours, theirs, strict=True)]
        line = (
            f"| {step} | {_figure(other)} | {_figure(mine)} | {other / mine:.1f}x "
            f"| {min(ratios):.1f}-{max(ratios):.1f}x |"
        )
        if before:
            old = statistics.median(r[step] for r in before)
            line += f" {_figure(old)} | {other / old:.1f}x |"
        print(line, flush=True)


if __name__ == "__main__":
    main()
