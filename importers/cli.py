"""``labelhub init`` and ``labelhub import``: thin wrappers over the import service."""

import os


def add_parsers(sub) -> None:
    init = sub.add_parser("init", help="create a project and import into it")
    init.add_argument("name")
    init.add_argument("--input-path")
    init.add_argument(
        "--input-format",
        default="json",
        choices=["json", "json-dir", "jsonl", "csv", "tsv", "text", "text-dir", "image-dir", "audio-dir"],
    )
    init.add_argument("--label-config")
    init.add_argument("--sampling", default="sequential")
    init.add_argument("--data-dir", default=os.environ.get("LABELHUB_DATA_DIR"))
    init.add_argument("--username", default=os.environ.get("LABELHUB_USERNAME"))
    init.set_defaults(handler=_init)
    imp = sub.add_parser("import", help="import a file into an existing project")
    imp.add_argument("project", type=int)
    imp.add_argument("path")
    imp.add_argument("--input-format", default=None)
    imp.add_argument("--data-dir", default=os.environ.get("LABELHUB_DATA_DIR"))
    imp.add_argument("--username", default=os.environ.get("LABELHUB_USERNAME"))
    imp.set_defaults(handler=_import)


def _user(username: str | None):
    from django.contrib.auth import get_user_model

    User = get_user_model()
    users = User.objects.filter(is_staff=True).order_by("id")
    if username:
        users = users.filter(email__iexact=username)
    user = users.first()
    if user is None:
        raise SystemExit("No admin user found: run `labelhub start` once, or pass --username.")
    return user


def _records(path: str, input_format: str | None, project):
    from importers.parsers import parse_upload
    from projects.label_config import ParsedConfig

    parsed = ParsedConfig.from_dict(project.parsed_config)
    name = path
    fmt = {"text": "txt"}.get(input_format or "", input_format)
    if fmt and not name.lower().endswith("." + fmt):
        name = f"{path}.{fmt}"
    with open(path, "rb") as fh:
        return parse_upload(name, fh.read(), parsed)


def _run_import(project, path: str, input_format: str | None, user) -> int:
    from importers.services import tasks_import
    from labelhub.errors import ApiError

    try:
        records = _records(path, input_format, project)
        result = tasks_import(project=project, records=records, user=user)
    except ApiError as exc:
        print(f"Import failed: {exc.detail}")
        for error in exc.errors[:20]:
            print(f"  {error}")
        return 1
    print(
        f"Imported {result.task_count} tasks, {result.annotation_count} annotations and "
        f"{result.prediction_count} predictions into project {project.pk} in {result.duration:.2f}s"
    )
    return 0


def _init(args) -> int:
    from projects.services import project_create

    user = _user(args.username)
    config = open(args.label_config).read() if args.label_config else None
    fields = {"sampling": args.sampling}
    if config:
        fields["label_config"] = config
    from projects.api import DEFAULT_CONFIG

    fields.setdefault("label_config", DEFAULT_CONFIG)
    project = project_create(user=user, title=args.name, **fields)
    print(f"Created project {project.pk}: {project.title}")
    if args.input_path:
        return _run_import(project, args.input_path, args.input_format, user)
    return 0


def _import(args) -> int:
    from projects.models import Project

    project = Project.objects.filter(pk=args.project).first()
    if project is None:
        print(f"No project {args.project}")
        return 1
    return _run_import(project, args.path, args.input_format, _user(args.username))
