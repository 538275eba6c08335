import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
application = get_wsgi_application()


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
