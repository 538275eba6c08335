"""Copy a running Label Studio into LabelHub: ``migrate(...)``.

Order: users (by email), then each project in **one transaction**: its settings and
members, its tasks with their annotations and predictions, then the registered steps
(``labelhub.migration_steps``: Data Manager tabs, ML backends, and drafts, labels,
storages and webhooks where their apps provide a step), then the check. A project
that fails (a config LabelHub cannot parse, a task that fails validation, Label Studio
going away) is rolled back whole and named in the report; the others are kept.

Idempotent and resumable: every copied object is recorded in ``LabelStudioCopy``
(instance URL, kind, Label Studio id -> LabelHub id, Label Studio ``updated_at``) in
the same transaction as the copy. A later run copies only objects it has no record of,
and updates those whose ``updated_at`` (or settings digest) changed; a run that was
interrupted finds the projects it finished recorded and redoes only the one it was in.

Fast: the tasks come from Label Studio's export API (one streamed JSON document of all
tasks with their annotations and drafts; predictions from one ``/api/predictions/``
list), parsed with ijson, and new tasks go through the importers' bulk writer (COPY on
PostgreSQL). Label Studio's timestamps and the ``parent_*`` links are then set with one
UPDATE per batch of rows.
"""

import contextlib
import datetime
import hashlib
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import ijson
import orjson
from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from annotations.counters import tasks_counters_recount
from annotations.models import Annotation, Prediction
from importers.bulk import connection_idle
from importers.lsmigrate import steps as _steps  # noqa: F401 - registers the tabs step
from importers.lsmigrate.client import LabelStudioClient, MigrationError
from importers.media import media_key_for, stored_name
from importers.models import LabelStudioCopy
from importers.records import RecordChecker
from importers.services import parsed_config, records_import
from labelhub import migration_steps
from labelhub.errors import ApiError
from projects.models import Project, ProjectMember
from projects.services import project_create, project_update
from tasks.models import Task

logger = logging.getLogger(__name__)

USER, PROJECT, TASK, ANNOTATION, PREDICTION = "user", "project", "task", "annotation", "prediction"
POST_BATCH = 2000  # tasks per batch of the id-mapping and timestamp pass

SAMPLING = {
    "Sequential sampling": Project.Sampling.SEQUENTIAL,
    "Uniform sampling": Project.Sampling.UNIFORM,
    "Uncertainty sampling": Project.Sampling.SCORE_MIN,
}
# Label Studio project field -> LabelHub project field (same meaning).
PROJECT_FIELDS = {
    "title": "title",
    "description": "description",
    "label_config": "label_config",
    "expert_instruction": "expert_instruction",
    "color": "color",
    "maximum_annotations": "maximum_annotations",
    "show_skip_button": "show_skip_button",
    "enable_empty_annotation": "enable_empty_annotation",
    "show_collab_predictions": "show_predictions_to_annotators",
    "min_annotations_to_start_training": "min_annotations_to_start_training",
    "model_version": "model_version",
}
UPLOAD_PREFIX = "/data/upload/"


def digest(value) -> str:
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def result_checksum(results) -> str:
    """Order-free checksum over annotation results: the sorted digests of each result
    (canonical JSON, keys sorted), hashed together."""
    parts = sorted(digest(result if result is not None else []) for result in results)
    return hashlib.sha256("".join(parts).encode()).hexdigest()[:16]


@dataclass
class ProjectReport:
    ls_id: int
    title: str
    lh_id: int | None = None
    created: bool = False
    copied: Counter = field(default_factory=Counter)
    ls_counts: dict = field(default_factory=dict)
    lh_counts: dict = field(default_factory=dict)
    differences: list[str] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0

    def line(self) -> str:
        where = f'Project "{self.title}" (Label Studio {self.ls_id}'
        where += f" -> LabelHub {self.lh_id})" if self.lh_id else ")"
        if self.error:
            return f"{where}: FAILED, nothing of it was written: {self.error}"
        copied = ", ".join(f"{n} {k}" for k, n in sorted(self.copied.items()) if n) or "nothing"
        return f"{where}: copied {copied} in {self.seconds:.1f}s"


