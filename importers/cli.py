"""``labelhub init`` and ``labelhub import``: thin wrappers over the import services.

    labelhub init NAME --input-path PATH --input-format FORMAT --label-config FILE --sampling MODE
    labelhub import PROJECT PATH [--input-format FORMAT]

Formats, as in the Label Studio 0.x command line: ``json`` (a list of tasks, one task or
a manifest), ``json-dir`` (every .json file in a folder), ``jsonl``, ``csv``, ``tsv``,
``text`` (one task per line), ``text-dir`` (one task per file, its text inline),
``image-dir`` and ``audio-dir`` (one task per file, pointing at the file through
``/data/local-files/``, which ``labelhub start --allow-serving-local-files`` serves from
under ``LABELHUB_LOCAL_FILES_ROOT`` only). The import runs in this process, with a
progress bar, in one transaction.
"""

import os
import sys
from pathlib import Path

from importers.cliuser import admin_user as _user
from importers.lsmigrate.cli import add_parser as add_migrate_parser

FORMATS = ["json", "json-dir", "jsonl", "csv", "tsv", "text", "text-dir", "image-dir", "audio-dir"]
_FILE_KINDS = {"json": "json", "jsonl": "jsonl", "csv": "csv", "tsv": "tsv", "text": "txt"}


def add_parsers(sub) -> None:
    init = sub.add_parser("init", help="create a project and import into it")
    init.add_argument("name")
    init.add_argument("--input-path")
    init.add_argument("--input-format", default=None, choices=FORMATS)
    init.add_argument("--label-config")
    init.add_argument("--sampling", default="sequential")
    init.add_argument("--data-dir", default=os.environ.get("LABELHUB_DATA_DIR"))
    init.add_argument("--username", default=os.environ.get("LABELHUB_USERNAME"))
    init.add_argument("--no-progress", action="store_true", help="do not draw a progress bar")
    init.set_defaults(handler=_init)
    imp = sub.add_parser("import", help="import a file or folder into an existing project")
    imp.add_argument("project", type=int)
    imp.add_argument("path")
    imp.add_argument("--input-format", default=None, choices=FORMATS)
    imp.add_argument("--data-dir", default=os.environ.get("LABELHUB_DATA_DIR"))
    imp.add_argument("--username", default=os.environ.get("LABELHUB_USERNAME"))
    imp.add_argument("--no-progress", action="store_true", help="do not draw a progress bar")
    imp.set_defaults(handler=_import)
    add_migrate_parser(sub)


def guess_format(path: Path) -> str:
    if path.is_dir():
        names = [p.name.lower() for p in path.iterdir() if p.is_file()]
        from importers.media import media_type

        kinds = {media_type(name) for name in names}
        if names and all(name.endswith(".json") for name in names):
            return "json-dir"
        if kinds == {"audio"}:
            return "audio-dir"
        if kinds == {"image"}:
            return "image-dir"
        return "text-dir"
    suffix = path.suffix.lower().lstrip(".")
    return {"txt": "text"}.get(suffix, suffix if suffix in FORMATS else "json")


def _dir_files(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))


def local_file_url(path: Path) -> str:
    """``/data/local-files/?d=<path under LABELHUB_LOCAL_FILES_ROOT>`` for a local file."""
    from urllib.parse import quote

    from importers.localfiles import local_root

    root = local_root()
    if root is None:
        raise SystemExit(
            "Set LABELHUB_LOCAL_FILES_ROOT to a folder above the media files to import a "
            "local folder of images or audio (and start with --allow-serving-local-files)."
        )
    real = path.resolve()
    if not real.is_relative_to(root):
        raise SystemExit(f"{path} is not under LABELHUB_LOCAL_FILES_ROOT ({root}).")
    return "/data/local-files/?d=" + quote(str(real.relative_to(root)))


def _media_records(files: list[Path], key: str, bar):
    for path in files:
        yield {"data": {key: local_file_url(path)}, "meta": {"file": path.name}}
        bar.update(1)


