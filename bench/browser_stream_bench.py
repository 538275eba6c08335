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

Both editors are measured in the same run (``--editors 1.23,1.4``, the default): one
gunicorn per editor (``LABELHUB_EDITOR``), one page and annotator each, cycles
alternating between them so that both see the same machine load.

It prints, per editor, the median (p50), p90 and max in milliseconds, and the load
average: the machine is shared and noisy, so read the medians side by side; then the
editor's bytes on the first page load and on a second one (Resource Timing of
/static/editor*: the second comes from the browser's cache), and every console error the
page logged (there should be none).

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


def serve(port: int, log: Path, editor: str) -> subprocess.Popen:
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
        env=dict(os.environ, LABELHUB_EDITOR=editor),
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


class Lane:
    """One editor's page: its own gunicorn (LABELHUB_EDITOR), browser context and annotator."""

    def __init__(self, browser, editor: str, base: str, project_id: int, email: str):
        self.editor, self.base = editor, base
        self.times: list[float] = []
        self.breakdown: dict[str, list[float]] = {}
        self.errors: list[str] = []
        self.page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
        page = self.page
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.goto(f"{base}/user/login/")
        page.fill("#id_email", email)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/projects/")
        self.url = f"{base}/projects/{project_id}/label"
        self.first_bytes = self.load()
        page.evaluate("window.__benchMarker = 'one page'")

    def load(self) -> list:
        """Open the label page; the editor's bytes (transferred, decoded, files) it took."""
        self.page.goto(self.url)
        self.page.wait_for_selector("body.editor-ready", timeout=60000)
        self.page.wait_for_load_state("load")
        return self.page.evaluate(EDITOR_BYTES)

    def cycle(self, keep: bool) -> None:
        page = self.page
        page.wait_for_function(READY, timeout=30000)
        old = page.locator("#editor .lsf-richtext__container").inner_text()
        page.locator("#editor label:has(input[name='Positive'])").click()
        took, parts = page.evaluate(SUBMIT_AND_TIME, old)
        if took < 0:
            raise SystemExit(f"{self.editor}: the next task did not show in 20 s")
        if not keep:
            return
        self.times.append(took)
        for name, duration, start, _end in parts:
            self.breakdown.setdefault(f"{name} request", []).append(duration)
            if name == "submit":
                self.breakdown.setdefault("click to request", []).append(start)
        if parts:  # the editor: from the last answer to the frame with the text
            self.breakdown.setdefault("editor", []).append(took - max(p[3] for p in parts))

    def finish(self) -> None:
        assert self.page.evaluate("window.__benchMarker") == "one page", "the page loaded again"
        # A second visit: the editor's files come from the browser's cache (immutable).
        self.repeat_bytes = self.load()


def measure(lanes: list, samples: int) -> None:
    """Alternate the editors cycle by cycle, so that both see the same machine load."""
    for index in range(samples + 3):  # 3 warm-up rounds
        for lane in lanes if index % 2 == 0 else lanes[::-1]:
            lane.cycle(keep=index >= 3)
    for lane in lanes:
        lane.finish()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument(
        "--editors",
        default="1.23,1.4",
        help="the editors to measure, alternating (LABELHUB_EDITOR values; default both)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the project afterwards")
    parser.add_argument(
        "--port", type=int, default=0, help="the first gunicorn's port (default: any free)"
    )
    args = parser.parse_args()
    editors = [name.strip() for name in args.editors.split(",") if name.strip()]
    if connection.vendor != "postgresql":
        raise SystemExit("browser_stream_bench measures PostgreSQL: set DATABASE_URL")
    call_command("migrate", verbosity=0)
    project, users = build(args.tasks, 0.3, len(editors))
    for annotator in users:
        annotator.set_password(PASSWORD)
        annotator.save(update_fields=["password"])
    connection.close()  # gunicorn's workers open their own
    servers = []
    from playwright.sync_api import sync_playwright

    try:
        bases = []
        for index, editor in enumerate(editors):
            port = args.port + index if args.port else free_port()
            log = Path(os.environ["LABELHUB_DATA_DIR"]) / f"gunicorn-{editor}.log"
            servers.append(serve(port, log, editor))
            bases.append(f"http://127.0.0.1:{port}")
        load = os.getloadavg()
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            lanes = [
                Lane(browser, editor, base, project.pk, user.email)
                for editor, base, user in zip(editors, bases, users, strict=True)
            ]
            measure(lanes, args.samples)
            browser.close()
        load_after = os.getloadavg()
    finally:
        for server in servers:
            os.killpg(server.pid, 15)
            server.wait(timeout=30)
        if not args.keep:
            project_delete(project=project)
    print(
        f"{args.tasks} tasks, {args.samples} submits per editor, alternating, one page each:"
        " Submit click -> next task's text"
        f"\n   load average {load[0]:.1f} before, {load_after[0]:.1f} after (2 cores, shared)"
    )
    for lane in lanes:
        times = sorted(lane.times)
        transfer, decoded, files = lane.first_bytes
        again = lane.repeat_bytes
        print(
            f"editor {lane.editor}: p50 {statistics.median(times):.1f} ms"
            f"   p90 {times[int(0.9 * (len(times) - 1))]:.1f} ms"
            f"   min {times[0]:.1f} ms   max {times[-1]:.1f} ms"
            + "".join(
                f"\n   {name}: p50 {statistics.median(values):.1f} ms"
                for name, values in lane.breakdown.items()
            )
            + f"\n   editor files, first page load: {files} files, {transfer / 1e6:.2f} MB"
            f" transferred, {decoded / 1e6:.2f} MB decoded"
            + f"\n   editor files, second page load: {again[2]} files,"
            f" {again[0] / 1e3:.1f} kB transferred"
            + f"\n   console errors: {len(lane.errors)}"
            + "".join(f"\n     {text[:300]}" for text in lane.errors)
        )


if __name__ == "__main__":
    main()
