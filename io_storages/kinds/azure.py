"""Azure Blob Storage, through azure-storage-blob.

A storage names its account (``account_name``, 3-24 lowercase letters and digits, as
Azure requires) and key (``account_key``). The account URL comes from the server's
``LABELHUB_AZURE_BLOB_ENDPOINT`` template (``https://{account_name}.blob.core.windows.net``
by default; an admin points it at Azurite), so a storage's owner cannot aim the server
at another host. Presigned URLs are read-only SAS tokens for ``presign_ttl`` minutes.
Task data points at ``azure-blob://<container>/<key>`` (Label Studio's form).
"""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.storage.blob import BlobSasPermissions, BlobServiceClient, generate_blob_sas
from django.conf import settings

from io_storages.backend import Backend as BaseBackend
from io_storages.backend import Field, ObjectInfo, StorageError

TITLE = "Microsoft Azure"
FIELDS = [
    Field("container", required=True, label="Container Name"),
    Field("prefix", label="Container Prefix"),
    Field("account_name", label="Account Name"),
    Field("account_key", secret=True, label="Account Key"),
]
ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")


class Backend(BaseBackend):
    scheme = "azure-blob"
    container_field = "container"

    def __init__(self, storage) -> None:
        super().__init__(storage)
        name = str(storage.option("account_name") or "")
        key = storage.secret("account_key")
        if not ACCOUNT.match(name):
            raise StorageError(
                "account_name must be 3 to 24 lowercase letters and digits", "account_name"
            )
        if not key:
            raise StorageError("This storage has no account_key.", "account_key")
        self.account_name, self.account_key = name, key
        self.account_url = settings.LABELHUB_AZURE_BLOB_ENDPOINT.format(account_name=name)
        timeout = settings.LABELHUB_STORAGE_TIMEOUT
        self.client = BlobServiceClient(
            account_url=self.account_url,
            credential={"account_name": name, "account_key": key},
            connection_timeout=timeout,
            read_timeout=max(timeout, 30),
            retry_total=1,
        )
        self.container_client = self.client.get_container_client(self.container)

    def _fail(self, exc: Exception) -> StorageError:
        message = getattr(exc, "reason", None) or str(exc).splitlines()[0]
        return StorageError(
            f"Azure error for azure-blob://{self.container}/{self.prefix}: {message}"
        )

    def check(self, *, source: bool) -> None:
        try:
            if not self.container_client.exists():
                raise StorageError(f"Cannot find container {self.container} in Azure", "container")
            if source and self.prefix:
                found = next(
                    iter(self.container_client.list_blobs(name_starts_with=self.prefix)), None
                )
                if found is None:
                    raise StorageError(
                        f"azure-blob://{self.container}/{self.prefix} not found "
                        "(no object has this prefix).",
                        "prefix",
                    )
        except (AzureError, ValueError) as exc:
            raise self._fail(exc) from None

    def iter_objects(self, *, recursive: bool) -> Iterator[ObjectInfo]:
        prefix = self.list_prefix() or None
        try:
            if recursive:
                items = self.container_client.list_blobs(name_starts_with=prefix)
            else:
                items = self.container_client.walk_blobs(name_starts_with=prefix, delimiter="/")
            for blob in items:
                if getattr(blob, "size", None) is None or blob.name.endswith("/"):
                    continue  # a "folder" (BlobPrefix) when not recursive
                yield ObjectInfo(blob.name, blob.last_modified, blob.size)
        except (AzureError, ValueError) as exc:
            raise self._fail(exc) from None

    def read(self, key: str) -> bytes:
        try:
            return self.container_client.download_blob(key).readall()
        except (AzureError, ValueError) as exc:
            raise self._fail(exc) from None

    def open(self, key: str):
        try:
            download = self.container_client.download_blob(key)
            content_type = download.properties.content_settings.content_type
            return download.chunks(), content_type, download.size
        except (AzureError, ValueError) as exc:
            raise self._fail(exc) from None

    def presigned_url(self, key: str, seconds: int) -> str | None:
        token = generate_blob_sas(
            account_name=self.account_name,
            container_name=self.container,
            blob_name=key,
            account_key=self.account_key,
            permission=BlobSasPermissions(read=True),
            expiry=datetime.now(UTC) + timedelta(seconds=seconds),
        )
        return f"{self.account_url}/{self.container}/{quote(key)}?{token}"

    def write(self, key: str, body: bytes) -> None:
        try:
            self.container_client.upload_blob(key, body, overwrite=True)
        except (AzureError, ValueError) as exc:
            raise self._fail(exc) from None

    def delete(self, key: str) -> None:
        try:
            self.container_client.delete_blob(key)
        except ResourceNotFoundError:
            return
        except (AzureError, ValueError) as exc:
            raise self._fail(exc) from None