def _text_records(files: list[Path], key: str, bar):
    for path in files:
        yield {
            "data": {key: path.read_text(encoding="utf-8-sig", errors="replace")},
            "meta": {"file": path.name},
        }
        bar.update(1)


def _one_key(parsed, types: tuple[str, ...] | None, what: str) -> str:
    from projects.label_config import data_keys_for_object_types

    keys = data_keys_for_object_types(parsed, types=types) if types else parsed.data_keys
    if len(keys) != 1:
        raise SystemExit(
            f"A folder of {what} needs exactly one matching data key in the labeling config; "
            f"it has {len(keys)}: {', '.join(keys) or 'none'}."
        )
    return keys[0]


def run_import(project, path: str, input_format: str | None, user, *, progress: bool = True) -> int:
    from django.conf import settings
    from django.db import transaction
    from tqdm import tqdm

    from importers.services import files_import, parsed_config, records_import
    from importers.sources import ImportFile
    from labelhub.errors import ApiError

    source = Path(path).expanduser()
    if not source.exists():
        print(f"No such file or folder: {source}", file=sys.stderr)
        return 1
    fmt = input_format or guess_format(source)
    disable = not progress
    try:
        if fmt in ("text-dir", "image-dir", "audio-dir"):
            files = _dir_files(source)
            parsed = parsed_config(project)
            with tqdm(total=len(files), unit="file", desc="import", disable=disable) as bar:
                if fmt == "text-dir":
                    records = _text_records(files, _one_key(parsed, None, "text files"), bar)
                else:
                    types = ("Image",) if fmt == "image-dir" else ("Audio", "AudioPlus")
                    key = _one_key(parsed, types, fmt.split("-")[0] + " files")
                    records = _media_records(files, key, bar)
                    if not settings.LABELHUB_ALLOW_SERVING_LOCAL_FILES:
                        print(
                            "Note: start LabelHub with --allow-serving-local-files so "
                            "annotators can see these files.",
                            file=sys.stderr,
                        )
                with transaction.atomic():
                    result = records_import(project=project, records=records, user=user)
        else:
            if fmt == "json-dir":
                files = [
                    ImportFile(p, p.name, "json")
                    for p in _dir_files(source)
                    if p.suffix.lower() == ".json"
                ]
            else:
                files = [ImportFile(source, source.name, _FILE_KINDS[fmt])]
            total = sum(item.size for item in files)
            with tqdm(
                total=total, unit="B", unit_scale=True, desc="import", disable=disable
            ) as bar:

                def advance(ctx, _records):
                    bar.update(max(0, ctx.bytes_done - bar.n))

                result = files_import(project=project, files=files, user=user, progress=advance)
                bar.update(max(0, total - bar.n))
    except ApiError as exc:
        print(f"Import failed: {exc.detail}", file=sys.stderr)
        for error in exc.errors[:20]:
            print(f"  {error}", file=sys.stderr)
        return 1
    print(
        f"Imported {result.task_count} tasks, {result.annotation_count} annotations and "
        f"{result.prediction_count} predictions into project {project.pk} in {result.duration:.2f}s"
    )
    return 0


def _init(args) -> int:
    from labelhub.errors import ApiError
    from projects.api import DEFAULT_CONFIG
    from projects.services import project_create

    user = _user(args.username)
    config = Path(args.label_config).read_text() if args.label_config else DEFAULT_CONFIG
    try:
        project = project_create(
            user=user, title=args.name, label_config=config, sampling=args.sampling
        )
    except ApiError as exc:
        print(f"Could not create the project: {exc.detail}", file=sys.stderr)
        return 1
    print(f"Created project {project.pk}: {project.title}")
    if args.input_path:
        return run_import(
            project, args.input_path, args.input_format, user, progress=not args.no_progress
        )
    return 0


def _import(args) -> int:
    from projects.models import Project

    project = Project.objects.filter(pk=args.project).first()
    if project is None:
        print(f"No project {args.project}", file=sys.stderr)
        return 1
    return run_import(
        project, args.path, args.input_format, _user(args.username), progress=not args.no_progress
    )
