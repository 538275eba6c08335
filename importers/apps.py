from django.apps import AppConfig

from labelhub import registrations


class ImportersConfig(AppConfig):
    name = "importers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        registrations.defer(_register)


def _register() -> None:
    # The import and migration jobs, run by the core's one job framework.
    from datamanager import columns
    from importers import jobs as import_jobs
    from importers import uploads
    from importers.lsmigrate import jobs as migration_jobs
    from labelhub import jobs

    jobs.register(import_jobs.KIND)
    jobs.register(migration_jobs.KIND)
    # The Data Manager's file_upload column reads the uploads (datamanager cannot
    # import importers).
    columns.column_register(uploads.file_upload_column(), row_value=uploads.upload_file)
