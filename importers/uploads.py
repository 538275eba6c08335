"""Label Studio's two-step import: files uploaded with ``commit_to_project=false`` are
kept as ``FileUpload`` rows (no tasks yet), and ``reimport`` turns chosen uploads into
tasks, replacing the tasks an earlier re-import of the same upload made.

The uploaded file sits in the media storage under ``upload/<project>/<name>``, the
place ``importers.media.MediaFileView`` serves to project members, so a task made of a
whole file (``files_as_tasks_list=false``: a CSV for a TimeSeries) can point at it.
"""

import shutil
import time
from collections import Counter
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from annotations.services import tasks_delete
from datamanager.columns import Column, Cond
from datamanager.compare import compare
from importers.bulk.base import IdRanges
from importers.media import UNDEFINED_KEY, MediaStore, media_key_for, media_type, stored_name
from importers.models import FileUpload, ImportJob
from importers.records import TaskRow
from importers.services import ImportResult, files_import, parsed_config, tasks_import
from importers.sources import ImportContext, ImportFile, file_kind, iter_records
from labelhub.errors import ApiError
from projects.label_config import data_keys_for_object_types
from projects.models import Project
from tasks.models import Task

# Files that are either a list of tasks or, whole, one task (Label Studio's
# ``could_be_tasks_list``: a CSV is rows of tasks or one time series).
TABLES = ("csv", "tsv", "txt")


def _extension(name: str) -> str:
    base = name.rsplit("/", 1)[-1].lower()
    return "." + base.rsplit(".", 1)[-1] if "." in base else ""


class _DryStore(MediaStore):
    """A media store that writes nothing: a preview only counts the media files."""

    def save(self, source: Path, original: str, kind: str) -> str:
        return f"/data/upload/{self.project_id}/{stored_name(original)}"


def uploads_preview(*, project: Project, files: list[ImportFile], folder: Path) -> dict:
    """What importing ``files`` would give, without writing anything: the number of
    records, the formats found (``{".csv": 2}``), the data columns in first-seen order
    and whether a file could also be one task as a whole. A file that cannot be read is
    the import's own 400, except table files that do not fit the config as rows of tasks
    (a CSV for a TimeSeries): they may still be one task each, and their rows are
    counted from the text."""
    try:
        return _preview(project=project, files=files, folder=folder)
    except ApiError:
        if not files or any(file_kind(item.name) not in TABLES for item in files):
            raise
    columns: dict[str, None] = {}
    rows = 0
    for item in files:
        with open(item.path, "rb") as handle:
            header = handle.readline().decode("utf-8-sig", "replace").strip()
            rows += sum(1 for line in handle if line.strip())
        delimiter = "\t" if file_kind(item.name) == "tsv" else ","
        columns.update(dict.fromkeys(c.strip() for c in header.split(delimiter) if c.strip()))
    return {
        "task_count": rows,
        "found_formats": dict(Counter(_extension(item.name) for item in files)),
        "data_columns": list(columns),
        "could_be_tasks_list": True,
    }


def _preview(*, project: Project, files: list[ImportFile], folder: Path) -> dict:
    ctx = ImportContext(
        project=project,
        parsed=parsed_config(project),
        work_dir=folder,
        media=_DryStore(project.pk),
    )
    count = 0
    columns: dict[str, None] = {}
    try:
        for record in iter_records(files, ctx):
            count += 1
            if isinstance(record, TaskRow):
                data = record.data
            elif isinstance(record, dict):
                data = record.get("data") if isinstance(record.get("data"), dict) else record
            else:
                data = None
            if isinstance(data, dict):
                columns.update(dict.fromkeys(data))
    finally:
        ctx.cleanup(failed=True)
    return {
        "task_count": count,
        "found_formats": dict(Counter(_extension(item.name) for item in files)),
        "data_columns": list(columns),
        "could_be_tasks_list": any(file_kind(item.name) in TABLES for item in files),
    }


@transaction.atomic
def uploads_save(*, project: Project, user, files: list[ImportFile]) -> list[FileUpload]:
    """Keep ``files`` as uploads of the project (copied into the media storage)."""
    saved: list[str] = []
    uploads = []
    try:
        for item in files:
            name = _upload_name(item)
            with open(item.path, "rb") as handle:
                key = default_storage.save(
                    media_key_for(project.pk, stored_name(name)), File(handle)
                )
            saved.append(key)
            uploads.append(
                FileUpload.objects.create(
                    project=project, user=user, file=key, name=name, size=item.size
                )
            )
    except BaseException:
        for key in saved:
            default_storage.delete(key)
        raise
    return uploads


def _upload_name(item: ImportFile) -> str:
    if item.kind and file_kind(item.name) is None:  # a request body: JSON by fiat
        return f"{item.name}.{item.kind}"
    return item.name


