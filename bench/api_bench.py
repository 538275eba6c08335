"""Import N text tasks (each with one prediction) through the HTTP API, then export
them, and print the rates.

It starts a real server (`labelhub start --no-worker` plus a Celery worker when the
import runs in the background) on a free port against DATABASE_URL (PostgreSQL by
default: the labelhub_bench database), in a fresh data directory.

    .venv/bin/python bench/api_bench.py --tasks 100000 --repeat 3
"""

import argparse
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


def free_port() -> int:
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


def wait_ready(base: str, headers: dict, proc: subprocess.Popen) -> None:
    for _ in range(300):
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/labelhub_bench"
        ),
    )
    args = parser.parse_args()
    port = free_port()
    data_dir = tempfile.mkdtemp(prefix="labelhub-bench-")
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "LABELHUB_DATA_DIR": data_dir,
        "LABELHUB_USERNAME": "bench@example.com",
        "LABELHUB_PASSWORD": "bench-password",
        "LABELHUB_USER_TOKEN": TOKEN,
    }
    bin_dir = Path(sys.executable).parent
    server = subprocess.Popen(
        [str(bin_dir / "labelhub"), "start", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Token {TOKEN}"}
    try:
        wait_ready(base, headers, server)
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
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
