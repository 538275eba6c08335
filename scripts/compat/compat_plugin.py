"""pytest plugin for running Label Studio's tavern files against a live server.

Loaded with ``-p compat_plugin`` (and ``--noconftest``, so Label Studio's own conftest, which
boots its Django, stays out):

- ``django_live_url``: the base URL of the token proxy in front of the target
  (``COMPAT_TARGET_URL``).
- ``tests.utils``: two pure helpers the files call through ``$ext`` (``empty_list``,
  ``os_independent_path``) are provided here, since Label Studio's module imports its
  Django models.
- ``configured_project``: Label Studio's conftest fixture (a text-choices project with two
  tasks), made through the API of the target as the harness's user; it offers ``.id`` and
  ``.organization.id``, the two attributes the tavern files read.
- Any other fixture a test asks for (``usefixtures``) mocks or configures Label Studio's own
  process (moto, feature flags, settings, a fake ML backend, local files under its document
  root...): such a test is skipped, naming the fixture. So is a test whose stages call
  any other ``$ext`` helper (``label_studio.tests.*``: they read Label Studio's database).
- Each test's outcome goes to the JSON file ``COMPAT_RESULTS_FILE``.
"""

import json
import os
import re
import sys
import tempfile
import types
from pathlib import Path

import pytest

PROVIDED = {"django_live_url", "configured_project"}


def pytest_configure(config):
    """HTTP only: tavern also loads its gRPC and MQTT backends when their base modules are
    importable (Label Studio pulls in grpcio, without tavern's grpc extras)."""
    from tavern._core.pytest.config import TestConfig

    TestConfig.backends = staticmethod(lambda: ["http"])
    shim = types.ModuleType("tests.utils")
    shim.empty_list = empty_list
    shim.os_independent_path = os_independent_path
    sys.modules["tests.utils"] = shim


SHIMMED = {"tests.utils:empty_list", "tests.utils:os_independent_path"}


def empty_list(response):
    assert response.json() == [], f"expected an empty list, got {response.json()!r}"


def os_independent_path(_response, path, add_tempdir=False):
    """The path (under the temp dir when asked), its parent and the temp dir, as strings."""
    tmp = Path(tempfile.gettempdir())
    full = tmp / path if add_tempdir else Path(path)
    return {
        "os_independent_path": str(full),
        "os_independent_path_parent": str(full.parent),
        "os_independent_path_tmpdir": str(tmp),
    }


@pytest.fixture
def django_live_url():
    return os.environ["COMPAT_TARGET_URL"].rstrip("/")


CONFIGURED_PROJECT_CONFIG = """
<View>
  <Text name="meta_info" value="$meta_info"></Text>
  <Text name="text" value="$text"></Text>
  <Choices name="text_class" toName="text" choice="single">
    <Choice value="class_A"></Choice>
    <Choice value="class_B"></Choice>
  </Choices>
</View>"""


@pytest.fixture
def configured_project(django_live_url):
    import requests

    made = requests.post(
        f"{django_live_url}/api/projects",
        json={"title": "Test", "label_config": CONFIGURED_PROJECT_CONFIG},
        timeout=60,
    )
    made.raise_for_status()
    project = made.json()
    imported = requests.post(
        f"{django_live_url}/api/projects/{project['id']}/import",
        json=[
            {"meta_info": "meta info A", "text": "text A"},
            {"meta_info": "meta info B", "text": "text B"},
        ],
        timeout=60,
    )
    imported.raise_for_status()
    organization = project.get("organization")
    if isinstance(organization, dict):
        organization = organization.get("id")
    return types.SimpleNamespace(
        id=project["id"], organization=types.SimpleNamespace(id=organization or 1)
    )


def _ext_functions(node, found):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "function" and isinstance(value, str):
                found.add(value)
            _ext_functions(value, found)
    elif isinstance(node, list):
        for value in node:
            _ext_functions(value, found)
    return found


def skip_reason(item) -> str | None:
    wanted = []
    for mark in item.iter_markers("usefixtures"):
        wanted.extend(mark.args)
    foreign = sorted({name for name in wanted if name not in PROVIDED})
    if foreign:
        return "fixture: " + ", ".join(foreign)
    spec = getattr(item, "spec", None)
    if spec is not None:
        inside = sorted(_ext_functions(spec, set()) - SHIMMED)
        if inside:
            return "ext: " + ", ".join(inside)
    return None


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        reason = skip_reason(item)
        if reason:
            item.add_marker(pytest.mark.skip(reason=f"compat-skip {reason}"))


_results: dict[str, dict] = {}


def _message(report) -> str:
    """One line: the failing stage's method and URL, then tavern's error lines."""
    lines = (report.longreprtext or "").splitlines()
    url = method = ""
    errors: list[str] = []
    for index, line in enumerate(lines):
        stripped = line.strip().lstrip("- ")
        if line.startswith("Formatted stage:"):
            url = method = ""  # the formatted copy names the real URL
        if not errors and not url and stripped.startswith("url:"):
            url = stripped[4:].strip().strip("'\"")
        elif not errors and not method and stripped.startswith("method:"):
            method = stripped[7:].strip()
        if line.startswith("E "):
            errors.append(line[2:].strip())
            for more in lines[index + 1 :]:
                if not more.startswith("  ") or more.startswith("E "):
                    break
                errors.append(more.strip())
    if not errors:
        errors = [ln.strip() for ln in lines[-1:]]
    where = f"[{method or 'GET'} {url}] " if url else ""
    text = where + " ".join(e for e in errors if e)
    text = text.replace("tavern._core.exceptions.TestFailError: ", "")
    return re.sub(r"\s+", " ", text)[:700]


def pytest_runtest_logreport(report):
    entry = _results.setdefault(report.nodeid, {"outcome": "passed"})
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        entry.update(outcome="skipped", reason=reason.replace("Skipped: ", ""))
    elif report.failed and entry["outcome"] != "failed":
        entry.update(outcome="failed", when=report.when, message=_message(report))


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("COMPAT_RESULTS_FILE")
    if path:
        with open(path, "w") as fh:
            json.dump(_results, fh, indent=1, sort_keys=True)