def files_import_kept(
    *, project: Project, user, files: list[ImportFile], options: dict, folder: Path
) -> tuple[ImportResult, list[FileUpload]]:
    """Import uploaded files (multipart files, a file fetched from ``url``) as Label
    Studio does: each file is kept as a ``FileUpload`` and its tasks carry its id
    (``file_upload``), so ``file-uploads`` lists it and ``reimport`` can make its tasks
    again. All in one transaction; on any error nothing is written and the stored
    copies go. A media file's upload is the stored media file its task shows (one copy);
    a task file is copied into the media storage. One upload row per file, whatever
    the number of tasks."""
    stored: list[str] = []
    uploads: list[FileUpload] = []
    total = ImportResult()
    ids = IdRanges()
    try:
        with transaction.atomic():
            for item in files:
                name = _upload_name(item)
                upload = FileUpload.objects.create(
                    project=project, user=user, file="", name=name, size=item.size
                )
                result = files_import(
                    project=project,
                    files=[item],
                    user=user,
                    options=options,
                    folder=folder,
                    file_upload_id=upload.pk,
                    allow_empty=True,
                )
                stored += result.media_keys
                if media_type(item.name) and len(result.media_keys) == 1:
                    upload.file = result.media_keys[0]
                else:
                    with open(item.path, "rb") as handle:
                        upload.file = default_storage.save(
                            media_key_for(project.pk, stored_name(name)), File(handle)
                        )
                    stored.append(upload.file)
                upload.task_id_ranges = result.ids.ranges
                upload.save(update_fields=["file", "task_id_ranges"])
                uploads.append(upload)
                total.task_count += result.task_count
                total.annotation_count += result.annotation_count
                total.prediction_count += result.prediction_count
                total.skipped_count += result.skipped_count
                total.duration += result.duration
                for first, last in result.ids.ranges:
                    ids.add(first, last)
            if total.task_count == 0 and not total.skipped_count:
                raise ApiError("Import failed: no tasks found in the input.")
    except BaseException:
        for key in stored:
            default_storage.delete(key)
        raise
    total.ids = ids
    total.media_keys = stored
    return total, uploads


def upload_url(upload: FileUpload) -> str:
    return f"/data/upload/{upload.project_id}/{upload.file.rsplit('/', 1)[-1]}"


def upload_dict(upload: FileUpload) -> dict:
    """Label Studio's FileUpload shape (``file`` is the stored name), plus our fields."""
    return {
        "id": upload.pk,
        "file": upload.file,
        "size": upload.size,
        "name": upload.name,
        "url": upload_url(upload),
        "project": upload.project_id,
        "created_at": upload.created_at.isoformat().replace("+00:00", "Z"),
    }


def _ranges_q(ranges) -> Q:
    query = Q(pk__in=[])
    for first, last in ranges:
        query |= Q(pk__range=(first, last))
    return query


def upload_delete(*, upload: FileUpload) -> None:
    """Forget an upload. Its file goes too unless a task made of the whole file (a
    media file, or ``files_as_tasks_list=false``) still points at it; the tasks
    themselves stay, without their ``file_upload``, as in Label Studio."""
    made = Task.objects.filter(project_id=upload.project_id).filter(
        _ranges_q(upload.task_id_ranges)
    )
    keep = bool(upload.task_id_ranges) and (
        made.filter(**{"data__icontains": upload.file.rsplit("/", 1)[-1]}).exists()
    )
    if upload.task_id_ranges:
        made.filter(file_upload_id=upload.pk).update(file_upload_id=None)
    key = upload.file
    upload.delete()
    if not keep:
        transaction.on_commit(lambda: default_storage.delete(key))


def uploads_delete(*, project: Project, ids: list[int] | None) -> int:
    uploads = FileUpload.objects.filter(project=project)
    if ids is not None:
        uploads = uploads.filter(pk__in=ids)
    count = 0
    with transaction.atomic():
        for upload in uploads.order_by("id"):
            upload_delete(upload=upload)
            count += 1
    return count


def upload_replace(*, upload: FileUpload, source: ImportFile) -> FileUpload:
    """Replace an upload's content (Label Studio's PATCH with a new ``file``)."""
    old = upload.file
    with open(source.path, "rb") as handle:
        upload.file = default_storage.save(
            media_key_for(upload.project_id, stored_name(source.name)), File(handle)
        )
    upload.name, upload.size = source.name, source.size
    upload.save(update_fields=["file", "name", "size"])
    transaction.on_commit(lambda: default_storage.delete(old))
    return upload


