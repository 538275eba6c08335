from django.apps import AppConfig
from django.db.backends.signals import connection_created

from labelhub import registrations, sqlite_regex


class ProjectsConfig(AppConfig):
    name = "projects"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The first app: SQLite's REGEXP is ours (bounded) before any query runs.
        connection_created.connect(sqlite_regex.register, dispatch_uid="labelhub-sqlite-regexp")
        registrations.defer(_register)


def _register() -> None:
    # Every number a serializer takes is range-checked (issue #24 row 9), and every JSON
    # field is nesting-checked whatever the body type (row 3): before the first request
    # (serializers serve only the API) or job. Not at django.setup(): DRF's fields
    # import its compat module, and with it requests, PyYAML and Pygments (0.2 s).
    from labelhub.validation import bound_drf_numbers, limit_drf_json

    bound_drf_numbers()
    limit_drf_json()

    # The labels step of the Label Studio migration (labelhub.migration_steps).
    from labelhub import migration_steps
    from projects import migration

    migration_steps.register(
        migration_steps.Step(
            name="labels", run=migration.labels_copy, order=15, shared_kinds=("label",)
        )
    )
