"""``labelhub migrate-from-label-studio --url URL --token TOKEN [--projects 1,4] [--dry-run]``:
a thin wrapper over ``importers.lsmigrate.service.migrate``."""

import os
import sys

from importers.cliuser import admin_user


def add_parser(sub) -> None:
    cmd = sub.add_parser(
        "migrate-from-label-studio",
        help="copy users, projects, tasks, annotations... from a running Label Studio",
    )
    cmd.add_argument("--url", required=True, help="Label Studio's address, e.g. http://ls:8080")
    cmd.add_argument(
        "--token",
        default=os.environ.get("LABEL_STUDIO_TOKEN"),
        help="a legacy token or a personal access token (or LABEL_STUDIO_TOKEN)",
    )
    cmd.add_argument("--projects", default="", help="Label Studio project ids, e.g. 1,4")
    cmd.add_argument("--dry-run", action="store_true", help="read and check all, keep nothing")
    cmd.add_argument("--username", default=os.environ.get("LABELHUB_USERNAME"))
    cmd.add_argument("--data-dir", default=os.environ.get("LABELHUB_DATA_DIR"))
    cmd.set_defaults(handler=run)


def project_list(text: str) -> list[int]:
    try:
        return [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise SystemExit(
            f"--projects takes Label Studio project ids like 1,4, not {text!r}"
        ) from None


def run(args) -> int:
    from importers.lsmigrate.client import MigrationError
    from importers.lsmigrate.service import migrate

    def progress(state: dict) -> None:
        if state.get("project"):
            print(
                f"\r[{state.get('projects_done', 0) + 1}/{state.get('projects_total', 0)}] "
                f"{state['project'][:40]}: {state.get('tasks_done', 0)}/"
                f"{state.get('tasks_total', 0)} tasks",
                end="",
                file=sys.stderr,
                flush=True,
            )

    try:
        report = migrate(
            url=args.url,
            token=args.token or "",
            user=admin_user(args.username),
            project_ids=project_list(args.projects),
            dry_run=args.dry_run,
            progress=progress,
        )
    except MigrationError as exc:
        print(f"\nMigration failed: {exc}", file=sys.stderr)
        return 1
    print(file=sys.stderr)
    print("\n".join(report.lines()))
    return 0 if report.ok else 1