def _whole_file_key(project: Project, name: str) -> str:
    """The data key a whole file fills: the config's TimeSeries value, or else its one
    data key, or Label Studio's ``$undefined$`` when the config reads none (a project
    still without a config)."""
    parsed = parsed_config(project)
    keys = data_keys_for_object_types(parsed, types=("TimeSeries",)) or list(parsed.data_keys)
    if not keys:
        return UNDEFINED_KEY
    if len(keys) != 1:
        raise ApiError(
            f"{name}: cannot be one task, the labeling config has "
            + ("no data key" if not keys else f"several data keys ({', '.join(keys)})"),
            [{"field": "files_as_tasks_list", "message": "no single data key for a whole file"}],
        )
    return keys[0]


def uploads_reimport(
    *, project: Project, user, ids: list[int], files_as_tasks_list: bool, folder: Path
) -> tuple[ImportResult, dict, ImportJob]:
    """Make tasks of the uploads ``ids``, in one transaction: the tasks their earlier
    re-import made are deleted, then each upload is imported (as a list of tasks, or,
    for a table file with ``files_as_tasks_list`` false, as one task pointing at the
    file). Recorded as a finished job (``/reimports/{id}/``). Any bad upload is a 400
    and nothing changes."""
    started = time.monotonic()
    uploads = list(FileUpload.objects.filter(project=project, pk__in=ids).order_by("id"))
    missing = sorted(set(ids) - {u.pk for u in uploads})
    if missing:
        raise ApiError(
            f"file_upload_ids: no such uploads in this project: {missing}",
            [{"field": "file_upload_ids", "message": f"unknown ids {missing}"}],
        )
    local = []
    for upload in uploads:
        path = folder / f"{upload.pk:08d}-{stored_name(upload.name)}"
        with default_storage.open(upload.file, "rb") as src, open(path, "wb") as dst:
            shutil.copyfileobj(src, dst)
        local.append(ImportFile(path, upload.name))
    tables = files_as_tasks_list is False
    as_lists = [f for f in local if not (tables and file_kind(f.name) in TABLES)]
    preview = uploads_preview(project=project, files=as_lists, folder=folder)
    total = ImportResult()
    ids_made = IdRanges()
    with transaction.atomic():
        old = [r for upload in uploads for r in upload.task_id_ranges]
        if old:
            stale = Task.objects.filter(project=project).filter(_ranges_q(old))
            tasks_delete(project=project, task_ids=list(stale.values_list("pk", flat=True)))
        for upload, item in zip(uploads, local, strict=True):
            if tables and file_kind(item.name) in TABLES:
                key = _whole_file_key(project, item.name)
                result = tasks_import(
                    project=project,
                    records=[{key: upload_url(upload)}],
                    user=user,
                    file_upload_id=upload.pk,
                )
            else:
                result = files_import(
                    project=project,
                    files=[item],
                    user=user,
                    folder=folder,
                    file_upload_id=upload.pk,
                )
            upload.task_id_ranges = result.ids.ranges
            upload.save(update_fields=["task_id_ranges"])
            total.task_count += result.task_count
            total.annotation_count += result.annotation_count
            total.prediction_count += result.prediction_count
            total.skipped_count += result.skipped_count
            for first, last in result.ids.ranges:
                ids_made.add(first, last)
        total.ids = ids_made
        total.duration = time.monotonic() - started
        job = ImportJob.objects.create(
            project=project,
            created_by=user,
            status=ImportJob.Status.COMPLETED,
            files=[{"path": "", "name": u.name} for u in uploads],
            options={
                "kind": "reimport",
                "file_upload_ids": [u.pk for u in uploads],
                "files_as_tasks_list": files_as_tasks_list,
                "found_formats": dict(Counter(_extension(u.name) for u in uploads)),
                "data_columns": preview["data_columns"],
            },
            total_bytes=sum(u.size for u in uploads),
            processed=total.task_count,
            total=total.task_count,
            task_count=total.task_count,
            annotation_count=total.annotation_count,
            prediction_count=total.prediction_count,
            skipped_count=total.skipped_count,
            task_id_ranges=ids_made.ranges,
            duration=total.duration,
            started_at=timezone.now(),
            finished_at=timezone.now(),
        )
    return total, job.options, job


def upload_file():
    """The stored name of the upload a task was made of (``Task.file_upload_id``), as the
    Data Manager's rows show it (its base name: Label Studio's ``file_upload``)."""
    return Subquery(FileUpload.objects.filter(pk=OuterRef("file_upload_id")).values("file")[:1])


def file_upload_column() -> Column:
    """The Data Manager's ``file_upload`` column (registered by ``ImportersConfig``)."""
    return Column(
        "file_upload",
        "Upload filename",
        "String",
        lambda item, ctx: Cond("task", compare(upload_file(), item, "text")),
        order=lambda ctx: upload_file(),
    )
