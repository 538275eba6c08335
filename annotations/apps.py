from django.apps import AppConfig

from labelhub import registrations


class AnnotationsConfig(AppConfig):
    name = "annotations"

    def ready(self) -> None:
        registrations.defer(_register)


def _register() -> None:
    # The drafts step of the Label Studio migration (labelhub.migration_steps):
    # importers copies tasks and annotations, this app its own drafts.
    from annotations import migration
    from labelhub import migration_steps

    migration_steps.register(
        migration_steps.Step(
            name="drafts", run=migration.drafts_copy, order=5, count=migration.drafts_count
        )
    )
