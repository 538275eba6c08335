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
A re-run reads only the tasks that changed since the last copy began (``delta``).

Fast: a first copy reads the tasks from Label Studio's export API (one streamed JSON
document of all tasks with their annotations and drafts; predictions from one
``/api/predictions/`` list), parsed with ijson, and new tasks go through the importers'
bulk writer (COPY on PostgreSQL); ``taskcopy`` then sets Label Studio's timestamps and
the ``parent_*`` links with one UPDATE per batch of rows.
"""

import contextlib
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable

import ijson
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db import transaction

from annotations.models import Annotation, Prediction
from importers.bulk.base import connection_idle
from importers.lsmigrate import delta
from importers.lsmigrate import steps as _steps  # noqa: F401 - registers the tabs step
from importers.lsmigrate.client import LabelStudioClient, MigrationError, normalize_url
from importers.lsmigrate.progress import progress_read
from importers.lsmigrate.report import MigrationReport, ProjectReport, digest, result_checksum
from importers.lsmigrate.taskcopy import ANNOTATION, PREDICTION, TASK, TaskCopy
from importers.models import LabelStudioCopy, MigrationJob
from labelhub import jobs, migration_steps
from labelhub.errors import ApiError
from projects import invites
from projects.models import Project, ProjectMember
from projects.services import project_create, project_update
from tasks.models import Task

logger = logging.getLogger(__name__)

USER, PROJECT = "user", "project"

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
        # kinds whose ids are instance-wide (the rest are per project)
        self.shared = {USER, PROJECT} | migration_steps.shared_kinds()
        self.cache: dict = {}  # for steps: lives for the whole run
        self.copied_task_ids: list[int] = []  # LabelHub ids of tasks made for this project
        self.read_task_ids: list[int] = []  # LabelHub ids of the project's tasks read
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
            self.maps[kind] = {
                ls_id: (lh_id, updated)
                for ls_id, lh_id, updated in self._rows(kind).values_list(
                    "ls_id", "lh_id", "ls_updated"
                )
            }
        return self.maps[kind]

    def _rows(self, kind: str):
        rows = LabelStudioCopy.objects.filter(source=self.source, kind=kind)
        if kind not in self.shared:
            rows = rows.filter(ls_project=self.ls_project)
        return rows

    def known_ids(self, kind: str, ls_ids) -> set[int]:
        """Which of ``ls_ids`` were copied before (one query per 5000, no map load)."""
        ls_ids = list(ls_ids)
        if kind in self.maps:
            return {ls_id for ls_id in ls_ids if ls_id in self.maps[kind]}
        found: set[int] = set()
        for start in range(0, len(ls_ids), 5000):
            found.update(
                self._rows(kind)
                .filter(ls_id__in=ls_ids[start : start + 5000])
                .values_list("ls_id", flat=True)
            )
        return found

    def preload(self, kind: str, ls_ids) -> None:
        """Load only these ids' records for ``kind`` (a re-run that reads a few tasks
        need not load the project's whole mapping); every id looked up later must be
        among them."""
        ls_ids = list(ls_ids)
        loaded: dict[int, tuple[int, str]] = {}
        for start in range(0, len(ls_ids), 5000):
            rows = self._rows(kind).filter(ls_id__in=ls_ids[start : start + 5000])
            loaded.update(
                (ls_id, (lh_id, updated))
                for ls_id, lh_id, updated in rows.values_list("ls_id", "lh_id", "ls_updated")
            )
        self.maps[kind] = loaded

    def known(self, kind: str, ls_id) -> tuple[int, str] | None:
        return self._map(kind).get(ls_id)

    def copies(self, kind: str) -> dict[int, tuple[int, str]]:
        """Every record of ``kind`` (this project's, unless the kind is shared)."""
        return dict(self._map(kind))

    def remember(self, kind: str, ls_id: int, lh_id: int, ls_updated: str = "", *, ls_project=None):
        self._map(kind)[ls_id] = (lh_id, ls_updated)
        if kind not in self.shared and ls_project is None:
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
        """Label Studio's users by email: an existing LabelHub account is reused; a new
        one is made without a usable password, and everyone who has not chosen one yet
        gets a personal invite link in the report (``projects.invites``)."""
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
        if not self.dry_run:
            self.report.invites = pending_invites(user_ids=set(self.users.values()))

    # ------------------------------------------------------------------ one project
    def _project_run(self, ls_project: dict) -> None:
        report = ProjectReport(ls_id=ls_project["id"], title=ls_project.get("title") or "")
        self.report.projects.append(report)
        self.ls_project = ls_project["id"]
        self.maps = {k: v for k, v in self.maps.items() if k in self.shared}
        self.project_drafts = []
        self.copied_task_ids = []
        self.read_task_ids = []
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
            report.lh_id = None if report.error else report.lh_id  # rolled back
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
                self.maps = {k: v for k, v in self.maps.items() if k in self.shared}
            elif found is not None and found[1] != stamp:
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
        """A project copied before reads only the tasks that changed (``delta``); a new
        one, or one whose changes cannot be told, reads the whole export."""
        pid = ls_project["id"]
        changed, started = None, ""
        if not report.created:
            mapped = self._rows(TASK).count()
            changed, started = delta.changed_task_ids(self, ls_project, mapped_tasks=mapped)
        report.full_read = changed is None
        predictions: dict[int, list[dict]] = defaultdict(list)
        if changed is None:
            listed = self.client.get("/api/predictions/", project=pid)
            started = delta.clock(self.client)  # before the export reads the tasks
        elif len(changed) <= delta.EXPORT_CHUNK:
            listed = [
                p for task in changed for p in self.client.get("/api/predictions/", task=task)
            ]
        else:
            listed = self.client.get("/api/predictions/", project=pid)
        wanted = None if changed is None else set(changed)
        for prediction in listed:
            if wanted is None or prediction["task"] in wanted:
                predictions[prediction["task"]].append(prediction)
        params = {"exportType": "JSON", "download_all_tasks": "true"}
        exports: list = []
        try:
            if changed is None:
                exports.append(self.client.temp_download(f"/api/projects/{pid}/export", params))
            else:
                for ids in delta.chunks(changed):
                    exports.append(
                        self.client.temp_download(
                            f"/api/projects/{pid}/export", {**params, "ids[]": ids}
                        )
                    )
                self._preload(exports, predictions)
            copy = TaskCopy(self, ls_project, project, report, predictions)
            copy.run(exports, full=changed is None)
        finally:
            for export in exports:
                export.unlink(missing_ok=True)
        seen = self.known(delta.SEEN, pid)
        mark = delta.newest(seen[1] if seen else "", started or copy.newest)
        if mark and (seen is None or seen[1] != mark):
            self.remember(delta.SEEN, pid, project.pk, mark)
        report.read_task_ids = copy.read_task_ids
        self.read_task_ids = [pk for pk in map(self.task_id, copy.read_task_ids) if pk]

    def _preload(self, exports, predictions: dict) -> None:
        """Load the mapping of just the objects the changed tasks name."""
        ids: dict[str, set] = {TASK: set(), ANNOTATION: set(), PREDICTION: set()}
        for export in exports:
            with open(export, "rb") as handle:
                for task in ijson.items(handle, "item", use_float=True):
                    ids[TASK].add(task["id"])
                    for item in task.get("annotations") or []:
                        ids[ANNOTATION].update(
                            i for i in (item["id"], item.get("parent_annotation")) if i
                        )
                        if item.get("parent_prediction"):
                            ids[PREDICTION].add(item["parent_prediction"])
                    for draft in task.get("drafts") or []:
                        if draft.get("annotation"):
                            ids[ANNOTATION].add(draft["annotation"])
        for items in predictions.values():
            ids[PREDICTION].update(p["id"] for p in items)
        for kind, wanted in ids.items():
            self.preload(kind, wanted)

    # ------------------------------------------------------------------ check
    def _check(self, ls_project: dict, project: Project, report: ProjectReport) -> None:
        """Counts of both sides, and a checksum over the results of every annotation (a
        re-run that read only the changed tasks: over those tasks' annotations)."""
        connection_idle()
        lh = report.lh_counts
        lh["tasks"] = Task.objects.filter(project=project).count()
        lh["annotations"] = Annotation.objects.filter(project=project).count()
        lh["predictions"] = Prediction.objects.filter(project=project).count()
        drafts = next((s for s in migration_steps.steps() if s.name == "drafts"), None)
        lh["drafts"] = drafts.count(project) if drafts and drafts.count else None
        results = Annotation.objects.filter(project=project)
        key = "result checksum"
        if not report.full_read:
            key = "result checksum (tasks read again)"
            task_ids = [self.task_id(ls_id) for ls_id in report.read_task_ids]
            results = results.filter(task_id__in=[pk for pk in task_ids if pk])
        if report.full_read or report.read_task_ids:
            lh[key] = result_checksum(
                results.values_list("result", flat=True).iterator(chunk_size=5000)
            )
        ls = report.ls_counts
        for name in ("tasks", "annotations", "predictions", "drafts", key):
            if lh.get(name) is None and name == "drafts":
                if ls.get(name):
                    self.note(
                        f"{self._where(ls_project)}: its {ls[name]} draft(s) were not copied "
                        "(this LabelHub has no drafts yet); a later run copies them once it has"
                    )
                continue
            if ls.get(name) != lh.get(name):
                report.differences.append(
                    f"{name}: Label Studio {ls.get(name)}, LabelHub {lh.get(name)}"
                )


def pending_invites(*, user_ids=None, source: str | None = None) -> list[tuple[str, str]]:
    """(email, fresh invite link) of each user copied from Label Studio (``user_ids``, or
    every user copied from ``source``) who has not chosen a password yet. Links are made
    when asked for, never stored."""
    if user_ids is None:
        user_ids = LabelStudioCopy.objects.filter(source=source, kind=USER).values("lh_id")
    users = get_user_model().objects.filter(pk__in=user_ids, is_active=True).order_by("email")
    return [
        (user.email, invites.invite_url(user)) for user in users if invites.invite_pending(user)
    ]


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


# ---------------------------------------------------------------- the background job


def job_create(
    *, user, url: str, token: str, project_ids: list[int], dry_run: bool
) -> MigrationJob:
    """Record a migration and enqueue it (``labelhub.jobs``; its body is
    ``importers.lsmigrate.jobs``) once the surrounding transaction commits."""
    try:
        url = normalize_url(url)
    except MigrationError as exc:
        raise ApiError(str(exc), [{"field": "url", "message": str(exc)}]) from None
    if not token.strip():
        raise ApiError(
            "A Label Studio token is needed.", [{"field": "token", "message": "required"}]
        )
    job = MigrationJob.objects.create(
        created_by=user, url=url, token=token.strip(), project_ids=project_ids, dry_run=dry_run
    )
    jobs.job_enqueue_on_commit(job)
    return job


def job_state(job: MigrationJob) -> dict:
    """What the staff page polls (never the token): the fields every job answers, and
    the migration's own (``progress`` is its step-by-step state, as it always was)."""
    job = jobs.job_check_alive(job)
    return {
        **jobs.job_fields(job),
        "url": job.url,
        "dry_run": job.dry_run,
        "progress": progress_read(job) if not job.is_finished else job.stage,
        "detail": job.error,
        "report": job.report,
        # made fresh on each look, for the staff member to hand on (never stored)
        "invites": [
            {"email": email, "link": link}
            for email, link in (
                pending_invites(source=job.url)
                if job.status == MigrationJob.Status.COMPLETED and not job.dry_run
                else []
            )
        ],
    }
