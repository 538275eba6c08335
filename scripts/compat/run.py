"""``make compat``: Label Studio's own tavern API tests against Label Studio and LabelHub.

Runs in the compat venv (.cache/compat-venv, made by scripts/compat/setup.sh), which holds
Label Studio 1.23.2, tavern 2.x and pytest 7. Steps:

1. start Label Studio (``label-studio start``, SQLite in a fresh data dir under .cache/compat)
   and LabelHub (``labelhub start`` from the project venv, SQLite in a fresh throwaway data
   dir), each with the same admin and API token, on loopback ports;
2. put a token proxy (proxy.py) in front of each;
3. run the tavern files from the installed package's ``tests/`` (cwd = the package folder,
   ``--tavern-global-cfg tests/shared_stages.yml``) once per target through compat_plugin.py;
4. print which tests pass on Label Studio and fail on LabelHub, grouped by file, and write
   every test's outcome on both to .cache/compat/results.json.

Options: ``--target labelhub`` re-runs LabelHub only and reuses the last Label Studio
outcomes; ``--files a.tavern.yml ...`` narrows the run to some files (paths relative to
``tests/``); ``--report PATH`` also writes the report there.
"""

import argparse
import importlib.util
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
OUT = ROOT / ".cache" / "compat"
COMPAT_VENV = Path(sys.executable).parent.parent
LH_VENV = ROOT / os.environ.get("VENV", ".venv")
EMAIL = "test_suites_user@heartex.com"
PASSWORD = "12345678"
TARGETS = ("label_studio", "labelhub")
NAMES = {"label_studio": "Label Studio", "labelhub": "LabelHub"}

sys.path.insert(0, str(HERE))
from proxy import proxy_start, session_login  # noqa: E402


def log(msg: str) -> None:
    print(f"compat: {msg}", file=sys.stderr, flush=True)


def package_dir() -> Path:
    spec = importlib.util.find_spec("label_studio")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("compat: label_studio is not installed in this venv; run scripts/compat/setup.sh")
    return Path(list(spec.submodule_search_locations)[0])


def clean_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABELHUB_", "LABEL_STUDIO_"))}
    for key in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "PYTHONPATH", "VIRTUAL_ENV"):
        env.pop(key, None)
    return env


# Label Studio's conftest mocks S3 in its own process (moto, autouse fixtures); across
# processes the harness runs moto's server instead, fills it with the same buckets before
# each target's run, and points both servers' boto3 at it (AWS_ENDPOINT_URL_S3, the
# fixtures' "testing" keys). Presigned URLs then name the moto server, not amazonaws.com.
S3_ENV: dict[str, str] = {}


def s3_start(port: int, logfile) -> subprocess.Popen | None:
    """moto's server from the project venv (a test extra: ``make setup-test``); without it
    the S3 tavern tests fail on both servers alike, as before."""
    moto = LH_VENV / "bin" / "moto_server"
    if not moto.exists():
        log(f"no {moto} (make setup-test installs it): S3 tests run without buckets")
        return None
    proc = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)],
        stdout=logfile,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    S3_ENV.update(
        AWS_ENDPOINT_URL_S3=url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SECURITY_TOKEN="testing",
        AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    return proc


def s3_fill() -> None:
    """Reset the moto server and create Label Studio's conftest buckets (s3_with_images,
    s3_with_jsons, s3_with_hypertext_s3_links, s3_with_partially_encoded_s3_links,
    s3_with_unexisted_links, s3_export_bucket)."""
    import boto3

    url = S3_ENV["AWS_ENDPOINT_URL_S3"]
    urllib.request.urlopen(
        urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=30
    )
    s3 = boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    objects = {
        "pytest-s3-images": {
            "image1.jpg": "123",
            "subdir/image1.jpg": "456",
            "subdir/image2.jpg": "789",
            "subdir/another/image2.jpg": "0ab",
        },
        "pytest-s3-jsons": {"test.json": json.dumps({"image_url": "http://ggg.com/image.jpg"})},
        "pytest-s3-jsons-hypertext": {
            "test.json": json.dumps(
                {
                    "text": '<a href="s3://pytest-s3-jsons-hypertext/file with /spaces '
                    "and' / ' / quotes.jpg\"/>"
                }
            )
        },
        "pytest-s3-json-partially-encoded": {
            "test.json": json.dumps(
                {
                    "text": '<a href="s3://pytest-s3-json-partially-encoded/file with /spaces '
                    "and' / ' / %2Bquotes%3D.jpg\"/>"
                }
            )
        },
        "pytest-s3-jsons-unexisted_links": {"some-existed-image.jpg": "qwerty"},
        "pytest-export-s3-bucket": {},
    }
    for bucket, keys in objects.items():
        s3.create_bucket(Bucket=bucket)
        for key, body in keys.items():
            s3.put_object(Bucket=bucket, Key=key, Body=body)


def start_label_studio(port: int, token: str, logfile) -> subprocess.Popen:
    data = OUT / "ls-data"
    shutil.rmtree(data, ignore_errors=True)  # a fresh database every run
    data.mkdir(parents=True)
    env = clean_env()
    env.update(SENTRY_DSN="", SENTRY_RATE="0", COLLECT_ANALYTICS="0", HOME=str(data))
    # The tavern files' webhook receiver and Redis are on loopback, which Label Studio
    # 1.23.2's SSRF check refuses by default; LabelHub gets the same hosts allowed.
    env["SSRF_PROTECTION_ENABLED"] = "false"
    env.update(S3_ENV)
    cmd = [
        str(COMPAT_VENV / "bin" / "label-studio"),
        "start",
        "--no-browser",
        "--internal-host", "127.0.0.1",
        "--port", str(port),
        "--data-dir", str(data),
        "--username", EMAIL,
        "--password", PASSWORD,
        "--user-token", token,
        "--enable-legacy-api-token",
    ]  # fmt: skip
    return subprocess.Popen(
        cmd, cwd=data, env=env, stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True
    )


def start_labelhub(port: int, token: str, data: Path, logfile) -> subprocess.Popen:
    env = clean_env()
    # Loopback as Label Studio's SSRF_PROTECTION_ENABLED=false allows it (above): the
    # webhook tavern's http://127.0.0.1:6666/ and the Redis storage's default localhost.
    env["LABELHUB_WEBHOOK_ALLOWED_HOSTS"] = "127.0.0.1"
    env["LABELHUB_STORAGE_ALLOWED_HOSTS"] = "127.0.0.1,localhost,::1"
    env.update(S3_ENV)
    if S3_ENV:  # keyless S3 storages use the fixtures' keys, as Label Studio's do
        env["LABELHUB_S3_ALLOW_AMBIENT_CREDENTIALS"] = "true"
    cmd = [
        str(LH_VENV / "bin" / "labelhub"),
        "start",
        "--host", "127.0.0.1",
        "--port", str(port),
        "--data-dir", str(data),
        "--username", EMAIL,
        "--password", PASSWORD,
        "--user-token", token,
    ]  # fmt: skip
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True
    )


