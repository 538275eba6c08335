from django.apps import AppConfig
from django.db.backends.signals import connection_created

from labelhub import sqlite_regex


class ProjectsConfig(AppConfig):
    name = "projects"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The first app: SQLite's REGEXP is ours (bounded) before any query runs.
        connection_created.connect(sqlite_regex.register, dispatch_uid="labelhub-sqlite-regexp")
        # The labels step of the Label Studio migration (labelhub.migration_steps).
        from labelhub import migration_steps  # noqa: PLC0415
        from projects import migration  # noqa: PLC0415

        migration_steps.register(
            migration_steps.Step(
                name="labels", run=migration.labels_copy, order=15, shared_kinds=("label",)
            )
        )
