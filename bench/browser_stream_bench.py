"""The Label Stream in Chromium: time from the Submit click to the next task's text on
screen, at scale on PostgreSQL.

Builds a project of N text tasks (100k by default; each with one scored prediction, 30%
already labeled; the SQL builder of bench/stream_bench.py), serves it with gunicorn
(``labelhub.wsgi``, 2 workers x 4 threads, as ``labelhub start`` runs it), logs an
annotator in with Chromium (/usr/bin/chromium through playwright) and labels ``--samples``
tasks in the one-page stream. For each task it picks a choice, waits until LSF's own
submit guard (``isSubmitting``, about 500 ms after any submit) is down, then clicks Submit
and times, inside the page with ``performance.now()``, until a requestAnimationFrame
callback sees the next task's text in the editor (the frame that paints it). The page
must not load again in between (a window marker is checked at the end).

It prints the median (p50), p90 and max in milliseconds, and the load average: the
machine is shared and noisy, so read the median; then the editor's bytes on the first page
load (Resource Timing of /static/editor*), and every console error the page logged
(there should be none). ``LABELHUB_EDITOR=1.4`` measures the fallback editor.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lh_stream_browser_bench \\
        .venv/bin/python bench/browser_stream_bench.py --tasks 100000 --samples 50
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lh_stream_browser_bench")
os.environ.setdefault("LABELHUB_DATA_DIR", tempfile.mkdtemp(prefix="lh-browser-bench-"))

import django  # noqa: E402
import requests  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from annotations.services import project_delete  # noqa: E402
from bench.stream_bench import build  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
PASSWORD = "bench-password-1"

# Click Submit and resolve with the milliseconds until a frame shows another task's text.
SUBMIT_AND_TIME = """
(old) => new Promise((resolve) => {
  const started = performance.now();
  performance.clearResourceTimings();
  // 1.23's Submit is named by data-testid, 1.4's by aria-label
  document.querySelector("[data-testid=bottombar-submit-button], button[aria-label=submit]").click();
  function check() {
    const text = document.querySelector("#editor .lsf-richtext__container");
    if (text && text.textContent && text.textContent !== old) {
      const total = performance.now() - started;
      const parts = performance.getEntriesByType("resource")
        .filter((e) => e.name.indexOf("/api/") >= 0)
        .map((e) => [e.name.indexOf("/next/") >= 0 ? "next" : "submit", e.responseEnd - e.startTime, e.startTime - started, e.responseEnd - started]);
      resolve([total, parts]);
    } else if (performance.now() - started > 20000) {
      resolve([-1, []]);
    } else {
      requestAnimationFrame(check);
    }
  }
  requestAnimationFrame(check);
})
"""
# What the label page loaded for the editor (its bundle, styles, fonts, workers): bytes on
# the wire and decoded, from the Resource Timing entries of /static/editor*.
EDITOR_BYTES = """
() => performance.getEntriesByType("resource")
  .filter((e) => /\\/static\\/editor(-ls)?\\//.test(e.name))
  .reduce((sum, e) => [sum[0] + e.transferSize, sum[1] + e.decodedBodySize, sum[2] + 1], [0, 0, 0])
"""
READY = (
    "() => window.LabelHubEditor && LabelHubEditor.current && LabelHubEditor.current.ls"
    " && !LabelHubEditor.current.ls.isSubmitting"
    " && document.querySelector('#editor .lsf-richtext__container')"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(port: int, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "labelhub.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
        ],
        cwd=ROOT,
        stdout=open(log, "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=dict(os.environ),
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/version/", timeout=2).status_code < 500:
                return proc
        except requests.RequestException:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited; see {log}")
        time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer in 120 s; see {log}")


def measure(base: str, project_id: int, email: str, samples: int, breakdown: dict) -> list[float]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
        errors = breakdown.setdefault("console errors", [])
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
        page.goto(f"{base}/user/login/")
        page.fill("#id_email", email)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/projects/")
        page.goto(f"{base}/projects/{project_id}/label")
        page.wait_for_selector("body.editor-ready", timeout=30000)
        page.wait_for_load_state("load")
        breakdown["editor bytes"] = page.evaluate(EDITOR_BYTES)
        page.evaluate("window.__benchMarker = 'one page'")
        times = []
        for index in range(samples + 3):  # 3 warm-up rounds
            page.wait_for_function(READY, timeout=30000)
            old = page.locator("#editor .lsf-richtext__container").inner_text()
            page.locator("#editor label:has(input[name='Positive'])").click()
            took, parts = page.evaluate(SUBMIT_AND_TIME, old)
            if took < 0:
                raise SystemExit(f"round {index}: the next task did not show in 20 s")
            if index >= 3:
                times.append(took)
                for name, duration, start, _end in parts:
                    breakdown.setdefault(f"{name} request", []).append(duration)
                    if name == "submit":
                        breakdown.setdefault("click to request", []).append(start)
                if parts:  # the editor: from the last answer to the frame with the text
                    breakdown.setdefault("editor", []).append(took - max(p[3] for p in parts))
        assert page.evaluate("window.__benchMarker") == "one page", "the page loaded again"
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep the project afterwards")
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (default: any free)")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("browser_stream_bench measures PostgreSQL: set DATABASE_URL")
    call_command("migrate", verbosity=0)
    project, users = build(args.tasks, 0.3, 1)
    annotator = users[0]
    annotator.set_password(PASSWORD)
    annotator.save(update_fields=["password"])
    connection.close()  # gunicorn's workers open their own
    port = args.port or free_port()
    log = Path(os.environ["LABELHUB_DATA_DIR"]) / "gunicorn.log"
    server = serve(port, log)
    try:
        load = os.getloadavg()
        breakdown: dict[str, list[float]] = {}
        base = f"http://127.0.0.1:{port}"
        times = measure(base, project.pk, annotator.email, args.samples, breakdown)
        load_after = os.getloadavg()
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
        if not args.keep:
            project_delete(project=project)
    times.sort()
    transfer, decoded, files = breakdown.pop("editor bytes")
    errors = breakdown.pop("console errors")
    print(
        f"{args.tasks} tasks, {len(times)} submits, one page: Submit click -> next task's text"
        f"\n   p50 {statistics.median(times):.1f} ms   p90 {times[int(0.9 * (len(times) - 1))]:.1f} ms"
        f"   min {times[0]:.1f} ms   max {times[-1]:.1f} ms"
        + "".join(
            f"\n   {name}: p50 {statistics.median(values):.1f} ms"
            for name, values in breakdown.items()
        )
        + f"\n   load average {load[0]:.1f} before, {load_after[0]:.1f} after (2 cores, shared)"
        + f"\n   editor ({os.environ.get('LABELHUB_EDITOR') or '1.23'}) per page load: {files} files,"
        f" {transfer / 1e6:.2f} MB transferred, {decoded / 1e6:.2f} MB decoded"
        + f"\n   console errors: {len(errors)}"
        + "".join(f"\n     {text[:300]}" for text in errors)
    )


if __name__ == "__main__":
    main()
