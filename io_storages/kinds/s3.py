"""Amazon S3 and S3-compatible stores (MinIO, moto), through boto3.

Without keys of its own a storage would fall back to the server's credentials
(environment, ~/.aws, the instance role) and sign any bucket with them for any project
admin, so that fallback needs ``LABELHUB_S3_ALLOW_AMBIENT_CREDENTIALS``; else a missing
key is a 400 that says so.
"""

from collections.abc import Iterator

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from django.conf import settings

from io_storages.backend import Backend as BaseBackend
from io_storages.backend import Field, ObjectInfo, StorageError
from io_storages.endpoints import url_vet

TITLE = "AWS S3"
FIELDS = [
    Field("bucket", required=True, label="Bucket Name"),
    Field("prefix", label="Bucket Prefix"),
    Field("region_name", label="Region Name"),
    Field("s3_endpoint", label="S3 Endpoint"),
    Field("aws_access_key_id", secret=True, label="Access Key ID"),
    Field("aws_secret_access_key", secret=True, label="Secret Access Key"),
    Field("aws_session_token", secret=True, label="Session Token"),
    Field("aws_sse_kms_key_id", label="SSE KMS Key ID", only="export"),
]
MISSING_KEYS = (
    "This storage has no AWS credentials: set aws_access_key_id and aws_secret_access_key. "
    "(The server's own credentials are used only when LABELHUB_S3_ALLOW_AMBIENT_CREDENTIALS "
    "is on.)"
)


def _message(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return error.get("Message") or error.get("Code") or str(exc)
    return str(exc)


class Backend(BaseBackend):
    scheme = "s3"

    def __init__(self, storage) -> None:
        super().__init__(storage)
        endpoint = storage.option("s3_endpoint", "")
        if endpoint:
            url_vet(endpoint, field="s3_endpoint")
        key_id = storage.secret("aws_access_key_id")
        secret = storage.secret("aws_secret_access_key")
        if not (key_id and secret) and not settings.LABELHUB_S3_ALLOW_AMBIENT_CREDENTIALS:
            missing = [
                name
                for name, value in (
                    ("aws_access_key_id", key_id),
                    ("aws_secret_access_key", secret),
                )
                if not value
            ]
            raise StorageError(MISSING_KEYS, missing)
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint or None,
            region_name=storage.option("region_name") or None,
            aws_access_key_id=key_id or None,
            aws_secret_access_key=secret or None,
            aws_session_token=storage.secret("aws_session_token") or None,
            config=Config(
                signature_version="s3v4",
                retries={"max_attempts": 2},
                connect_timeout=5,
                read_timeout=60,
            ),
        )

    def _fail(self, exc: Exception) -> StorageError:
        if isinstance(exc, NoCredentialsError):
            return StorageError(MISSING_KEYS, "aws_access_key_id")
        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            # Label Studio's wording for the two common cases.
            if code in ("NoSuchBucket", "404") or (status == 404 and code != "NoSuchKey"):
                return StorageError(f"Cannot find bucket {self.container} in S3", "bucket")
            if code in ("SignatureDoesNotMatch", "InvalidAccessKeyId", "403") or status == 403:
                return StorageError(
                    f"Cannot connect to S3 {self.container} with specified AWS credentials",
                    "aws_access_key_id",
                )
        return StorageError(f"S3 error for s3://{self.container}/{self.prefix}: {_message(exc)}")

    def check(self, *, source: bool) -> None:
        try:
            if self.prefix and source:
                found = self.client.list_objects_v2(
                    Bucket=self.container, Prefix=self.prefix, MaxKeys=1
                )
                if not found.get("KeyCount"):
                    raise StorageError(
                        f"s3://{self.container}/{self.prefix} not found (no object has this prefix).",
                        "prefix",
                    )
            else:
                self.client.head_bucket(Bucket=self.container)
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(exc) from None

    def iter_objects(self, *, recursive: bool) -> Iterator[ObjectInfo]:
        arguments: dict = {"Bucket": self.container, "PaginationConfig": {"PageSize": 1000}}
        if self.list_prefix():
            arguments["Prefix"] = self.list_prefix()
        if not recursive:
            arguments["Delimiter"] = "/"
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(**arguments):
                for item in page.get("Contents", []):
                    if not item["Key"].endswith("/"):
                        yield ObjectInfo(item["Key"], item.get("LastModified"), item.get("Size"))
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(exc) from None

    def read(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.container, Key=key)["Body"].read()
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(exc) from None

    def open(self, key: str):
        try:
            answer = self.client.get_object(Bucket=self.container, Key=key)
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(exc) from None
        return (
            answer["Body"].iter_chunks(1 << 16),
            answer.get("ContentType"),
            answer.get("ContentLength"),
        )

    def presigned_url(self, key: str, seconds: int) -> str | None:
        try:
            return self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.container, "Key": key}, ExpiresIn=seconds
            )
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(exc) from None

    def write(self, key: str, body: bytes) -> None:
        extra: dict = {}
        kms = self.storage.option("aws_sse_kms_key_id")
        if kms:
            extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms}
        try:
            self.client.put_object(Bucket=self.container, Key=key, Body=body, **extra)
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(exc) from None

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.container, Key=key)
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(exc) from None
