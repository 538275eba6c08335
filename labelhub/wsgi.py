import os
from functools import lru_cache, partial

import django
from django.core.handlers.wsgi import WSGIHandler
from django.urls import ResolverMatch, get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")


def _cycles_broken(request, response) -> None:
    """Empty the request, and the DRF view and request behind the response, once the
    response is closed (sent): each request otherwise left them as cyclic garbage that
    only the collector frees. Django's middleware ties the request to itself (the lazy
    ``request.user`` and ``auser`` hold it, so does the messages storage), and DRF ties
    the view, its request and the response to each other (``renderer_context``,
    ``parser_context``). The collector then ran about once per request, and each run
    also went through every object alive in the request at that moment: on the task
    list's first page, 0.2-0.3 ms a request for the young generation and 2 ms every
    tenth for the next (gc.callbacks in a gunicorn worker), more than a tenth of the
    request. Emptied, all of it is freed at once by reference counting."""
    context = response.__dict__.pop("renderer_context", None)
    if context:
        for owner in (context.get("view"), context.get("request")):
            if owner is not None:
                owner.__dict__.clear()
    request.__dict__.clear()


@lru_cache(maxsize=4096)
def _resolved(resolver, path: str):
    return resolver.resolve(path)


class Handler(WSGIHandler):
    """Django's WSGI handler, which leaves no reference cycles per request behind and
    remembers where its recent paths resolve."""

    def resolve_request(self, request):
        """Django's resolution, remembered per path (the last 4,096): the root URLconf
        includes each app's patterns in turn, and a path of the annotations app was
        matched against about 60 patterns each time, 7% of the next-task call (cProfile).
        Each request gets its own copy of the match (and of its keyword arguments), as
        Django's own resolution gives; a path that resolves nowhere is not remembered."""
        if hasattr(request, "urlconf"):  # set by a middleware: Django's own way
            return super().resolve_request(request)
        found = _resolved(get_resolver(), request.path_info)
        match = ResolverMatch.__new__(ResolverMatch)  # it refuses copy.copy (and pickling)
        match.__dict__.update(found.__dict__)
        match.kwargs = dict(found.kwargs)
        request.resolver_match = match
        return match

    def get_response(self, request):
        response = super().get_response(request)
        # After Django's own closer (``request.close``, which closes uploaded files), run
        # by ``response.close()`` before the ``request_finished`` signal, and then dropped.
        response._resource_closers.append(partial(_cycles_broken, request, response))
        return response


def _application() -> Handler:
    django.setup(set_prefix=False)
    return Handler()


application = _application()


def _load() -> None:
    """Import the URL modules and their views, and compile their prepared queries, now,
    not at each web worker's first requests.

    ``labelhub start`` and gunicorn's ``preload_app`` import this module before they fork,
    so the workers share the loaded views copy-on-write. Left to the first request, each
    worker imported them itself: that request took 100-200 ms more (bench/api_bench.py's
    project create, the first step on a new server), and each query's first use in each
    worker compiled it (about 1 ms each)."""
    from django.db import connections
    from django.urls import get_resolver

    from labelhub import prepared

    get_resolver().reverse_dict  # noqa: B018 (populating it imports every URLconf)
    prepared.compile_loaded()
    connections.close_all()  # none of it needs a connection kept for the forks


_load()
