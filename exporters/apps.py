from django.apps import AppConfig

from labelhub import registrations


class ExportersConfig(AppConfig):
    name = "exporters"

    def ready(self) -> None:
        registrations.defer(_register)


def _register() -> None:
    # The snapshot build and its conversions, run by the core's one job framework.
    from exporters import snapshots
    from labelhub import jobs

    jobs.register(snapshots.KIND)
    jobs.register(snapshots.CONVERT)
