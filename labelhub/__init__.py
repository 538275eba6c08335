"""LabelHub. The Celery app (``labelhub.celery``) is made at the first
``registrations.load()``, before the apps' registrations: every path that sends a task
(the job framework, the event subscribers, the servers, a starting worker) loads them
first, so no task goes to Celery's unconfigured default app, and ``django.setup()`` alone
does not import Celery (about 0.1 s; bench/README.md, "Memory at rest")."""

from labelhub import registrations


def _celery_app() -> None:
    import labelhub.celery  # noqa: F401


registrations.defer(_celery_app)