def wait_up(name: str, url: str, proc: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"compat: {name} exited ({proc.returncode}); see its log in {OUT}")
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status < 500:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
        except OSError:
            pass
        time.sleep(1)
    raise SystemExit(f"compat: {name} did not answer {url} within {timeout:.0f}s")


def stop(proc: subprocess.Popen) -> None:
    """Stop a server we started and everything in its process group."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def tavern_files(pkg: Path, only: list[str]) -> list[str]:
    files = sorted(str(p.relative_to(pkg)) for p in (pkg / "tests").rglob("*.tavern.yml"))
    if only:
        wanted = {f if f.startswith("tests/") else f"tests/{f}" for f in only}
        files = [f for f in files if f in wanted]
    return files


def run_tavern(target: str, url: str, pkg: Path, files: list[str]) -> dict:
    results = OUT / f"{target}.json"
    results.unlink(missing_ok=True)
    env = clean_env()
    env.update(
        PYTHONPATH=str(HERE),
        COMPAT_TARGET_URL=url,
        COMPAT_RESULTS_FILE=str(results),
        DJANGO_DB="sqlite",  # both targets run on SQLite (skipif marks read it)
    )
    cmd = [
        sys.executable, "-m", "pytest",
        "-c", str(HERE / "pytest.ini"),
        "--rootdir", str(pkg),
        "--noconftest",
        "-p", "compat_plugin",
        "--tavern-global-cfg", "tests/shared_stages.yml",
        "-q", "--no-header", "-rN", "--tb=short",
        *files,
    ]  # fmt: skip
    started = time.monotonic()
    with open(OUT / f"pytest-{target}.log", "w") as fh:
        subprocess.run(cmd, cwd=pkg, env=env, stdout=fh, stderr=subprocess.STDOUT, check=False)
    log(f"{NAMES[target]}: tavern run took {time.monotonic() - started:.0f}s")
    if not results.exists():
        raise SystemExit(f"compat: pytest wrote no results for {target}; see pytest-{target}.log")
    return json.loads(results.read_text())


def report(ls: dict, lh: dict) -> tuple[str, dict]:
    ids = sorted(set(ls) | set(lh))
    by_file: dict[str, list[str]] = {}
    for nodeid in ids:
        by_file.setdefault(nodeid.split("::")[0], []).append(nodeid)
    lines = ["Label Studio's tavern tests: Label Studio 1.23.2 vs LabelHub", ""]
    skipped, ls_failed = [], []
    n_ls = n_both = 0
    for path, nodeids in by_file.items():
        passing = [i for i in nodeids if ls.get(i, {}).get("outcome") == "passed"]
        ok = [i for i in passing if lh.get(i, {}).get("outcome") == "passed"]
        n_ls += len(passing)
        n_both += len(ok)
        skipped += [i for i in nodeids if ls.get(i, {}).get("outcome") == "skipped"]
        ls_failed += [i for i in nodeids if ls.get(i, {}).get("outcome") == "failed"]
        if not passing:
            continue
        lines.append(f"{path}: {len(ok)} of {len(passing)}")
        for nodeid in passing:
            if nodeid in ok:
                continue
            got = lh.get(nodeid, {"outcome": "not run"})
            why = got.get("message") or got.get("reason") or got["outcome"]
            lines.append(f"  FAIL {nodeid.split('::', 1)[1]}: {why[:300]}")
    lines.append("")
    lines.append(f"Skipped on both ({len(skipped)}; they need Label Studio's insides):")
    for nodeid in skipped:
        lines.append(f"  {nodeid}: {ls[nodeid].get('reason', '')}")
    lines.append(f"Fail on Label Studio itself under this harness, not counted ({len(ls_failed)}):")
    for nodeid in ls_failed:
        lines.append(f"  {nodeid}: {ls[nodeid].get('message', '')[:160]}")
    lines.append("")
    pct = 100.0 * n_both / n_ls if n_ls else 0.0
    lines.append(
        f"{n_both} of {n_ls} tests that pass on Label Studio pass on LabelHub ({pct:.1f}%)"
    )
    summary = {
        "pass_on_label_studio": n_ls,
        "pass_on_both": n_both,
        "skipped": len(skipped),
        "fail_on_label_studio": len(ls_failed),
        "total": len(ids),
    }
    return "\n".join(lines) + "\n", summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=("both", *TARGETS), default="both")
    parser.add_argument("--files", nargs="*", default=[])
    parser.add_argument("--report", help="also write the report to this file")
    parser.add_argument(
        "--port-base", type=int, default=int(os.environ.get("COMPAT_PORT_BASE", 18100))
    )
    args = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    pkg = package_dir()
    files = tavern_files(pkg, args.files)
    if not files:
        raise SystemExit("compat: no tavern files selected")
    token = secrets.token_hex(20)
    ports = {"label_studio": args.port_base, "labelhub": args.port_base + 1}
    proxy_ports = {"label_studio": args.port_base + 2, "labelhub": args.port_base + 3}
    wanted = TARGETS if args.target == "both" else (args.target,)
    outcomes: dict[str, dict] = {}
    procs, servers, tmpdirs = [], [], []
    started = time.monotonic()
    try:
        s3_log = open(OUT / "moto.log", "w")
        procs_s3 = s3_start(args.port_base + 4, s3_log)
        for target in wanted:
            logfile = open(OUT / f"server-{target}.log", "w")
            if target == "label_studio":
                proc = start_label_studio(ports[target], token, logfile)
            else:
                data = Path(tempfile.mkdtemp(prefix="labelhub-compat."))
                tmpdirs.append(data)
                proc = start_labelhub(ports[target], token, data, logfile)
            procs.append((target, proc))
        for target, proc in procs:
            log(f"waiting for {NAMES[target]} on 127.0.0.1:{ports[target]}")
            wait_up(NAMES[target], f"http://127.0.0.1:{ports[target]}/version/", proc)
            base = f"http://127.0.0.1:{ports[target]}"
            cookie = session_login(target=base, email=EMAIL, password=PASSWORD)
            if not cookie:
                log(f"{NAMES[target]}: no session from /user/login/; pages will not be signed in")
            servers.append(
                proxy_start(target=base, token=token, port=proxy_ports[target], cookie=cookie)
            )
        log(f"servers up after {time.monotonic() - started:.0f}s")
        for target in wanted:
            if S3_ENV:
                s3_fill()
            outcomes[target] = run_tavern(
                target, f"http://127.0.0.1:{proxy_ports[target]}", pkg, files
            )
    finally:
        if locals().get("procs_s3") is not None:
            stop(procs_s3)
        for server in servers:
            server.shutdown()
        for _, proc in procs:
            stop(proc)
        for data in tmpdirs:
            shutil.rmtree(data, ignore_errors=True)

    for target in TARGETS:
        if target not in outcomes:
            saved = OUT / f"{target}.json"
            if not saved.exists():
                raise SystemExit(f"compat: no earlier {NAMES[target]} results; run --target both")
            outcomes[target] = json.loads(saved.read_text())
    selected = {f for f in files}
    for target in TARGETS:
        outcomes[target] = {
            k: v for k, v in outcomes[target].items() if k.split("::")[0] in selected
        }
    text, summary = report(outcomes["label_studio"], outcomes["labelhub"])
    tests = {
        nodeid: {t: outcomes[t].get(nodeid, {"outcome": "not run"}) for t in TARGETS}
        for nodeid in sorted(set(outcomes["label_studio"]) | set(outcomes["labelhub"]))
    }
    (OUT / "results.json").write_text(
        json.dumps({"summary": summary, "tests": tests}, indent=1, sort_keys=True)
    )
    sys.stdout.write(text)
    if args.report:
        Path(args.report).write_text(text)
    log(f"done in {time.monotonic() - started:.0f}s; per-test results in {OUT / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
