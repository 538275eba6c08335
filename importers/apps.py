from django.apps import AppConfig


class ImportersConfig(AppConfig):
    name = "importers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The Data Manager's file_upload column reads the uploads (datamanager cannot
        # import importers).
        from datamanager import columns
        from importers import uploads

        columns.column_register(uploads.file_upload_column(), row_value=uploads.upload_file)