@dataclass
class MigrationReport:
    url: str
    dry_run: bool = False
    projects: list[ProjectReport] = field(default_factory=list)
    new_users: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    ls_seconds: float = 0.0  # of which waiting for Label Studio's answers

    @property
    def ok(self) -> bool:
        return not any(p.error or p.differences for p in self.projects)

    @property
    def copied(self) -> Counter:
        total: Counter = Counter()
        for project in self.projects:
            total.update(project.copied)
        return +total  # without the zero counts

    def lines(self) -> list[str]:
        lines = [
            ("Dry run (nothing was kept): " if self.dry_run else "")
            + f"Label Studio at {self.url}, {len(self.projects)} project(s), {self.seconds:.1f}s "
            + f"({self.ls_seconds:.1f}s of it waiting for Label Studio)"
        ]
        for project in self.projects:
            lines.append(project.line())
            if project.ls_counts:
                ls, lh = project.ls_counts, project.lh_counts
                lines.append(
                    "  check: "
                    + ", ".join(
                        f"{k} {ls.get(k)}" + ("" if ls.get(k) == lh.get(k) else f" != {lh.get(k)}")
                        for k in ls
                        if lh.get(k) is not None
                    )
                )
            for difference in project.differences:
                lines.append(f"  DIFFERENCE: {difference}")
        if self.new_users:
            lines.append(
                "New users (created without a usable password; set one with "
                "`labelhub changepassword EMAIL`, or they sign in once a password is set):"
            )
            lines.extend(f"  {email}" for email in self.new_users)
        if self.notes:
            lines.append("For the admin to do:")
            lines.extend(f"  {note}" for note in self.notes)
        return lines


@contextlib.contextmanager
def _nothing():
    yield


class _Rollback(Exception):
    """Raised to roll a dry run's project transaction back."""


