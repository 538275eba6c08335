"""Browser tests: Chromium from Debian (/usr/bin/chromium) driven by the playwright
package against pytest-django's live server. No browser is downloaded.

Each test gets a fresh browser context (``page``); every Content-Security-Policy
violation and uncaught page error is collected and fails the test at teardown, so the
CSP in frontend/csp.py is checked by every result type."""

import math
import os
import re
import struct
import wave
from pathlib import Path

import pytest

from projects.models import ProjectMember
from projects.services import member_set, project_create
from tests.frontend import urls as test_urls

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the
# test body are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
STATIC = Path(__file__).resolve().parents[2] / "frontend" / "static"
# The editor the pages embed (LABELHUB_EDITOR): Label Studio 1.23.2's, or the 1.4.0 fallback.
EDITOR_JS = (
    STATIC / "editor" / "1.4.0" / "main.js"
    if os.environ.get("LABELHUB_EDITOR") == "1.4"
    else STATIC / "editor-ls" / "1.23.2" / "358.js"
)
# The editor's Submit (or Update) button: 1.23 names it by data-testid (its aria-label is
# "Submit current annotation"), 1.4 by aria-label.
SUBMIT = (
    "[data-testid=bottombar-submit-button], [data-testid=bottombar-update-button],"
    " button[aria-label=submit]"
)
PASSWORD = "pass-word-1"


# One Playwright driver and one Chromium per test process: other test packages import
# these fixtures (tests/datamanager), which makes a second session-scoped copy of ``browser``, and
# two sync Playwright drivers cannot run in one thread.
_SHARED: dict = {"users": 0}


@pytest.fixture(scope="session")
def browser():
    assert EDITOR_JS.exists(), "the editor bundle is missing: run `bash scripts/setup.sh`"
    if not _SHARED["users"]:
        from playwright.sync_api import sync_playwright

        _SHARED["driver"] = sync_playwright().start()
        _SHARED["chromium"] = _SHARED["driver"].chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
    _SHARED["users"] += 1
    yield _SHARED["chromium"]
    _SHARED["users"] -= 1
    if not _SHARED["users"]:
        _SHARED.pop("chromium").close()
        _SHARED.pop("driver").stop()


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory):
    """A 640x400 PNG and a one-second WAV, made here, served at /test-media/."""
    from PIL import Image, ImageDraw

    root = tmp_path_factory.mktemp("media")
    image = Image.new("RGB", (640, 400), (219, 234, 254))
    draw = ImageDraw.Draw(image)
    draw.rectangle((60, 220, 600, 400), fill=(134, 239, 172))
    draw.ellipse((120, 120, 300, 300), fill=(249, 115, 22))
    draw.rectangle((380, 160, 560, 300), fill=(161, 98, 7))
    image.save(root / "scene.png")
    rate = 8000
    with wave.open(str(root / "tone.wav"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(
            b"".join(
                struct.pack("<h", int(9000 * math.sin(2 * math.pi * 330 * i / rate)))
                for i in range(rate)
            )
        )
    write_video(root / "clip.webm")
    (root / "doc.pdf").write_bytes(pdf_bytes(["Invoice 42: page one", "Page two: totals"]))
    return root


def write_video(path: Path, frames: int = 30, fps: int = 10) -> None:
    """A 320x240 VP8 WebM (Chromium plays it) of a red box moving right, 6 px a frame,
    written with OpenCV (a LabelHub dependency; no ffmpeg needed)."""
    import cv2
    import numpy as np

    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"VP80"), fps, (320, 240))
    assert out.isOpened(), "OpenCV cannot write VP8 WebM here"
    for i in range(frames):
        frame = np.full((240, 320, 3), (230, 220, 200), np.uint8)
        cv2.rectangle(frame, (20 + i * 6, 60), (80 + i * 6, 130), (40, 40, 220), -1)
        out.write(frame)
    out.release()


def pdf_bytes(pages: list[str]) -> bytes:
    """A minimal PDF, one line of Helvetica text on each page (no library needed)."""
    font = 3 + 2 * len(pages)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        (
            "<< /Type /Pages /Kids ["
            + " ".join(f"{3 + 2 * i} 0 R" for i in range(len(pages)))
            + f"] /Count {len(pages)} >>"
        ).encode(),
    ]
    for i, text in enumerate(pages):
        content = f"BT /F1 28 Tf 60 700 Td ({text}) Tj ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R"
            f" /Resources << /Font << /F1 {font} 0 R >> >> >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return out


