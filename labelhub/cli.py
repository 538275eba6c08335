"""The ``labelhub`` command: ``start``, ``init``, ``import`` and ``train``; anything else goes to
Django's management commands (``labelhub migrate``, ``labelhub shell``...)."""

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from labelhub.params import is_true

ENV_FLAGS = {
    "host": "LABELHUB_HOST",
    "port": "LABELHUB_PORT",
    "data_dir": "LABELHUB_DATA_DIR",
    "username": "LABELHUB_USERNAME",
    "password": "LABELHUB_PASSWORD",
    "user_token": "LABELHUB_USER_TOKEN",
}


def _django_setup(data_dir: str | None = None) -> None:
    if data_dir:
        os.environ["LABELHUB_DATA_DIR"] = str(Path(data_dir).expanduser().resolve())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
    import django

    django.setup()


def _start_parser(sub) -> None:
    start = sub.add_parser(
        "start", help="migrate, ensure the admin, serve the web app and a worker"
    )
    start.add_argument("--host", default=os.environ.get("LABELHUB_HOST", "127.0.0.1"))
    start.add_argument("--port", type=int, default=int(os.environ.get("LABELHUB_PORT", 8080)))
    start.add_argument("--data-dir", default=os.environ.get("LABELHUB_DATA_DIR"))
    start.add_argument("--username", default=os.environ.get("LABELHUB_USERNAME"))
    start.add_argument("--password", default=os.environ.get("LABELHUB_PASSWORD"))
    start.add_argument("--user-token", default=os.environ.get("LABELHUB_USER_TOKEN"))
    start.add_argument("--workers", type=int, default=int(os.environ.get("LABELHUB_WORKERS", 2)))
    start.add_argument("--no-worker", action="store_true", help="do not start a Celery worker")
    start.add_argument(
        "--allow-serving-local-files",
        action="store_true",
        default=is_true(os.environ.get("LABELHUB_ALLOW_SERVING_LOCAL_FILES")),
    )


def _admin_password(data_dir: Path, given: str | None) -> tuple[str | None, bool]:
    """The admin password: the one given, else one generated once and kept (0600)."""
    if given:
        return given, False
    path = data_dir / "admin_password"
    if path.exists():
        return path.read_text().strip(), False
    password = secrets.token_urlsafe(12)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(password + "\n")
    return password, True


def start(args) -> int:
    if args.allow_serving_local_files:
        os.environ["LABELHUB_ALLOW_SERVING_LOCAL_FILES"] = "true"
    if args.host not in ("127.0.0.1", "localhost", "0.0.0.0", "::"):
        hosts = os.environ.get("LABELHUB_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
        os.environ["LABELHUB_ALLOWED_HOSTS"] = f"{hosts},{args.host}"
    _django_setup(args.data_dir)
    from django.conf import settings
    from django.core.management import call_command

    from projects.services import admin_ensure

    call_command("migrate", interactive=False, verbosity=0)
    email = args.username or "admin@localhost"
    password, generated = _admin_password(settings.DATA_DIR, args.password)
    admin_ensure(
        email=email, password=password, token=args.user_token, reset_password=bool(args.password)
    )
    print(f"LabelHub data directory: {settings.DATA_DIR}")
    print(f"Database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}")
    if generated:
        print(f"Admin: {email} / password {password} (kept in {settings.DATA_DIR}/admin_password)")
    else:
        print(f"Admin: {email}")
    print(f"Open http://{args.host}:{args.port}/", flush=True)

    env = os.environ.copy()
    env["LABELHUB_DATA_DIR"] = str(settings.DATA_DIR)
    bin_dir = Path(sys.executable).parent
    procs = [
        subprocess.Popen(
            [
                str(bin_dir / "gunicorn"),
                "--config",
                "python:labelhub.gunicorn_conf",
                "labelhub.wsgi:application",
                "--bind",
                f"{args.host}:{args.port}",
                "--workers",
                str(args.workers),
            ],
            env=env,
        )
    ]
    if not args.no_worker:
        procs.append(
            subprocess.Popen(
                [
                    str(bin_dir / "celery"),
                    "-A",
                    "labelhub",
                    "worker",
                    "--loglevel=INFO",
                    "--concurrency=2",
                ],
                env=env,
            )
        )
        # Calls to outside servers (webhook deliveries, LABELHUB_OUTBOUND_QUEUE's remote
        # ML jobs) get a worker of their own: a slow receiver holds it (up to each call's
        # deadline), never the slots of imports, snapshots and built-in training.
        outside = [
            queue
            for queue in (settings.LABELHUB_WEBHOOK_QUEUE, settings.LABELHUB_OUTBOUND_QUEUE)
            if queue
        ]
        if outside:
            procs.append(
                subprocess.Popen(
                    [
                        str(bin_dir / "celery"),
                        "-A",
                        "labelhub",
                        "worker",
                        "--loglevel=INFO",
                        "--concurrency=2",
                        "-Q",
                        ",".join(dict.fromkeys(outside)),
                        "-n",
                        "outbound@%h",
                    ],
                    env=env,
                )
            )
    return _supervise(procs)


def _supervise(procs: list[subprocess.Popen]) -> int:
    """Wait for the first child to exit (or a signal), then stop the others."""
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    while not stopping:
        exited = [p for p in procs if p.poll() is not None]
        if exited:
            code = exited[0].returncode or 0
            break
        time.sleep(0.5)
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return code


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="labelhub", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    _start_parser(sub)
    from importers.cli import add_parsers
    from ml.cli import add_parsers as add_ml_parsers

    add_parsers(sub)
    add_ml_parsers(sub)
    if argv and argv[0] not in sub.choices and not argv[0].startswith("-"):
        _django_setup()
        from django.core.management import execute_from_command_line

        execute_from_command_line(["labelhub", *argv])
        return 0
    args = parser.parse_args(argv)
    if args.command == "start":
        return start(args)
    if args.command is None:
        parser.print_help()
        return 2
    _django_setup(getattr(args, "data_dir", None))
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