class Migration:
    """One run against one Label Studio instance; also the ``ctx`` handed to steps."""

    def __init__(
        self,
        *,
        client: LabelStudioClient,
        user,
        dry_run: bool = False,
        progress: Callable[[dict], None] | None = None,
    ) -> None:
        self.client = client
        self.source = client.url
        self.user = user  # the staff user running it: default author and owner
        self.dry_run = dry_run
        self.progress = progress or (lambda state: None)
        self.report = MigrationReport(url=client.url, dry_run=dry_run)
        self.users: dict[int, int] = {}  # Label Studio user id -> LabelHub user id
        self.emails: dict[str, int] = {}  # lower-case email -> LabelHub user id
        self.maps: dict[str, dict[int, tuple[int, str]]] = {}
        self.pending: list[LabelStudioCopy] = []
        self.ls_project: int | None = None
        self.project_drafts: list[tuple[int, dict]] = []
        self.written_files: list[str] = []
        self.state: dict = {}

    # ------------------------------------------------------------------ ctx API (steps)
    def get(self, path: str, **params):
        return self.client.get(path, **params)

    def pages(self, path: str, **params):
        return self.client.pages(path, **params)

    def _map(self, kind: str) -> dict[int, tuple[int, str]]:
        if kind not in self.maps:
            rows = LabelStudioCopy.objects.filter(source=self.source, kind=kind)
            if kind not in (USER, PROJECT):
                rows = rows.filter(ls_project=self.ls_project)
            self.maps[kind] = {
                ls_id: (lh_id, updated)
                for ls_id, lh_id, updated in rows.values_list("ls_id", "lh_id", "ls_updated")
            }
        return self.maps[kind]

    def known(self, kind: str, ls_id) -> tuple[int, str] | None:
        return self._map(kind).get(ls_id)

    def remember(self, kind: str, ls_id: int, lh_id: int, ls_updated: str = "", *, ls_project=None):
        self._map(kind)[ls_id] = (lh_id, ls_updated)
        if kind not in (USER, PROJECT) and ls_project is None:
            ls_project = self.ls_project
        self.pending.append(
            LabelStudioCopy(
                source=self.source,
                kind=kind,
                ls_id=ls_id,
                ls_project=ls_project,
                lh_id=lh_id,
                ls_updated=ls_updated or "",
            )
        )

    def user_id(self, ls_user) -> int | None:
        """The LabelHub user for a Label Studio user id, ``{"id", ...}`` or email (drafts
        name their author by email in Label Studio's export)."""
        if isinstance(ls_user, dict):
            ls_user = ls_user.get("id")
        if isinstance(ls_user, str):
            return self.emails.get(ls_user.strip().lower())
        return self.users.get(ls_user)

    def task_id(self, ls_task_id) -> int | None:
        found = self.known(TASK, ls_task_id)
        return found[0] if found else None

    def annotation_id(self, ls_annotation_id) -> int | None:
        found = self.known(ANNOTATION, ls_annotation_id)
        return found[0] if found else None

    def note(self, text: str) -> None:
        self.report.notes.append(text)

    def _flush(self) -> None:
        """Write the mapping rows gathered so far (one upsert per batch)."""
        if not self.pending:
            return
        connection_idle()
        LabelStudioCopy.objects.bulk_create(
            self.pending,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["source", "kind", "ls_id"],
            update_fields=["lh_id", "ls_updated", "ls_project", "copied_at"],
        )
        self.pending = []

    # ------------------------------------------------------------------ run
    def run(self, project_ids: list[int] | None = None) -> MigrationReport:
        started = time.monotonic()
        self.client.get("/api/current-user/whoami")  # wrong URL or token: stop here
        projects = list(self.client.pages("/api/projects/"))
        if project_ids:
            wanted = set(project_ids)
            missing = wanted - {p["id"] for p in projects}
            if missing:
                raise MigrationError(
                    f"Label Studio at {self.source} has no project(s) "
                    f"{', '.join(map(str, sorted(missing)))} that this token can read."
                )
            projects = [p for p in projects if p["id"] in wanted]
        projects.sort(key=lambda p: p["id"])
        self.state = {"projects_total": len(projects), "projects_done": 0}
        self.progress(self.state)
        try:
            # A dry run does everything in one transaction and rolls it back.
            with transaction.atomic(durable=False) if self.dry_run else _nothing():
                self._users()
                for ls_project in projects:
                    self._project_run(ls_project)
                    self.state["projects_done"] += 1
                    self.progress(self.state)
                if self.dry_run:
                    raise _Rollback
        except _Rollback:
            pass
        self.report.seconds = time.monotonic() - started
        self.report.ls_seconds = self.client.waited
        return self.report

    # ------------------------------------------------------------------ users
    def _users(self) -> None:
        User = get_user_model()
        known = self._map(USER)
        ls_users = list(self.client.pages("/api/users/"))
        emails = {(u.get("email") or "").strip().lower() for u in ls_users} - {""}
        existing = {
            email.lower(): pk
            for pk, email in User.objects.filter(email__in=emails).values_list("pk", "email")
        }
        for ls_user in ls_users:
            email = (ls_user.get("email") or "").strip()
            if not email:
                continue
            pk = existing.get(email.lower())
            if pk is None:
                pk = User.objects.filter(email__iexact=email).values_list("pk", flat=True).first()
            if pk is None:
                user = User(
                    username=email,
                    email=email,
                    first_name=(ls_user.get("first_name") or "")[:150],
                    last_name=(ls_user.get("last_name") or "")[:150],
                )
                user.set_unusable_password()
                user.save()
                pk = user.pk
                self.report.new_users.append(email)
            self.users[ls_user["id"]] = pk
            self.emails[email.lower()] = pk
            if known.get(ls_user["id"], (None,))[0] != pk:
                self.remember(USER, ls_user["id"], pk)
        self._flush()

    # ------------------------------------------------------------------ one project
    def _project_run(self, ls_project: dict) -> None:
        report = ProjectReport(ls_id=ls_project["id"], title=ls_project.get("title") or "")
        self.report.projects.append(report)
        self.ls_project = ls_project["id"]
        self.maps = {k: v for k, v in self.maps.items() if k in (USER, PROJECT)}
        self.project_drafts = []
        self.written_files = []
        self.state.update(
            project=report.title, tasks_done=0, tasks_total=ls_project.get("task_number") or 0
        )
        self.progress(self.state)
        started = time.monotonic()
        try:
            with transaction.atomic():
                self._project_copy(ls_project, report)
                self._flush()
                if self.dry_run:
                    raise _Rollback
        except _Rollback:
            pass
        except (MigrationError, ApiError) as exc:
            report.error = str(getattr(exc, "detail", exc))
        except Exception as exc:
            logger.exception("migration of Label Studio project %s failed", report.ls_id)
            report.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.pending = []
            self.maps = {k: v for k, v in self.maps.items() if k == USER}
        if report.error or self.dry_run:
            for key in self.written_files:
                default_storage.delete(key)
            report.copied = Counter() if report.error else report.copied
        report.seconds = time.monotonic() - started

    def _where(self, ls_project: dict) -> str:
        return f'project "{ls_project.get("title")}" (Label Studio id {ls_project["id"]})'

    def _project_fields(self, ls_project: dict) -> dict:
        fields = {
            ours: ls_project[theirs]
            for theirs, ours in PROJECT_FIELDS.items()
            if ls_project.get(theirs) is not None
        }
        fields["title"] = (fields.get("title") or f"Label Studio project {ls_project['id']}")[:200]
        if ls_project.get("sampling") in SAMPLING:
            fields["sampling"] = SAMPLING[ls_project["sampling"]]
        fields["maximum_annotations"] = max(1, int(fields.get("maximum_annotations") or 1))
        return fields

    def _project_copy(self, ls_project: dict, report: ProjectReport) -> None:
        where = self._where(ls_project)
        fields = self._project_fields(ls_project)
        stamp = digest(fields)
        found = self.known(PROJECT, ls_project["id"])
        project = Project.objects.filter(pk=found[0]).first() if found else None
        owner_id = self.user_id(ls_project.get("created_by")) or self.user.pk
        owner = get_user_model().objects.get(pk=owner_id)
        try:
            if project is None:
                project = project_create(user=owner, **fields)
                report.created = True
                report.copied["projects"] += 1
                self.maps.pop(TASK, None)  # a project deleted here is copied afresh
                LabelStudioCopy.objects.filter(
                    source=self.source, ls_project=ls_project["id"]
                ).delete()
                self.maps = {k: v for k, v in self.maps.items() if k in (USER, PROJECT)}
            elif found[1] != stamp:
                changed = {k: v for k, v in fields.items() if getattr(project, k) != v}
                if changed:
                    project_update(project=project, **changed)
                    report.copied["project settings"] += 1
        except ApiError as exc:
            raise MigrationError(f"{where}: {exc.detail}") from None
        report.lh_id = project.pk
        if found is None or found[1] != stamp or report.created:
            self.remember(PROJECT, ls_project["id"], project.pk, stamp)
        self._members(project, owner_id)
        self._tasks(ls_project, project, report)
        self._flush()
        for step in migration_steps.steps():
            count = step.run(self, ls_project, project)
            report.copied[step.name] += count or 0
            self._flush()
        self._check(ls_project, project, report)

    def _members(self, project: Project, owner_id: int) -> None:
        """Every Label Studio user may work in every project of its organization, so
        each becomes a member (annotator) of each copied project; the owner is admin."""
        ProjectMember.objects.bulk_create(
            [
                ProjectMember(
                    project=project,
                    user_id=pk,
                    role=ProjectMember.Role.ADMIN
                    if pk == owner_id
                    else ProjectMember.Role.ANNOTATOR,
                )
                for pk in set(self.users.values()) | {owner_id}
            ],
            ignore_conflicts=True,
        )

    # ------------------------------------------------------------------ tasks
    def _tasks(self, ls_project: dict, project: Project, report: ProjectReport) -> None:
        pid = ls_project["id"]
        predictions: dict[int, list[dict]] = defaultdict(list)
        for prediction in self.client.get("/api/predictions/", project=pid):
            predictions[prediction["task"]].append(prediction)
        export = self.client.temp_download(
            f"/api/projects/{pid}/export", {"exportType": "JSON", "download_all_tasks": "true"}
        )
        try:
            _TaskCopy(self, ls_project, project, report, predictions).run(export)
        finally:
            export.unlink(missing_ok=True)

    # ------------------------------------------------------------------ check
    def _check(self, ls_project: dict, project: Project, report: ProjectReport) -> None:
        connection_idle()
        lh = report.lh_counts
        lh["tasks"] = Task.objects.filter(project=project).count()
        lh["annotations"] = Annotation.objects.filter(project=project).count()
        lh["predictions"] = Prediction.objects.filter(project=project).count()
        drafts = next((s for s in migration_steps.steps() if s.name == "drafts"), None)
        lh["drafts"] = drafts.count(project) if drafts and drafts.count else None
        lh["result checksum"] = result_checksum(
            Annotation.objects.filter(project=project)
            .values_list("result", flat=True)
            .iterator(chunk_size=5000)
        )
        ls = report.ls_counts
        for key in ("tasks", "annotations", "predictions", "drafts", "result checksum"):
            if lh.get(key) is None and key == "drafts":
                if ls.get(key):
                    self.note(
                        f"{self._where(ls_project)}: its {ls[key]} draft(s) were not copied "
                        "(this LabelHub has no drafts yet); a later run copies them once it has"
                    )
                continue
            if ls.get(key) != lh.get(key):
                report.differences.append(
                    f"{key}: Label Studio {ls.get(key)}, LabelHub {lh.get(key)}"
                )