@pytest.fixture
def media(media_dir, settings, live_server):
    test_urls.MEDIA["root"] = str(media_dir)
    settings.ROOT_URLCONF = "tests.frontend.urls"
    return {
        "image": "/test-media/scene.png",
        "audio": "/test-media/tone.wav",
        "video": "/test-media/clip.webm",
        "pdf": "/test-media/doc.pdf",
    }


class Page:
    """A playwright page plus what the browser complained about."""

    def __init__(self, page, base_url):
        self.page = page
        self.base = base_url
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", self._page_error)

    def _page_error(self, error):
        # the page's address and the script's stack: a failure in CI says where it came from
        stack = (getattr(error, "stack", "") or "").splitlines()[1:4]
        where = " | ".join(line.strip() for line in stack)
        self.problems.append(f"page error: {error} (at {self.page.url}; {where})")

    def _console(self, message):
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text:
            self.problems.append(f"CSP: {text}")

    def __getattr__(self, name):
        return getattr(self.page, name)

    def open(self, path):
        self.page.goto(self.base + path)

    def login(self, user):
        self.open("/user/login/")
        self.page.fill("#id_email", user.email)
        self.page.fill("#id_password", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(self.base + "/projects/")

    def open_editor(self, path):
        """Open an editor page and wait until the editor has set up its annotation."""
        self.open(path)
        self.page.wait_for_selector("body.editor-ready", timeout=15000)

    def ticked(self, value, timeout=30000):
        """Wait until the editor shows the choice ``value`` ticked. After Back, a history
        row or a submit the task id changes before the editor has drawn the annotation,
        so an at-once ``is_checked()`` can read the page in between (it did under load)."""
        self.page.wait_for_function(
            "(v) => document.querySelector(`#editor input[name='${v}']`)?.checked === true",
            arg=value,
            timeout=timeout,
        )

    def submit(self):
        """Click the editor's Submit and wait for the next page."""
        task_id = self.page.get_attribute("[data-task-id]", "data-task-id")
        self.page.locator(SUBMIT).first.click()
        self.wait_for_next(task_id)

    def skip(self):
        task_id = self.page.get_attribute("[data-task-id]", "data-task-id")
        self.page.click("button[aria-label=skip-task]")
        self.wait_for_next(task_id)

    def wait_for_next(self, task_id):
        self.page.wait_for_function(
            "(old) => { const el = document.querySelector('[data-task-id]');"
            " return (!el || el.dataset.taskId !== old) && document.readyState === 'complete'; }",
            arg=task_id,
            timeout=15000,
        )

    def choose(self, value):
        """Click a Choice of a Choices control."""
        self.page.locator(f"#editor label:has(input[name='{value}'])").click()

    def pick_label(self, value):
        """Click a Label of a Labels/RectangleLabels/... control (selects its tool)."""
        self.page.locator(".lsf-label__text").filter(
            has_text=re.compile(f"^{re.escape(value)}$")
        ).click()

    def drag(self, start, end, steps=8):
        mouse = self.page.mouse
        mouse.move(*start)
        mouse.down()
        mouse.move(*end, steps=steps)
        mouse.up()

    def image_box(self):
        """The bounding box of the editor's image, once it has loaded."""
        self.page.wait_for_function(
            "() => { const i = document.querySelector('#editor img');"
            " return i && i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().width > 50; }",
            timeout=15000,
        )
        self.page.wait_for_timeout(300)  # Konva sizes its stage after the image
        return self.page.locator("#editor img").first.bounding_box()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    wrapped = Page(context.new_page(), live_server.url)
    yield wrapped
    context.close()
    assert wrapped.problems == [], "the browser reported problems"


@pytest.fixture
def make_project(owner):
    """A project with ``owner`` as admin, members in roles, and tasks."""
    from importers.services import tasks_import

    def make(config, records, *, members=(), **fields):
        project = project_create(user=owner, title="Browser test", label_config=config, **fields)
        for user in members:
            member_set(project=project, user=user, role=ProjectMember.Role.ANNOTATOR)
        ids = tasks_import(project=project, records=records, user=owner).task_ids if records else []
        project.refresh_from_db()
        return project, ids

    return make
