"""Reads for storages: a project's storages, the form layout of a kind."""

import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery

from datamanager.columns import Column, Cond
from datamanager.compare import compare
from io_storages.kinds import KINDS
from io_storages.kinds.localfiles import root
from io_storages.models import ImportStorage, ImportStorageLink, Status
from projects.models import Project


def storages_for_project(*, model, project, kind: str | None = None):
    """A project's storages, oldest first, in one query."""
    rows = model.objects.filter(project=project)
    if kind is not None:
        rows = rows.filter(kind=kind)
    return list(rows.order_by("pk"))


FINISHED = (Status.COMPLETED, Status.COMPLETED_WITH_ERRORS, Status.FAILED)


def storage_sync_waited(storage):
    """The storage after its sync was queued, once a worker finished it or after
    ``LABELHUB_STORAGE_SYNC_WAIT_SECONDS``, whichever comes first: a quick sync answers
    its final ``status`` and ``last_sync_count`` as Label Studio's in-request sync does,
    a long one answers ``queued``/``in_progress`` (poll the storage). The worker runs it
    either way. Inside an outer transaction the job is only sent at its commit, so there
    is nothing to wait for."""
    seconds = (
        0
        if transaction.get_connection().in_atomic_block
        else settings.LABELHUB_STORAGE_SYNC_WAIT_SECONDS
    )
    deadline = time.monotonic() + seconds
    while True:
        storage.refresh_from_db()
        if storage.status in FINISHED or time.monotonic() >= deadline:
            return storage
        time.sleep(0.2)


def new_job_id() -> str:
    return str(uuid.uuid4())


def form_layout(*, kind: str, side: str) -> list[dict]:
    """The storage form as Label Studio's frontend reads it (``/form``): rows of fields,
    built from the kind's field list."""
    own = [
        {
            "type": "password" if field.secret else ("counter" if field.type == "int" else "text"),
            "name": field.name,
            "label": field.label or field.name,
            **({"required": True} if field.required else {}),
            **({"autoComplete": "new-password", "protectedValue": True} if field.secret else {}),
        }
        for field in KINDS[kind].FIELDS
        if field.only in ("", side)
    ]
    rows: list[dict] = [
        {
            "columnCount": 1,
            "fields": [{"type": "text", "name": "title", "label": "Storage Title"}],
        },
        {"columnCount": 3, "fields": own},
    ]
    if side == "import":
        rows += [
            {
                "columnCount": 2,
                "fields": [
                    {"type": "text", "name": "regex_filter", "label": "File Filter Regex"},
                    {
                        "type": "toggle",
                        "name": "use_blob_urls",
                        "label": "Treat every bucket object as a source file",
                    },
                ],
            },
            {
                "columnCount": 3,
                "fields": [
                    {
                        "type": "toggle",
                        "name": "presign",
                        "label": "Use pre-signed URLs",
                        "value": True,
                    },
                    {
                        "type": "counter",
                        "name": "presign_ttl",
                        "label": "Expire pre-signed URLs (minutes)",
                        "min": 1,
                        "value": 1,
                    },
                    {"type": "toggle", "name": "recursive_scan", "label": "Scan all sub-folders"},
                ],
            },
        ]
    else:
        rows.append(
            {
                "columnCount": 1,
                "fields": [
                    {
                        "type": "toggle",
                        "name": "can_delete_objects",
                        "label": "Can delete objects from storage",
                    }
                ],
            }
        )
    return rows


def local_file_in_storage(*, user, relative: str) -> bool:
    """True when the file (relative to the local-files root, already checked to lie
    inside it) is in the folder of a local-files source of one of the user's projects
    (with ``recursive_scan``, at any depth; else directly in it)."""
    base = root()
    if base is None:
        return False
    path = (base / relative).resolve()
    storages = ImportStorage.objects.filter(
        kind="localfiles", project__in=Project.objects.for_user(user)
    ).only("options", "recursive_scan")
    for storage in storages:
        folder = Path(str(storage.option("path", "") or "/nonexistent")).resolve()
        if not folder.is_relative_to(base):
            continue
        if path.parent == folder or (storage.recursive_scan and path.is_relative_to(folder)):
            return True
    return False


def storage_filename():
    """A task's object key in the source storage it came from (its first link), as the
    Data Manager's ``storage_filename`` column shows and sorts it; Label Studio joins the
    keys of every link with ``;`` (a task has one here unless two sources list it)."""
    return Subquery(
        ImportStorageLink.objects.filter(task=OuterRef("pk")).order_by("id").values("key")[:1]
    )


def storage_filename_column():
    """The Data Manager column (registered by ``IoStoragesConfig.ready``)."""
    return Column(
        "storage_filename",
        "Storage filename",
        "String",
        lambda item, ctx: Cond("task", compare(storage_filename(), item, "text")),
        order=lambda ctx: storage_filename(),
    )
