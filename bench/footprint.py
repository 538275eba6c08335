"""Memory at rest: every process of a running server, its RSS and PSS, and the sums.

Starts ``labelhub start`` on the embedded default (SQLite and a throwaway data folder, no
Redis or PostgreSQL: what ``make run`` starts), waits until it answers and has been idle
for a while, then reads ``/proc/<pid>/smaps_rollup`` for the launcher and every process
below it. PSS (proportional set size) shares each page among the processes that map it,
so the PSS sum is the tree's real cost; the RSS sum counts shared pages once per process.

It also times the clean stop: SIGTERM to the launcher, as Ctrl+C in ``make run`` sends,
until every process of the tree has exited; and ``django.setup()`` in fresh interpreters,
beside its floor (the same call with Django's contrib apps only, then with the
third-party apps too) and, with ``--before``, another checkout's.

    .venv/bin/python bench/footprint.py                 # LabelHub
    .venv/bin/python bench/footprint.py --label-studio  # and Label Studio 1.23.2 beside it
                                                        # (from .cache/compat-venv: make compat)
    .venv/bin/python bench/footprint.py --setup-only --setup-runs 15 --before /tmp/before \
        [--database-url postgres://...]                 # django.setup() only

Prints a table per server and writes $BENCH_OUT/footprint.json (default bench/out/).
"""

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / os.environ.get("VENV", ".venv")
LS_VENV = ROOT / ".cache" / "compat-venv"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (from /proc/*/stat's parent field)."""
    parent_of: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent_of[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        kids = [p for p, parent in parent_of.items() if parent == current]
        found.extend(kids)
        frontier.extend(kids)
    return found


def memory(pid: int) -> tuple[float, float]:
    """(RSS, PSS) in MB from smaps_rollup."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        parts = line.split()
        if parts and parts[0] in ("Rss:", "Pss:"):
            values[parts[0]] = int(parts[1]) / 1024
    return values.get("Rss:", 0.0), values.get("Pss:", 0.0)


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total


def command(pid: int) -> str:
    """The process's name (``labelhub start`` names its forks) and its command line."""
    try:
        name = Path(f"/proc/{pid}/comm").read_text().strip()
        raw = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "?"
    words = [
        w.rsplit("/", 1)[-1] if i == 0 or w.startswith("/") else w
        for i, w in enumerate(raw.split())
    ]
    return f"[{name}] " + " ".join(words)[:80]


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"footprint: the server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    sys.exit(f"footprint: {url} did not answer in {timeout:.0f} s")


def wait_idle(pid: int, quiet_seconds: float = 5.0, timeout: float = 120) -> None:
    """Until the whole tree used under 2% of a core for ``quiet_seconds`` in a row."""
    hz = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + timeout
    quiet_since = time.monotonic()
    last = cpu_ticks([pid, *children(pid)])
    while time.monotonic() < deadline:
        time.sleep(1)
        now = cpu_ticks([pid, *children(pid)])
        if (now - last) / hz > 0.02:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_seconds:
            return
        last = now


def measure(name: str, cmd: list[str], env: dict, url: str) -> dict:
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        started = time.monotonic()
        wait_ready(url, proc)
        ready = time.monotonic() - started
        # Touch the app once, as a user opening the page would, then let it settle.
        try:
            urllib.request.urlopen(url, timeout=10).read()
        except (urllib.error.URLError, OSError):
            pass
        wait_idle(proc.pid)
        rows = []
        for pid in [proc.pid, *children(proc.pid)]:
            try:
                rss, pss = memory(pid)
            except OSError:
                continue
            rows.append({"pid": pid, "command": command(pid), "rss_mb": rss, "pss_mb": pss})
        stop_started = time.monotonic()
        tree = [proc.pid, *children(proc.pid)]
        os.kill(proc.pid, signal.SIGTERM)
        stop_deadline = stop_started + 60
        while time.monotonic() < stop_deadline:
            alive = [p for p in tree if Path(f"/proc/{p}").exists() and not _zombie(p)]
            proc.poll()
            if not alive:
                break
            time.sleep(0.05)
        stopped = time.monotonic() - stop_started
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    result = {
        "server": name,
        "ready_seconds": round(ready, 1),
        "processes": rows,
        "process_count": len(rows),
        "rss_mb": round(sum(r["rss_mb"] for r in rows), 1),
        "pss_mb": round(sum(r["pss_mb"] for r in rows), 1),
        "stop_seconds": round(stopped, 2),
    }
    print(f"\n{name}: {len(rows)} processes at rest (ready after {ready:.1f} s)")
    print(f"  {'pid':>7}  {'RSS MB':>7}  {'PSS MB':>7}  command")
    for row in rows:
        print(f"  {row['pid']:>7}  {row['rss_mb']:7.1f}  {row['pss_mb']:7.1f}  {row['command']}")
    print(f"  {'sum':>7}  {result['rss_mb']:7.1f}  {result['pss_mb']:7.1f}")
    print(f"  SIGTERM to all stopped: {stopped:.2f} s")
    return result


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False


_TIMED_SETUP = (
    "import os, time; t = time.perf_counter(); import django; {configure}django.setup();"
    "print(time.perf_counter() - t)"
)
_APPS = (
    "import json, labelhub.settings as s; "
    "print(json.dumps([a for a in s.INSTALLED_APPS if a.split('.')[0] not in %r]))"
)


def _bare(apps: list[str]) -> str:
    return (
        "from django.conf import settings; settings.configure(SECRET_KEY='x', "
        f"INSTALLED_APPS={apps!r}, DATABASES={{'default': {{'ENGINE': "
        "'django.db.backends.sqlite3', 'NAME': ':memory:'}}); "
    )


def _setups(env: dict) -> dict[str, str]:
    """What ``setup_seconds`` times: LabelHub, and the floor, the same ``django.setup()``
    with Django's contrib apps only, then with the third-party apps LabelHub installs
    too (DRF, simplejwt, drf-spectacular, axes), both read from its settings."""
    first_party = tuple(p.parent.name for p in ROOT.glob("*/__init__.py"))
    out = subprocess.run(
        [str(VENV / "bin" / "python"), "-c", _APPS % (first_party,)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    others = json.loads(out.stdout)
    contrib = [app for app in others if app.startswith("django.contrib.")]
    return {
        "labelhub": "os.environ['DJANGO_SETTINGS_MODULE'] = 'labelhub.settings'; ",
        "contrib only": _bare(contrib),
        "contrib + third-party apps": _bare(others),
    }


def setup_seconds(
    runs: int, before: Path | None = None, database_url: str = ""
) -> dict[str, float]:
    """Median wall time of ``django.setup()`` (imports included) in a fresh interpreter,
    for LabelHub, for another checkout of it (``before``, with this venv) and for the
    floors (``_setups``); the runs alternate between them, so that all see the same
    machine load. One untimed run first writes the bytecode caches
    (``PYTHONDONTWRITEBYTECODE`` is dropped: an installed package has them)."""
    with tempfile.TemporaryDirectory() as data:
        env = _clean_env() | {"LABELHUB_DATA_DIR": data, "DATABASE_URL": database_url}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        setups = _setups(env)
        if before is not None:
            setups = {"before": setups["labelhub"], **setups}
        times: dict[str, list[float]] = {name: [] for name in setups}
        for run in range(runs + 1):
            for name, configure in setups.items():
                tree = before if name == "before" else ROOT
                out = subprocess.run(
                    [str(VENV / "bin" / "python"), "-c", _TIMED_SETUP.format(configure=configure)],
                    env=env | {"PYTHONPATH": str(tree)},
                    cwd=tree,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                if run:
                    times[name].append(float(out.stdout.strip().splitlines()[-1]))
    return {name: statistics.median(values) for name, values in times.items()}


def _clean_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABELHUB_", "LABEL_STUDIO_"))}
    for key in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "VIRTUAL_ENV"):
        env.pop(key, None)
    return env


def _measure_labelhub(results: list[dict], port: int) -> None:
    with tempfile.TemporaryDirectory() as data:
        port = port or free_port()
        env = _clean_env() | {"LABELHUB_DATA_DIR": data, "LABELHUB_PASSWORD": "footprint-pass"}
        results.append(
            measure(
                "LabelHub (labelhub start, embedded default)",
                [str(VENV / "bin" / "labelhub"), "start", "--port", str(port)],
                env,
                f"http://127.0.0.1:{port}/health/",
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--label-studio", action="store_true", help="measure Label Studio too")
    parser.add_argument("--setup-runs", type=int, default=5)
    parser.add_argument("--port", type=int, default=0, help="LabelHub's port (default: a free one)")
    parser.add_argument(
        "--setup-only", action="store_true", help="time django.setup() only (no server)"
    )
    parser.add_argument(
        "--before",
        type=Path,
        help="time django.setup() of this other checkout too (git worktree add /tmp/before main)",
    )
    parser.add_argument(
        "--database-url", default="", help="DATABASE_URL for the django.setup() timing only"
    )
    args = parser.parse_args()

    results: list[dict] = []
    if args.setup_only:
        results.append({"server": "LabelHub (django.setup only)"})
    else:
        _measure_labelhub(results, args.port)
    load = os.getloadavg()[0]
    seconds = setup_seconds(args.setup_runs, args.before, args.database_url)
    print(
        f"\ndjango.setup() in a fresh interpreter, median of {args.setup_runs} "
        f"(load average {load:.1f} before, {os.getloadavg()[0]:.1f} after):"
    )
    for name, value in seconds.items():
        ratio = value / seconds["contrib only"]
        print(f"  {name:28} {value:.3f} s  ({ratio:.2f}x contrib only)")
    results[0]["django_setup_seconds"] = round(seconds["labelhub"], 3)
    results[0]["django_setup_floor_seconds"] = {
        name: round(value, 3) for name, value in seconds.items() if name != "labelhub"
    }

    if args.label_studio:
        ls = LS_VENV / "bin" / "label-studio"
        if not ls.exists():
            sys.exit("footprint: no Label Studio in .cache/compat-venv; run `make compat` once")
        with tempfile.TemporaryDirectory() as data:
            port = free_port()
            env = _clean_env() | {"HOME": data, "SENTRY_DSN": "", "COLLECT_ANALYTICS": "0"}
            results.append(
                measure(
                    "Label Studio 1.23.2 (label-studio start)",
                    [
                        str(ls),
                        "start",
                        "--no-browser",
                        "--internal-host",
                        "127.0.0.1",
                        "--port",
                        str(port),
                        "--data-dir",
                        data,
                        "--username",
                        "footprint@localhost",
                        "--password",
                        "footprint-pass",
                    ],
                    env,
                    f"http://127.0.0.1:{port}/health",
                )
            )

    out = Path(os.environ.get("BENCH_OUT", ROOT / "bench" / "out"))
    out.mkdir(parents=True, exist_ok=True)
    (out / "footprint.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
