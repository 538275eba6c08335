"""Google Cloud Storage, through google-cloud-storage.

A storage signs in with its own service account (``google_application_credentials``,
the key file's JSON). The server's own Google credentials are never used for it (the same
reason as S3's ambient keys): without a key the storage is refused, except against the
server's configured emulator (``LABELHUB_GCS_ENDPOINT``, set by an admin, e.g. to a
``gcp-storage-emulator``), which takes anonymous calls. Presigned URLs need a key that
can sign; without one the objects are streamed through the server.
"""

import json
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from google.api_core import exceptions as google_errors
from google.auth.credentials import AnonymousCredentials
from google.auth.exceptions import GoogleAuthError
from google.cloud import storage as gcs
from google.oauth2 import service_account

from io_storages.backend import Backend as BaseBackend
from io_storages.backend import Field, ObjectInfo, StorageError

TITLE = "Google Cloud Storage"
FIELDS = [
    Field("bucket", required=True, label="Bucket Name"),
    Field("prefix", label="Bucket Prefix"),
    Field("google_application_credentials", secret=True, label="Google Application Credentials"),
    Field("google_project_id", label="Google Project ID"),
]
ERRORS = (google_errors.GoogleAPIError, GoogleAuthError, OSError, ValueError)


class Backend(BaseBackend):
    scheme = "gs"

    def __init__(self, storage) -> None:
        super().__init__(storage)
        raw = storage.secret("google_application_credentials")
        project = storage.option("google_project_id") or None
        self.signer = None
        options = None
        if settings.LABELHUB_GCS_ENDPOINT:
            options = {"api_endpoint": settings.LABELHUB_GCS_ENDPOINT}
        if raw:
            try:
                info = json.loads(raw) if isinstance(raw, str) else raw
                credentials = service_account.Credentials.from_service_account_info(info)
            except (ValueError, TypeError, KeyError) as exc:
                raise StorageError(
                    f"google_application_credentials is not a service account key: {exc}",
                    "google_application_credentials",
                ) from None
            self.signer = credentials
            project = project or info.get("project_id")
        elif options is not None:
            credentials = AnonymousCredentials()
        else:
            raise StorageError(
                "This storage has no Google credentials: set google_application_credentials "
                "(the service account key JSON).",
                "google_application_credentials",
            )
        self.client = gcs.Client(
            project=project or "labelhub", credentials=credentials, client_options=options
        )
        self.timeout = settings.LABELHUB_STORAGE_TIMEOUT

    def _fail(self, exc: Exception) -> StorageError:
        message = getattr(exc, "message", None) or str(exc)
        return StorageError(f"GCS error for gs://{self.container}/{self.prefix}: {message}")

    def _bucket(self):
        return self.client.bucket(self.container)

    def check(self, *, source: bool) -> None:
        try:
            if not self._bucket().exists(timeout=self.timeout):
                raise StorageError(f"Cannot find bucket {self.container} in GCS", "bucket")
            if source and self.prefix:
                found = list(
                    self.client.list_blobs(
                        self.container, prefix=self.prefix, max_results=1, timeout=self.timeout
                    )
                )
                if not found:
                    raise StorageError(
                        f"gs://{self.container}/{self.prefix} not found (no object has this prefix).",
                        "prefix",
                    )
        except ERRORS as exc:
            raise self._fail(exc) from None

    def iter_objects(self, *, recursive: bool) -> Iterator[ObjectInfo]:
        arguments: dict = {"prefix": self.list_prefix() or None, "timeout": self.timeout}
        if not recursive:
            arguments["delimiter"] = "/"
        try:
            for blob in self.client.list_blobs(self.container, **arguments):
                if not blob.name.endswith("/"):
                    yield ObjectInfo(blob.name, blob.updated, blob.size)
        except ERRORS as exc:
            raise self._fail(exc) from None

    def read(self, key: str) -> bytes:
        try:
            return self._bucket().blob(key).download_as_bytes(timeout=self.timeout)
        except ERRORS as exc:
            raise self._fail(exc) from None

    def open(self, key: str):
        try:
            blob = self._bucket().get_blob(key, timeout=self.timeout)
            if blob is None:
                raise StorageError(f"gs://{self.container}/{key} does not exist")
            body = blob.download_as_bytes(timeout=self.timeout)
        except ERRORS as exc:
            raise self._fail(exc) from None
        return iter([body]), blob.content_type, len(body)

    def presigned_url(self, key: str, seconds: int) -> str | None:
        if self.signer is None:
            return None
        try:
            return (
                self._bucket()
                .blob(key)
                .generate_signed_url(
                    version="v4",
                    expiration=timedelta(seconds=seconds),
                    method="GET",
                    credentials=self.signer,
                )
            )
        except ERRORS as exc:
            raise self._fail(exc) from None

    def write(self, key: str, body: bytes) -> None:
        try:
            self._bucket().blob(key).upload_from_string(
                body, content_type="application/json", timeout=self.timeout
            )
        except ERRORS as exc:
            raise self._fail(exc) from None

    def delete(self, key: str) -> None:
        try:
            self._bucket().blob(key).delete(timeout=self.timeout)
        except google_errors.NotFound:
            return
        except ERRORS as exc:
            raise self._fail(exc) from None
