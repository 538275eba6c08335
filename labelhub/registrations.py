"""The apps' registrations into the registries of the apps below them, made at first use.

Each app registers what it plugs into lower apps (job kinds, Label Studio migration
steps, event subscribers, Data Manager actions and columns, samplers) from its
``AppConfig.ready``. Done there directly, ``django.setup()`` imported the modules behind
every registration (the import and export jobs, the storages, the webhook senders, DRF's
views and, through them, Celery, requests, Pillow, lxml...): 0.7-0.9 s for every
management command, test run and script (bench/README.md, "Memory at rest"). So
``ready()`` hands its registrations to ``defer`` and ``load`` runs them, once, when they
are first needed:

- by every registry, before it is read (``labelhub.jobs``, ``labelhub.migration_steps``,
  ``labelhub.events``, ``annotations.events``, ``annotations.sampling``, the Data
  Manager's actions and the model-version sources);
- by the servers before they serve: the WSGI module (``labelhub start`` imports it before
  it forks, so the children share the loaded modules) and a starting Celery worker.
"""

import threading
from collections.abc import Callable

_pending: list[Callable[[], None]] = []
_lock = threading.RLock()
_loaded = threading.Event()


def defer(register: Callable[[], None]) -> None:
    """Run ``register`` (an app's registrations) at the first ``load``."""
    with _lock:
        _pending.append(register)
        _loaded.clear()


def load() -> None:
    """Run the pending registrations, in the order the apps deferred them (the order of
    ``INSTALLED_APPS``). Cheap once done; a second thread waits for the first to finish,
    so no registry is read half filled."""
    if _loaded.is_set():
        return
    with _lock:
        while _pending:
            _pending.pop(0)()
        _loaded.set()
