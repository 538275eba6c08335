"""gunicorn settings shared by ``labelhub start``, the Dockerfile and docker-compose.yml
(``gunicorn -c python:labelhub.gunicorn_conf labelhub.wsgi:application``); command-line
flags (``--bind``, ``--workers``) override them.

``preload_app``: the master imports Django and the apps once, before it listens, and
forks ready workers. Without it the socket accepted requests while each worker was
still importing (scikit-learn and the rest, 2-4 s on this 2-core machine), so the first
users of a fresh server waited that long: bench/load.py's first 48 requests took 4.3 s
(p95 of the whole 60 s run 3.8 s) against 30 ms for the rest. The forked workers also
share the imported code's memory copy-on-write.

``post_fork`` closes any database connection the master may hold, so no two workers
share one socket, and sets the worker's garbage collector (``_collector_set``).
``post_worker_init`` starts each worker's threads with their database connections
before the worker takes its first request.
"""

import gc
import os
import threading

preload_app = True
workers = int(os.environ.get("LABELHUB_WORKERS", 2))
threads = int(os.environ.get("LABELHUB_THREADS", 4))
timeout = 600
# Idle keep-alive connections stay open 75 s (nginx's default), not gunicorn's 2 s. With
# 2 s, a script polling every 2 s through one session sent its next request on the
# pooled connection just as the server closed it: the request crossed the server's FIN
# and the client saw "Remote end closed connection without response" (requests does not
# retry a request it already sent). Busy workers during training and prediction jobs made
# the crossing likelier (issue #24 row 15). Clients drop idle connections well before
# 75 s, so the close comes from their side. gthread workers keep idle connections in
# their poller, not in a thread, so a long keep-alive costs a file descriptor, no thread.
keepalive = int(os.environ.get("LABELHUB_KEEPALIVE", 75))
accesslog = "-"
# The access log carries each request's duration in milliseconds (%(M)s).
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'


# Container objects alive in a request before the collector's young generation is
# examined (Python's default is 700).
YOUNG_THRESHOLD = 10_000


def _collector_set() -> None:
    """The worker's garbage collector: what the app loaded before the fork is frozen (the
    collector no longer walks it, and its pages stay shared with the master), and the
    young generation is examined at 10,000 live objects, not 700.

    A request leaves no reference cycles behind (``labelhub.wsgi.Handler``), so what it
    allocates is freed when it ends, and at 700 the collector ran only to walk what the
    running request still held: the task list's page (30 tasks with their annotations
    and predictions) holds more, and paid a young collection each time (0.1 ms) and a
    middle one every tenth. Unfrozen, a full collection walked the whole loaded app:
    97 ms in a worker run straight from gunicorn (gc.callbacks)."""
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def post_fork(server, worker):
    from django.db import connections

    connections.close_all()
    _collector_set()


def post_worker_init(worker):
    """Start every thread of the worker's pool, each with its database connection, before
    the first request. The pool starts a thread when a request arrives and no thread is
    idle, and a thread that has just answered is not idle yet when the client's next
    request on the same connection arrives: a fresh server's first few requests each got
    a new thread and opened a connection (3-5 ms against 2 ms for a warm thread, the
    second request of every new client; bench/api_bench.py's project create).

    The warm-ups wait for each other, so no thread is idle until all are started."""
    pool = getattr(worker, "tpool", None)  # gthread workers only
    if pool is None:
        return
    started = threading.Barrier(worker.cfg.threads)

    def warm_up():
        from django.db import connection

        try:
            connection.ensure_connection()
        finally:
            started.wait(timeout=30)

    for future in [pool.submit(warm_up) for _ in range(worker.cfg.threads)]:
        try:
            future.result()
        except Exception as exc:  # a database not up yet: the request will say so
            worker.log.warning("warm-up of a web thread failed: %s", exc)
