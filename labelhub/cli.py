"""The ``labelhub`` command: ``start``, ``init``, ``import`` and ``train``; anything else goes to
Django's management commands (``labelhub migrate``, ``labelhub shell``...)."""

import argparse
import gc
import os
import secrets
import signal
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


def _prepare(args) -> dict:
    """Migrate, ensure the admin and print how to log in; what the launcher needs next."""
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
    outside = (settings.LABELHUB_WEBHOOK_QUEUE, settings.LABELHUB_OUTBOUND_QUEUE)
    return {
        "data_dir": str(settings.DATA_DIR),
        "outside_queues": list(dict.fromkeys(queue for queue in outside if queue)),
    }


def _prepared(fork, args) -> dict:
    """``_prepare`` in a child process, which answers through a pipe and exits.

    ``migrate`` imports every migration and renders the models' states from them, and
    what it leaves behind (about 10 MB of heap) would otherwise sit in the launcher and,
    through the forks, in every process of the tree (bench/README.md, "Memory at rest")."""
    reader, writer = fork.Pipe(duplex=False)
    child = fork.Process(target=_prepare_into, args=(args, writer), name="labelhub-prepare")
    child.start()
    writer.close()
    try:
        info = reader.recv()
    except EOFError:  # the child failed; it has said why
        info = None
    finally:
        child.join()
    if child.exitcode or info is None:
        raise SystemExit(child.exitcode or 1)
    return info


def _prepare_into(args, writer) -> None:
    from django.core.exceptions import ImproperlyConfigured

    _name_process("labelhub-prepare")
    try:
        writer.send(_prepare(args))
    except ImproperlyConfigured as exc:  # a setting the user gave: the reason, no traceback
        raise SystemExit(f"labelhub start: {exc}") from None
    writer.close()


def _name_process(name: str) -> None:
    """Name this process (``ps -o comm``, top): the children are forks of the launcher, so
    their command lines all read ``labelhub start``."""
    try:
        Path("/proc/self/comm").write_text(name[:15])
    except OSError:  # not Linux
        pass


def _serve_web(args) -> None:
    """gunicorn's own entry point, in a child forked from the prepared launcher."""
    from gunicorn.app.wsgiapp import WSGIApplication

    _name_process("labelhub-web")

    sys.argv = [
        "gunicorn",
        "--config",
        "python:labelhub.gunicorn_conf",
        "labelhub.wsgi:application",
        "--bind",
        f"{args.host}:{args.port}",
        "--workers",
        str(args.workers),
    ]
    WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").run()


def _serve_worker(name: str, booted, *extra: str) -> None:
    """A Celery worker that keeps no pool process at rest: ``--autoscale=2,0`` forks up to
    two when jobs arrive and lets them go when idle, their memory with them. ``booted``
    (an event) is set once the worker takes jobs.

    No ``--max-memory-per-child`` (or ``--max-tasks-per-child``) beside the autoscaler: with
    both, a job was once received and never run (the replaced pool process and the
    autoscaler's shrink and growth lost track of each other, celery issues 4185 and 4809;
    bench/README.md)."""
    from celery.signals import worker_ready

    from labelhub.celery import app

    _name_process(name)
    worker_ready.connect(lambda **kwargs: booted.set(), weak=False)
    app.worker_main(["worker", "--loglevel=INFO", "--autoscale=2,0", *extra])


def start(args) -> int:
    """Prepare (in a child, ``_prepared``), then fork the web server and the workers from
    this process.

    Django, the apps and the task modules are imported here, once, before the forks, and
    ``gc.freeze()`` keeps the collector from touching them afterwards: every child shares
    those pages copy-on-write instead of importing its own copy (bench/footprint.py)."""
    if args.allow_serving_local_files:
        os.environ["LABELHUB_ALLOW_SERVING_LOCAL_FILES"] = "true"
    if args.host not in ("127.0.0.1", "localhost", "0.0.0.0", "::"):
        hosts = os.environ.get("LABELHUB_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
        os.environ["LABELHUB_ALLOWED_HOSTS"] = f"{hosts},{args.host}"
    import multiprocessing

    fork = multiprocessing.get_context("fork")
    info = _prepared(fork, args)
    _django_setup(info["data_dir"])

    from django.db import connections

    import labelhub.wsgi  # noqa: F401  (the app, loaded before the forks)
    from labelhub.celery import app

    app.loader.import_default_modules()
    connections.close_all()  # no child may inherit the launcher's database socket
    gc.collect()
    gc.freeze()

    children = {"web": (_serve_web, (args,))}
    if not args.no_worker:
        children["worker"] = (_serve_worker, ("labelhub-worker", fork.Event()))
        if info["outside_queues"]:
            # Calls to outside servers (webhook deliveries, LABELHUB_OUTBOUND_QUEUE's remote
            # ML jobs) get a worker of their own: a slow receiver holds it (up to each
            # call's deadline), never the slots of imports, snapshots and built-in training.
            children["outbound"] = (
                _serve_worker,
                (
                    "labelhub-hooks",
                    fork.Event(),
                    *("-Q", ",".join(info["outside_queues"]), "-n", "outbound@%h"),
                ),
            )
    return _supervise(fork, children)


WORKER_BOOT_WAIT = 15.0  # seconds the web server waits for the workers' start-up
WORKER_RESTARTS = 5  # within RESTART_WINDOW seconds; more and the server stops
RESTART_WINDOW = 60.0


def _child(target, target_args) -> None:
    """A child starts with the default SIGTERM and SIGINT, not the launcher's handler: a
    worker forked again after a crash and stopped while it is still starting (before Celery
    sets its own handlers) then stops at once, instead of noting the stop in its copy of the
    launcher's flag and running on until the launcher kills it 20 s later."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    target(*target_args)


def _supervise(fork, children: dict) -> int:
    """Run each child; a worker that dies is started again (its jobs were acknowledged
    late, so the broker hands them out again), unless it keeps dying; when the web server
    exits, or on SIGINT/SIGTERM, stop them all."""
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    def launch(name):
        proc = fork.Process(target=_child, args=children[name], name=name)
        proc.start()
        return proc

    # The workers first, and the web server once they take jobs (or after WORKER_BOOT_WAIT
    # seconds): a worker's start-up took the CPU from the first requests of a server that
    # already answered (a new server's first project creates took 12-21 ms, not 4).
    procs = {name: launch(name) for name in children if name != "web"}
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    deadline = time.monotonic() + WORKER_BOOT_WAIT
    for name, proc in procs.items():
        booted = children[name][1][1]
        while not (stopping or booted.wait(0.1)) and proc.is_alive():
            if time.monotonic() > deadline:
                break
    if not stopping:
        procs["web"] = launch("web")
    restarts: list[float] = []
    code = 0
    while not stopping:
        for name, proc in list(procs.items()):
            if proc.is_alive():
                continue
            now = time.monotonic()
            restarts = [t for t in restarts if now - t < RESTART_WINDOW]
            if name == "web" or len(restarts) >= WORKER_RESTARTS:
                code = proc.exitcode or 0
                stopping = True
                print(f"labelhub start: {name} exited ({proc.exitcode}); stopping", file=sys.stderr)
                break
            restarts.append(now)
            print(f"labelhub start: {name} exited ({proc.exitcode}); restarting", file=sys.stderr)
            procs[name] = launch(name)
        time.sleep(0.2)
    for proc in procs.values():
        if proc.is_alive():
            proc.terminate()
    deadline = time.monotonic() + 20
    for proc in procs.values():
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join()
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
