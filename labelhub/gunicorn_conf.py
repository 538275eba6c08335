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
share one socket. ``post_worker_init`` starts each worker's threads with their database
connections before the worker takes its first request.
"""

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


def post_fork(server, worker):
    from django.db import connections

    connections.close_all()


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
