from django.apps import AppConfig

from labelhub import registrations


class IoStoragesConfig(AppConfig):
    name = "io_storages"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        registrations.defer(_register)


def _register() -> None:
    # Targets follow annotation changes through annotations' events (annotations
    # cannot import io_storages).
    from annotations import events as annotation_events
    from datamanager import columns
    from io_storages import events, jobs, migration, selectors
    from labelhub import jobs as job_framework
    from labelhub import migration_steps

    annotation_events.subscribe(events.annotation_announced)
    # The source and target syncs, run by the core's one job framework.
    job_framework.register(jobs.IMPORT_SYNC)
    job_framework.register(jobs.EXPORT_SYNC)
    # The storages step of the Label Studio migration (labelhub.migration_steps).
    migration_steps.register(
        migration_steps.Step(name="storages", run=migration.storages_copy, order=40)
    )
    # The Data Manager's storage_filename column reads the storages' links.
    columns.column_register(
        selectors.storage_filename_column(), row_value=selectors.storage_filename
    )