def _stamp(value) -> str:
    return str(value or "")[:64]


def _when(value):
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, datetime.UTC)
    return parsed


class _TaskCopy:
    """The tasks of one project: new ones through the bulk writer, then their ids,
    timestamps and parent links; changes to tasks copied before through the ORM."""

    def __init__(self, migration: Migration, ls_project, project, report, predictions) -> None:
        self.m = migration
        self.ls_project = ls_project
        self.project = project
        self.report = report
        self.predictions = predictions
        self.where = migration._where(ls_project)
        self.side: list[tuple] = []  # per new task: (ls id, created_at, stamp, anns, preds)
        self.files: dict[str, str] = {}  # Label Studio upload path -> LabelHub URL
        self.new_annotations: list[tuple[int, dict]] = []  # (LabelHub task id, LS annotation)
        self.changed_annotations: list[tuple[int, dict]] = []  # (LabelHub annotation id, ...)
        self.new_predictions: list[tuple[int, dict]] = []
        self.changed_tasks: list[tuple[int, dict, str]] = []
        self.touched: set[int] = set()
        self.ls_counts = Counter()
        self.ls_results: list[str] = []
        self.checker = RecordChecker(parsed_config(project))

    # -------------------------------------------------------------- files
    def _upload_path(self, value: str) -> str | None:
        base = self.m.client.url
        if value.startswith(base + UPLOAD_PREFIX):
            value = value[len(base) :]
        if value.startswith(UPLOAD_PREFIX) and ".." not in value:
            return value
        return None

    def _file(self, path: str) -> str:
        """Download an uploaded file from Label Studio into LabelHub's media storage
        (once per path); its LabelHub URL."""
        if path in self.files:
            return self.files[path]
        self.report.copied["files"] += 1
        if self.m.dry_run:
            self.files[path] = path
            return path
        target = self.m.client.temp_download(path.split("?", 1)[0])
        try:
            name = stored_name(path.split("?", 1)[0].rsplit("/", 1)[-1])
            with open(target, "rb") as handle:
                key = default_storage.save(media_key_for(self.project.pk, name), File(handle))
        finally:
            Path(target).unlink(missing_ok=True)
        self.m.written_files.append(key)
        url = f"/data/upload/{self.project.pk}/{key.rsplit('/', 1)[-1]}"
        self.files[path] = url
        return url

    def _data(self, data: dict) -> dict:
        if not isinstance(data, dict):
            return data
        out = {}
        for key, value in data.items():
            if isinstance(value, str) and (path := self._upload_path(value)):
                value = self._file(path)
            elif isinstance(value, list):
                value = [
                    self._file(p) if isinstance(v, str) and (p := self._upload_path(v)) else v
                    for v in value
                ]
            out[key] = value
        return out

    # -------------------------------------------------------------- records
    def _annotation(self, item: dict) -> dict:
        return {
            "result": item.get("result") or [],
            "was_cancelled": bool(item.get("was_cancelled")),
            "ground_truth": bool(item.get("ground_truth")),
            "lead_time": item.get("lead_time"),
            "completed_by": self.m.user_id(item.get("completed_by")) or self.m.user.pk,
        }

    @staticmethod
    def _prediction(item: dict) -> dict:
        return {
            "result": item.get("result") or [],
            "score": item.get("score"),
            "model_version": item.get("model_version") or "",
        }

    def _records(self, export: Path):
        with open(export, "rb") as handle:
            for task in ijson.items(handle, "item", use_float=True):
                self._count(task)
                ls_id = task["id"]
                known = self.m.known(TASK, ls_id)
                if known is not None:
                    self._existing(known[0], task)
                    continue
                annotations = task.get("annotations") or []
                predictions = self.predictions.get(ls_id, [])
                self.side.append(
                    (
                        ls_id,
                        task.get("created_at"),
                        digest([task.get("data"), task.get("meta")]),
                        [
                            (
                                a["id"],
                                a.get("created_at"),
                                a.get("updated_at"),
                                a.get("parent_prediction"),
                                a.get("parent_annotation"),
                            )
                            for a in annotations
                        ],
                        [(p["id"], p.get("created_at"), p.get("updated_at")) for p in predictions],
                        task.get("drafts") or [],
                    )
                )
                yield {
                    "data": self._data(task.get("data") or {}),
                    "meta": task.get("meta") or {},
                    "annotations": [self._annotation(a) for a in annotations],
                    "predictions": [self._prediction(p) for p in predictions],
                }

    def _count(self, task: dict) -> None:
        counts = self.ls_counts
        counts["tasks"] += 1
        annotations = task.get("annotations") or []
        counts["annotations"] += len(annotations)
        counts["drafts"] += len(task.get("drafts") or [])
        self.ls_results.extend(digest(a.get("result") or []) for a in annotations)
        state = self.m.state
        state["tasks_done"] = counts["tasks"]
        if counts["tasks"] % 1000 == 0:
            self.m.progress(state)

    def _existing(self, task_id: int, task: dict) -> None:
        """A task copied before: note new and changed annotations and predictions."""
        stamp = digest([task.get("data"), task.get("meta")])
        if self.m.known(TASK, task["id"])[1] != stamp:
            self.changed_tasks.append((task_id, task, stamp))
        for item in task.get("annotations") or []:
            found = self.m.known(ANNOTATION, item["id"])
            if found is None:
                self.new_annotations.append((task_id, item))
            elif found[1] != _stamp(item.get("updated_at")):
                self.changed_annotations.append((found[0], item))
        for item in self.predictions.get(task["id"], []):
            found = self.m.known(PREDICTION, item["id"])
            if found is None:
                self.new_predictions.append((task_id, item))
        for draft in task.get("drafts") or []:
            self.m.project_drafts.append((task_id, draft))

    # -------------------------------------------------------------- run
    def run(self, export: Path) -> None:
        try:
            result = records_import(
                project=self.project,
                records=self._records(export),
                user=self.m.user,
                allow_empty=True,
                progress=None,
            )
        except ApiError as exc:
            raise MigrationError(self._located(exc)) from None
        self.report.copied["tasks"] += result.task_count
        self.report.copied["annotations"] += result.annotation_count
        self.report.copied["predictions"] += result.prediction_count
        self._map_new(list(result.ids))
        self._apply_changes()
        ls = self.report.ls_counts
        ls["tasks"] = self.ls_counts["tasks"]
        ls["annotations"] = self.ls_counts["annotations"]
        ls["predictions"] = sum(len(v) for v in self.predictions.values())
        ls["drafts"] = self.ls_counts["drafts"]
        ls["result checksum"] = hashlib.sha256(
            "".join(sorted(self.ls_results)).encode()
        ).hexdigest()[:16]

    def _located(self, exc: ApiError) -> str:
        """The import's error, naming Label Studio's task id instead of a record index."""
        new_ids = [entry[0] for entry in self.side]
        details = []
        for error in (exc.errors or [])[:5]:
            index = error.get("record")
            task = new_ids[index] if isinstance(index, int) and index < len(new_ids) else "?"
            details.append(
                f"task {task}"
                + (f", {error['field']}" if error.get("field") else "")
                + f": {error.get('message')}"
            )
        more = f" (and {len(exc.errors) - 5} more)" if len(exc.errors or []) > 5 else ""
        return f"{self.where}: " + ("; ".join(details) or str(exc.detail)) + more

    def _map_new(self, task_ids: list[int]) -> None:
        """Pair the new rows with their Label Studio ids (the writer inserts a task's
        annotations and predictions in input order, so ids ascend with it), set Label
        Studio's timestamps, then the parent links."""
        m = self.m
        parents: list[tuple[int, int | None, int | None]] = []
        for start in range(0, len(task_ids), POST_BATCH):
            ids = task_ids[start : start + POST_BATCH]
            side = self.side[start : start + POST_BATCH]
            annotations = defaultdict(list)
            for pk, task_id in (
                Annotation.objects.filter(task_id__in=ids)
                .order_by("task_id", "id")
                .values_list("id", "task_id")
            ):
                annotations[task_id].append(pk)
            predictions = defaultdict(list)
            for pk, task_id in (
                Prediction.objects.filter(task_id__in=ids)
                .order_by("task_id", "id")
                .values_list("id", "task_id")
            ):
                predictions[task_id].append(pk)
            task_rows, annotation_rows, prediction_rows = [], [], []
            for task_id, (ls_id, created, stamp, anns, preds, drafts) in zip(
                ids, side, strict=True
            ):
                m.remember(TASK, ls_id, task_id, stamp)
                if created:
                    task_rows.append((task_id, _when(created)))
                for pk, (ls_aid, a_created, a_updated, parent_p, parent_a) in zip(
                    annotations[task_id], anns, strict=True
                ):
                    m.remember(ANNOTATION, ls_aid, pk, _stamp(a_updated))
                    annotation_rows.append((pk, _when(a_created), _when(a_updated)))
                    if parent_p or parent_a:
                        parents.append((pk, parent_p, parent_a))
                for pk, (ls_pid, p_created, p_updated) in zip(
                    predictions[task_id], preds, strict=True
                ):
                    m.remember(PREDICTION, ls_pid, pk, _stamp(p_updated))
                    prediction_rows.append((pk, _when(p_created), _when(p_updated)))
                for draft in drafts:
                    m.project_drafts.append((task_id, draft))
            _bulk_set(Task, ["created_at"], [r for r in task_rows if r[1]])
            _bulk_set(
                Annotation,
                ["created_at", "updated_at"],
                [r for r in annotation_rows if r[1] and r[2]],
            )
            _bulk_set(
                Prediction,
                ["created_at", "updated_at"],
                [r for r in prediction_rows if r[1] and r[2]],
            )
        self._parents(parents)

    def _parents(self, parents: list[tuple[int, int | None, int | None]]) -> None:
        rows = []
        for pk, ls_prediction, ls_annotation in parents:
            prediction = self.m.known(PREDICTION, ls_prediction) if ls_prediction else None
            annotation = self.m.known(ANNOTATION, ls_annotation) if ls_annotation else None
            rows.append(
                (pk, prediction[0] if prediction else None, annotation[0] if annotation else None)
            )
        _bulk_set(Annotation, ["parent_prediction_id", "parent_annotation_id"], rows)

    def _apply_changes(self) -> None:
        """New or changed annotations and predictions of tasks copied before (few, on a
        re-run): validated, written through the ORM, then their tasks recounted."""
        m = self.m
        for task_id, task, stamp in self.changed_tasks:
            data = self._data(task.get("data") or {})
            Task.objects.filter(pk=task_id).update(data=data, meta=task.get("meta") or {})
            m.remember(TASK, task["id"], task_id, stamp)
            self.report.copied["changed tasks"] += 1
        for _task_id, item in self.new_annotations + [(0, i) for _, i in self.changed_annotations]:
            errors = self.checker.result_errors(0, "annotation", item.get("result") or [])
            if errors and not (item.get("was_cancelled") and not item.get("result")):
                raise MigrationError(
                    f"{self.where}: task {item.get('task')}, annotation {item['id']}: "
                    f"{errors[0]['message']}"
                )
        created = []
        for task_id, item in self.new_annotations:
            fields = self._annotation(item)
            annotation = Annotation(
                task_id=task_id,
                project=self.project,
                completed_by_id=fields["completed_by"],
                result=fields["result"],
                was_cancelled=fields["was_cancelled"],
                ground_truth=fields["ground_truth"],
                lead_time=fields["lead_time"],
                created_at=_when(item.get("created_at")) or timezone.now(),
                updated_at=_when(item.get("updated_at")) or timezone.now(),
            )
            created.append((annotation, item))
            self.touched.add(task_id)
        Annotation.objects.bulk_create([a for a, _ in created], batch_size=1000)
        for annotation, item in created:
            m.remember(ANNOTATION, item["id"], annotation.pk, _stamp(item.get("updated_at")))
        self.report.copied["annotations"] += len(created)
        for pk, item in self.changed_annotations:
            fields = self._annotation(item)
            Annotation.objects.filter(pk=pk).update(
                result=fields["result"],
                was_cancelled=fields["was_cancelled"],
                ground_truth=fields["ground_truth"],
                lead_time=fields["lead_time"],
                completed_by_id=fields["completed_by"],
                updated_at=_when(item.get("updated_at")) or timezone.now(),
            )
            m.remember(ANNOTATION, item["id"], pk, _stamp(item.get("updated_at")))
            self.touched.add(Annotation.objects.filter(pk=pk).values_list("task_id", flat=True)[0])
        self.report.copied["changed annotations"] += len(self.changed_annotations)
        new_predictions = []
        for task_id, item in self.new_predictions:
            fields = self._prediction(item)
            new_predictions.append(
                (
                    Prediction(
                        task_id=task_id,
                        project=self.project,
                        created_at=_when(item.get("created_at")) or timezone.now(),
                        updated_at=_when(item.get("updated_at")) or timezone.now(),
                        **fields,
                    ),
                    item,
                )
            )
            self.touched.add(task_id)
        Prediction.objects.bulk_create([p for p, _ in new_predictions], batch_size=1000)
        for prediction, item in new_predictions:
            m.remember(PREDICTION, item["id"], prediction.pk, _stamp(item.get("updated_at")))
        self.report.copied["predictions"] += len(new_predictions)
        self._parents(
            [
                (annotation.pk, item.get("parent_prediction"), item.get("parent_annotation"))
                for annotation, item in created
                if item.get("parent_prediction") or item.get("parent_annotation")
            ]
        )
        if self.touched:
            tasks_counters_recount(project=self.project, task_ids=sorted(self.touched))


