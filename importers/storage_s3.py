"""S3 source storage: sync a bucket's objects into tasks, presign them for the browser.

A sync lists ``bucket/prefix`` (boto3's paginator, 1,000 keys a page), keeps the keys
that match ``regex_filter``, drops those already imported (one ``key IN (...)`` query
per page against ``S3ImportedKey``, never a scan of the project's tasks), and imports the
rest in one transaction, with the storage row locked so two syncs cannot import a key
twice. With ``use_blob_urls`` each object becomes a task whose data holds
``s3://bucket/key``; otherwise each object is a JSON (or JSONL) task file.

Browsers get at objects through ``GET /api/projects/{id}/presign/?fileuri=s3://...``,
which answers a redirect to a URL presigned for ``presign_ttl`` minutes, to project
members only. ``tasks.representations.storage_uris_resolved`` rewrites the ``s3://``
values of a task's data to that path, for the code that serves tasks to the editor.
"""

import base64
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from django.db import transaction
from django.utils import timezone

from importers.bulk import connection_idle
from importers.formats.jsonfile import loads_with_position
from importers.media import media_key, media_type
from importers.models import S3ImportedKey, S3SourceStorage
from importers.records import TaskRow
from importers.services import parsed_config, records_import
from importers.ssrf import vet
from labelhub.errors import ApiError
from labelhub.s3 import client_for

PAGE = 1000


def check_endpoint(endpoint: str) -> None:
    """An endpoint URL must pass the same host checks as a ``url=`` import."""
    if not endpoint:
        return
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApiError(
            "s3_endpoint must be an http or https URL",
            [{"field": "s3_endpoint", "message": "bad URL"}],
        )
    vet(endpoint, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))


def client(storage: S3SourceStorage):
    """Built by labelhub.s3.client_for, shared with the S3 target storage (exporters)."""
    return client_for(storage)


def _s3_error(storage: S3SourceStorage, exc: Exception) -> ApiError:
    message = str(exc)
    if isinstance(exc, ClientError):
        message = (
            exc.response.get("Error", {}).get("Message")
            or exc.response.get("Error", {}).get("Code")
            or message
        )
    return ApiError(f"S3 error for s3://{storage.bucket}/{storage.prefix}: {message}")


def _new_keys(storage: S3SourceStorage, s3, pattern) -> Iterator[list[str]]:
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(
        Bucket=storage.bucket, Prefix=storage.prefix or "", PaginationConfig={"PageSize": PAGE}
    ):
        keys = [
            item["Key"]
            for item in page.get("Contents", [])
            if not item["Key"].endswith("/") and (pattern is None or pattern.search(item["Key"]))
        ]
        if not keys:
            continue
        connection_idle()
        known = set(
            S3ImportedKey.objects.filter(storage=storage, key__in=keys).values_list(
                "key", flat=True
            )
        )
        new = [key for key in keys if key not in known]
        if new:
            yield new


def _records(storage: S3SourceStorage, s3, pages, parsed, imported: list[str]) -> Iterator:
    single = parsed.data_keys[0] if len(parsed.data_keys) == 1 else None
    for keys in pages:
        for key in keys:
            imported.append(key)
            if storage.use_blob_urls:
                kind = media_type(key)
                data_key = single or (media_key(parsed, kind, key) if kind else None)
                if data_key is None:
                    raise ApiError(
                        f"Cannot tell which data key s3://{storage.bucket}/{key} is for: the "
                        "labeling config reads several keys and the file type is not a known media type."
                    )
                yield TaskRow(data={data_key: f"s3://{storage.bucket}/{key}"}, meta={"s3_key": key})
                continue
            body = s3.get_object(Bucket=storage.bucket, Key=key)["Body"].read()
            if key.lower().endswith(".jsonl"):
                for number, line in enumerate(body.splitlines(), start=1):
                    if line.strip():
                        yield loads_with_position(
                            line, f"s3://{storage.bucket}/{key}, line {number}"
                        )
                continue
            value = loads_with_position(body, f"s3://{storage.bucket}/{key}")
            yield from value if isinstance(value, list) else [value]


def storage_sync(*, storage: S3SourceStorage, user) -> S3SourceStorage:
    """Import the objects not imported yet; all of them or (on any error) none."""
    check_endpoint(storage.s3_endpoint)
    pattern = re.compile(storage.regex_filter) if storage.regex_filter else None
    s3 = client(storage)
    imported: list[str] = []
    try:
        with transaction.atomic():
            locked = S3SourceStorage.objects.select_for_update().get(pk=storage.pk)
            project = locked.project
            records = _records(
                locked, s3, _new_keys(locked, s3, pattern), parsed_config(project), imported
            )
            result = records_import(project=project, records=records, user=user, allow_empty=True)
            S3ImportedKey.objects.bulk_create(
                [S3ImportedKey(storage=locked, key=key) for key in imported],
                batch_size=5000,
                ignore_conflicts=True,
            )
            S3SourceStorage.objects.filter(pk=storage.pk).update(
                last_sync=timezone.now(),
                last_sync_count=result.task_count,
                status="completed",
                traceback="",
            )
    except (BotoCoreError, ClientError) as exc:
        error = _s3_error(storage, exc)
        S3SourceStorage.objects.filter(pk=storage.pk).update(
            status="failed", traceback=str(error.detail)
        )
        raise error from None
    except ApiError as exc:
        S3SourceStorage.objects.filter(pk=storage.pk).update(
            status="failed", traceback=str(exc.detail)
        )
        raise
    storage.refresh_from_db()
    return storage


# --------------------------------------------------------------------------- presign


def parse_fileuri(value: str) -> tuple[str, str] | None:
    """``s3://bucket/key`` (plain or base64, as Label Studio sends it) -> (bucket, key)."""
    if not value.startswith("s3://"):
        try:
            value = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return None
    if not value.startswith("s3://"):
        return None
    bucket, _, key = value[5:].partition("/")
    return (bucket, key) if bucket and key else None


def presigned_url(*, project, fileuri: str) -> str | None:
    """A presigned GET for an object of one of the project's storages, else None."""
    parsed = parse_fileuri(fileuri)
    if parsed is None:
        return None
    bucket, key = parsed
    for storage in S3SourceStorage.objects.filter(project=project, bucket=bucket):
        if key.startswith(storage.prefix or ""):
            try:
                return client(storage).generate_presigned_url(
                    "get_object",
                    Params={"Bucket": bucket, "Key": key},
                    ExpiresIn=max(1, storage.presign_ttl) * 60,
                )
            except NoCredentialsError:
                raise ApiError(
                    "No AWS credentials were found for this storage.",
                    [{"field": "aws_access_key_id", "message": "required"}],
                ) from None
    return None


def storage_as_dict(storage: S3SourceStorage) -> dict:
    fields = [
        "id",
        "title",
        "description",
        "bucket",
        "prefix",
        "regex_filter",
        "use_blob_urls",
        "presign",
        "presign_ttl",
        "s3_endpoint",
        "region_name",
        "last_sync",
        "last_sync_count",
        "status",
        "traceback",
        "created_at",
    ]
    body = {name: getattr(storage, name) for name in fields}
    body["project"] = storage.project_id
    body["type"] = "s3"
    body["aws_access_key_id"] = storage.aws_access_key_id  # the secret parts are write-only
    return body
