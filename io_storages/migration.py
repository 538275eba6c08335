"""The storages step of the Label Studio migration (registered in ``IoStoragesConfig.ready``):
each project's source and target storages of every kind (s3, gcs, azure, redis,
localfiles), with their settings.

Label Studio never gives a storage's secrets back (keys, passwords, service-account
JSON; Azure's account name too), so a copied storage is saved without them and is not
synced: the check that a storage answers (``storage_reachable``) needs them. Every run
lists, for the admin, each copied storage that still has no credentials. A local-files
storage has no secret: it is checked as one made here would be (its folder must lie
inside ``LABELHUB_LOCAL_FILES_ROOT``); one that fails is listed and not copied.

Tasks that a source imported in Label Studio must not come in twice when the admin
syncs it here: for a source that imports media files (``use_blob_urls``), each copied
task whose data points into it gets the storage's import link, as a sync here would
have written. A target names objects by annotation id, and LabelHub's ids are not Label
Studio's: the admin is told to give it a fresh prefix before its first sync.
"""

import hashlib
from urllib.parse import unquote

import orjson
from rest_framework.exceptions import ValidationError

from io_storages.api import input_serializer
from io_storages.backend import StorageError
from io_storages.filters import compile_filter
from io_storages.kinds import KINDS, backend_for
from io_storages.kinds.localfiles import URL_PREFIX
from io_storages.models import ExportStorage, ImportStorage, ImportStorageLink
from io_storages.services import storage_fill, storage_reachable
from labelhub.errors import ApiError
from tasks.models import Task

SIDES = {
    "import": (ImportStorage, "/api/storages/"),
    "export": (ExportStorage, "/api/storages/export"),
}
SECRETS = {
    "s3": "its access keys (or leave them blank to use the server's own AWS role)",
    "gcs": "its service-account credentials JSON",
    "azure": "its account name and key",
    "redis": "its password, if it has one",
}
SIDE_NAMES = {"import": "source", "export": "target"}
LINK_BATCH = 2000


def _stamp(values: dict) -> str:
    return hashlib.sha256(orjson.dumps(values, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def _values(item: dict, kind: str, side: str) -> dict:
    """Label Studio's storage as our input (its names are ours), through the same input
    check as the storages API; secrets are absent from Label Studio's answer."""
    names = set(input_serializer(kind, side)().fields) - {
        f.name for f in KINDS[kind].FIELDS if f.secret
    }
    data = {name: item[name] for name in names if item.get(name) is not None}
    if kind == "redis" and data.get("port") is not None:
        data["port"] = str(data["port"])
    serializer = input_serializer(kind, side)(data=data, partial=True)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _label(item: dict, kind: str, side: str, storage=None) -> str:
    title = item.get("title") or ""
    where = next(
        (str(item.get(name)) for name in ("bucket", "container", "path", "host") if item.get(name)),
        "",
    )
    text = f"{KINDS[kind].TITLE} {SIDE_NAMES[side]} storage"
    text += f' "{title}"' if title else ""
    text += f" ({where})" if where else ""
    return text + (f", LabelHub id {storage.pk}" if storage is not None else "")


def storages_copy(ctx, ls_project: dict, project) -> int:
    copied = 0
    for side, (model, path) in SIDES.items():
        for item in ctx.get(path, project=ls_project["id"]):
            if item.get("project") not in (None, ls_project["id"]):
                continue
            copied += _one(ctx, project, side, model, item)
    return copied


def _one(ctx, project, side: str, model, item: dict) -> int:
    kind = item.get("type") or ""
    where = f'Project "{project.title}" (LabelHub {project.pk})'
    if kind not in KINDS:
        ctx.note(
            f"{where}: a {kind or 'unknown'} storage was not copied (LabelHub has no such kind)"
        )
        return 0
    mapping = f"storage_{side}_{kind}"  # Label Studio numbers each kind's table apart
    try:
        values = _values(item, kind, side)
        compile_filter(values.get("regex_filter"))
    except (ValidationError, StorageError) as exc:
        why = exc.message if isinstance(exc, StorageError) else exc.detail
        ctx.note(f"{where}: {_label(item, kind, side)} not copied: {why}")
        return 0
    stamp = _stamp(values)
    found = ctx.known(mapping, item["id"])
    storage = model.objects.filter(pk=found[0], project=project).first() if found else None
    if storage is not None and found[1] == stamp:
        if side == "import" and storage.use_blob_urls:
            _links(storage, project, ctx.copied_task_ids)  # tasks new in this run
        _remind(ctx, where, item, kind, side, storage)
        return 0
    created = storage is None
    if storage is None:
        storage = model(project=project, kind=kind)
    storage_fill(storage, values)
    if kind == "localfiles":
        try:
            storage_reachable(storage)
        except ApiError as exc:
            ctx.note(f"{where}: {_label(item, kind, side)} not copied: {exc.detail}")
            return 0
    storage.save()
    ctx.remember(mapping, item["id"], storage.pk, stamp)
    if side == "import" and storage.use_blob_urls:
        _links(storage, project, None if created else ctx.copied_task_ids)
    if created and side == "export":
        ctx.note(
            f"{where}: {_label(item, kind, side, storage)} writes one object per annotation, "
            "named by its id; LabelHub's ids differ from Label Studio's, so give it a new "
            "prefix before its first sync here"
        )
    _remind(ctx, where, item, kind, side, storage)
    return 1


def _remind(ctx, where: str, item: dict, kind: str, side: str, storage) -> None:
    """Every run lists the copied storages still without their secrets."""
    if kind in SECRETS and not storage.credentials:
        ctx.note(
            f"{where}: {_label(item, kind, side, storage)}: enter {SECRETS[kind]} again "
            "(Label Studio does not give secrets out), then sync it"
        )


def _key(storage, backend, value: str) -> str | None:
    """The storage's object key that a task data value points at, or None."""
    if storage.kind == "localfiles":
        if not value.startswith(URL_PREFIX):
            return None
        full = (backend.root / unquote(value[len(URL_PREFIX) :])).resolve()
        if not full.is_relative_to(backend.folder):
            return None
        return full.relative_to(backend.folder).as_posix()
    key = backend.key_for_uri(value)
    scope = str(storage.option("path" if storage.kind == "redis" else "prefix", "") or "")
    return key if key and key.startswith(scope) else None


def _links(storage, project, task_ids: list[int] | None) -> None:
    """Import links for the tasks (all of the project's when ``task_ids`` is None) whose
    data points at one of the storage's objects, so a sync here skips those objects."""
    try:
        backend = backend_for(storage)
    except StorageError:
        return  # a folder outside the root, an endpoint refused: a sync cannot run either
    tasks = Task.objects.filter(project=project).order_by("pk")
    if task_ids is not None:
        if not task_ids:
            return
        tasks = tasks.filter(pk__in=task_ids)
    rows = []
    for task_id, data in tasks.values_list("pk", "data").iterator(chunk_size=LINK_BATCH):
        for value in (data or {}).values() if isinstance(data, dict) else ():
            if isinstance(value, str) and (key := _key(storage, backend, value)):
                rows.append((task_id, key))
    have = set(ImportStorageLink.objects.filter(storage=storage).values_list("task_id", "key"))
    ImportStorageLink.objects.bulk_create(
        [
            ImportStorageLink(storage=storage, task_id=task_id, key=key)
            for task_id, key in rows
            if (task_id, key) not in have
        ],
        batch_size=LINK_BATCH,
    )
