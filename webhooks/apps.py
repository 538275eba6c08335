from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The apps that change things publish to the core bus; they may not import us.
        from labelhub import events  # noqa: PLC0415
        from webhooks import services  # noqa: PLC0415

        events.subscribe(services.event_published)