def _bulk_set(model, columns: list[str], rows: list[tuple]) -> None:
    """Set ``columns`` of many rows by id: one ``UPDATE ... FROM (VALUES ...)`` per 1000
    rows on PostgreSQL, ``executemany`` on SQLite (both far faster than ``bulk_update``'s
    CASE per column)."""
    if not rows:
        return
    table = model._meta.db_table
    fields = [model._meta.get_field(c.removesuffix("_id")) for c in columns]
    prepared = [
        (pk, *(f.get_db_prep_save(v, connection) for f, v in zip(fields, values, strict=True)))
        for pk, *values in rows
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from psycopg2.extras import execute_values

            types = [f.db_type(connection) if not f.is_relation else "bigint" for f in fields]
            sets = ", ".join(f'"{c}" = v."{c}"::{t}' for c, t in zip(columns, types, strict=True))
            names = ", ".join(f'"{c}"' for c in columns)
            execute_values(
                cursor.cursor if hasattr(cursor, "cursor") else cursor,
                f"UPDATE {table} AS t SET {sets} FROM (VALUES %s) AS v(id, {names}) "
                "WHERE t.id = v.id",
                prepared,
                page_size=1000,
            )
        else:
            sets = ", ".join(f'"{c}" = %s' for c in columns)
            cursor.executemany(
                f"UPDATE {table} SET {sets} WHERE id = %s",
                [(*values, pk) for pk, *values in prepared],
            )


def migrate(
    *,
    url: str,
    token: str,
    user,
    project_ids: list[int] | None = None,
    dry_run: bool = False,
    progress: Callable[[dict], None] | None = None,
) -> MigrationReport:
    """Copy Label Studio at ``url`` (read with ``token``) into LabelHub; see the module
    docstring. ``user`` (staff) owns what has no owner there. Raises MigrationError for
    a problem with the connection as a whole; a project's problem is in its report."""
    client = LabelStudioClient(url, token)
    try:
        return Migration(client=client, user=user, dry_run=dry_run, progress=progress).run(
            project_ids
        )
    finally:
        client.close()
