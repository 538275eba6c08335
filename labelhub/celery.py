import os

from celery import Celery
from celery.signals import worker_init

from labelhub import registrations

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")

app = Celery("labelhub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _load_registrations(**kwargs) -> None:
    """A worker registers the apps' job kinds, subscribers and steps before its first
    task (``labelhub.registrations``), as the web server does before its first request."""
    registrations.load()
