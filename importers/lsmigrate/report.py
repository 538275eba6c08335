"""The migration's report: what was copied per project, the closing check's counts and
differences, new users with their invite links, and the admin's to-do list."""

import hashlib
from collections import Counter
from dataclasses import dataclass, field

import orjson


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
    full_read: bool = True  # False: a re-run read only the tasks that changed
    read_task_ids: list[int] = field(default_factory=list)  # Label Studio ids read

    def line(self) -> str:
        where = f'Project "{self.title}" (Label Studio {self.ls_id}'
        where += f" -> LabelHub {self.lh_id})" if self.lh_id else ")"
        if self.error:
            return f"{where}: FAILED, nothing of it was written: {self.error}"
        copied = ", ".join(f"{n} {k}" for k, n in sorted(self.copied.items()) if n) or "nothing"
        read = "" if self.full_read else f" (read {len(self.read_task_ids)} changed task(s))"
        return f"{where}: copied {copied} in {self.seconds:.1f}s{read}"


@dataclass
class MigrationReport:
    url: str
    dry_run: bool = False
    projects: list[ProjectReport] = field(default_factory=list)
    new_users: list[str] = field(default_factory=list)
    invites: list[tuple[str, str]] = field(default_factory=list)  # (email, invite link)
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

    def lines(self, *, with_links: bool = True) -> list[str]:
        """The report as text; ``with_links=False`` leaves the invite links out (the
        staff page shows fresh ones instead of keeping them in the job's row)."""
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
                f"New users ({len(self.new_users)}, created without a usable password): "
                + ", ".join(self.new_users)
            )
        if self.invites and not with_links:
            lines.append(
                f"{len(self.invites)} person(s) have not chosen a password yet: their "
                "invite links are listed below."
            )
        elif self.invites:
            lines.append(
                "Invite links (send each person theirs: it lets them choose a password and "
                "works once, for 30 days; a later run lists fresh links for those who have "
                "not used theirs):"
            )
            lines.extend(f"  {email}: {link}" for email, link in self.invites)
        if self.notes:
            lines.append("For the admin to do:")
            lines.extend(f"  {note}" for note in self.notes)
        return lines
