"""The media files of one project in the media storage, and their removal.

A project's files live under two prefixes of ``default_storage``: ``upload/<id>/``
(uploaded media and kept uploads, ``importers.media.media_key_for``) and
``export/<id>/`` (export snapshots, ``exporters.snapshots``). Deleting a project removes
both: Label Studio's ``DELETE /api/projects/{id}/`` leaves them, which filled disks and
buckets with files nobody can reach any more (issue #26).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from django.core.files.storage import default_storage

logger = logging.getLogger(__name__)


def project_media_prefixes(project_id: int) -> list[str]:
    return [f"upload/{int(project_id)}/", f"export/{int(project_id)}/"]


def project_media_delete(*, project_id: int, storage=None) -> int:
    """Remove every file under the project's prefixes; how many went.

    S3 (django-storages): one listing and batched ``DeleteObjects`` calls of up to 1000
    keys per prefix, not one request per file. A folder: ``shutil.rmtree`` of the two
    folders. A failure is logged and does not undo the project's deletion (the rows are
    gone by then; a left-over file is only disk space)."""
    storage = storage or default_storage
    removed = 0
    for prefix in project_media_prefixes(project_id):
        try:
            bucket = getattr(storage, "bucket", None)
            if bucket is not None:
                location = getattr(storage, "location", "") or ""
                full = f"{location.rstrip('/')}/{prefix}" if location else prefix
                removed += sum(
                    len(batch.get("Deleted", []))
                    for batch in bucket.objects.filter(Prefix=full).delete()
                )
            else:
                folder = Path(storage.path(prefix))
                if folder.is_dir():
                    removed += sum(1 for p in folder.rglob("*") if p.is_file())
                    shutil.rmtree(folder)
        except Exception:
            logger.exception(
                "could not remove the media of project %s under %s", project_id, prefix
            )
    return removed
