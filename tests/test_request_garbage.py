"""The WSGI app (``labelhub.wsgi.Handler``): a request leaves no reference cycles behind,
and each gets its own copy of a remembered URL resolution.

Each request's objects are then freed by reference counting when its response closes,
and the garbage collector of a web worker seldom runs (``labelhub.wsgi.Handler``,
``labelhub.gunicorn_conf``). Before, Django's middleware and DRF tied the request, the
view and the response into cycles, and the collector ran about once per request.
"""

import gc
import io
import json
import tracemalloc
from contextlib import contextmanager

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from rest_framework.authtoken.models import Token

from annotations.services import annotation_create
from importers.services import tasks_import
from labelhub import gunicorn_conf
from labelhub.wsgi import application
from tasks.models import Task
from tests.factories import choice


@contextmanager
def _connections_kept():
    """As Django's test client does: the app must not close the test's connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _call(method: str, path: str, token: str, body: dict | None = None) -> tuple[str, bytes]:
    raw = json.dumps(body).encode() if body is not None else b""
    path, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8080",
        "HTTP_AUTHORIZATION": f"Token {token}",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(raw)),
        "wsgi.input": io.BytesIO(raw),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    status = []
    response = application(environ, lambda s, headers, exc_info=None: status.append(s))
    try:
        content = b"".join(response)
    finally:
        response.close()
    return status[0], content


@pytest.mark.django_db(transaction=True)
def test_api_requests_leave_no_cycles(project, owner, annotator):
    """The framework's requests (middleware, authentication, DRF) and the hot endpoints.
    Django's ``prefetch_related`` still ties each instance to its prefetched queryset (the
    task detail's, for one): a cycle of its own, per request that prefetches."""
    ids = tasks_import(
        project=project, records=[{"text": f"t{i}"} for i in range(5)], user=owner
    ).task_ids
    annotation_create(task=Task.objects.get(pk=ids[0]), user=annotator, result=choice("Positive"))
    token = Token.objects.create(user=owner).key
    requests = [
        ("GET", f"/api/tasks/?project={project.pk}&page=1&page_size=30", None),
        ("GET", f"/api/projects/{project.pk}/next/", None),
        ("GET", "/api/current-user/whoami/", None),
        ("GET", "/api/projects/", None),
        ("POST", "/api/projects/", {"title": "more", "label_config": project.label_config}),
    ]
    with _connections_kept():
        for method, path, body in requests:  # warm: first calls fill caches
            status, content = _call(method, path, token, body)
            assert status[:1] == "2", (path, status, content[:300])
        gc.collect()
        gc.disable()
        tracemalloc.start(_FRAMES)
        try:
            for method, path, body in requests:
                status, content = _call(method, path, token, body)
                assert status[:1] == "2", (path, status, content[:300])
            gc.set_debug(gc.DEBUG_SAVEALL)
            gc.collect()
            # Only what these requests allocated: other threads of the test process (a
            # live server's, a closed connection's) may leave garbage of their own.
            left = [o for o in gc.garbage if _allocated_here(o) and not _djangos_own(o)]
            kinds = sorted({type(o).__name__ for o in left})
        finally:
            tracemalloc.stop()
            gc.set_debug(0)
            gc.garbage.clear()
            gc.enable()
    assert not left, f"{len(left)} objects in reference cycles after the requests: {kinds}"


_FRAMES = 256  # deep enough to reach this file's frame from any allocation in a request


def _allocated_here(obj) -> bool:
    trace = tracemalloc.get_object_traceback(obj)
    return trace is not None and any(frame.filename == __file__ for frame in trace)


# Django's SQL compiler defines a recursive closure for each query it compiles: the
# function, its cell and the cell tuple are the only cycle a request still leaves (three
# small objects per ORM query that is not prepared).
_DJANGO_CLOSURE = "SQLCompiler.get_select.<locals>.get_select_from_parent"


def _djangos_own(obj) -> bool:
    def is_closure(value) -> bool:
        return getattr(value, "__qualname__", None) == _DJANGO_CLOSURE

    if is_closure(obj):
        return True
    if type(obj).__name__ == "cell":
        return is_closure(obj.cell_contents)
    return type(obj) is tuple and len(obj) == 1 and _djangos_own(obj[0])


def test_a_web_worker_freezes_the_loaded_app_and_collects_less_often():
    before = gc.get_threshold()
    try:
        gunicorn_conf._collector_set()
        assert gc.get_threshold()[0] == gunicorn_conf.YOUNG_THRESHOLD
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_resolution_is_remembered_but_each_request_gets_its_own_match(rf):
    from django.urls import Resolver404, resolve

    from labelhub.wsgi import Handler

    handler = Handler()
    first = handler.resolve_request(rf.get("/api/projects/7/next/"))
    second = handler.resolve_request(rf.get("/api/projects/7/next/"))
    assert first is not second
    assert first.func is second.func is resolve("/api/projects/7/next/").func
    assert first.kwargs == second.kwargs == {"pk": 7}
    first.kwargs["pk"] = 8
    assert handler.resolve_request(rf.get("/api/projects/7/next/")).kwargs == {"pk": 7}
    assert handler.resolve_request(rf.get("/api/projects/9/next/")).kwargs == {"pk": 9}
    with pytest.raises(Resolver404):
        handler.resolve_request(rf.get("/api/no-such-path/"))
