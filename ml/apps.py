from django.apps import AppConfig

from labelhub import registrations


class MlConfig(AppConfig):
    name = "ml"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        registrations.defer(_register)


def _register() -> None:
    # Registrations into registries owned by apps to the left (they cannot import ml):
    # the active-learning sampler, the Data Manager action, annotation events; and the
    # training and prediction jobs into the core's job framework.
    from annotations import events as annotation_events
    from annotations import selectors as annotation_selectors
    from labelhub import jobs, migration_steps
    from ml import actions, events, migration, sampling  # noqa: F401
    from ml import jobs as ml_jobs
    from ml import selectors as ml_selectors

    annotation_events.subscribe(events.annotation_announced)
    annotation_selectors.model_version_source_register(ml_selectors.backend_knows_version)
    migration_steps.register(
        migration_steps.Step(name="ml_backends", run=migration.ml_backends_copy, order=20)
    )
    jobs.register(ml_jobs.TRAINING)
    jobs.register(ml_jobs.PREDICTION)
