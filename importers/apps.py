from django.apps import AppConfig


class ImportersConfig(AppConfig):
    name = "importers"

    def ready(self) -> None:
        # The import and migration jobs, run by the core's one job framework.
        from importers import jobs as import_jobs
        from importers.lsmigrate import jobs as migration_jobs
        from labelhub import jobs

        jobs.register(import_jobs.KIND)
        jobs.register(migration_jobs.KIND)
