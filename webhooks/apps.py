from django.apps import AppConfig

from labelhub import registrations


class WebhooksConfig(AppConfig):
    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        registrations.defer(_register)


def _register() -> None:
    # The apps that change things publish to the core bus; they may not import us.
    from labelhub import events, migration_steps
    from webhooks import migration, services

    events.subscribe(services.event_published)
    migration_steps.register(
        migration_steps.Step(name="webhooks", run=migration.webhooks_copy, order=30)
    )
