"""The migration job's body (the staff page), run by the one job framework
(``labelhub.jobs``): a job whose lock is free while it says ``in_progress`` is marked
failed by whoever looks next, and a new run continues where it stopped. Progress goes to
a small JSON file (``importers.lsmigrate.progress``). The token is blanked when the job
ends. Jobs are created and enqueued by ``importers.lsmigrate.service.job_create``.
"""

import logging

from django.conf import settings

from importers.lsmigrate.client import MigrationError
from importers.lsmigrate.progress import ProgressFile, progress_path
from importers.lsmigrate.service import migrate
from importers.models import MigrationJob
from labelhub import jobs

logger = logging.getLogger(__name__)

WORKER_LOST = (
    "The worker stopped during the migration. Start it again: it continues where it stopped."
)
QUEUE_DOWN = "The job queue could not be reached, so the migration was not started."


def migration_job_body(job: MigrationJob) -> None:
    progress = ProgressFile(job.pk)
    try:
        report = migrate(
            url=job.url,
            token=job.token,
            user=job.created_by,
            project_ids=job.project_ids or None,
            dry_run=job.dry_run,
            progress=progress,
        )
    except MigrationError as exc:
        raise jobs.JobFailed(str(exc), stage=progress.state) from None
    except Exception as exc:
        logger.exception("migration %s failed", job.pk)
        raise jobs.JobFailed(
            f"The migration failed ({type(exc).__name__}).", stage=progress.state
        ) from None
    fields = {"report": "\n".join(report.lines(with_links=False)), "stage": progress.state}
    if not report.ok:
        fields["error"] = "Finished with differences or failed projects: see the report."
    jobs.job_complete(job, **fields)


def _progress_drop(job: MigrationJob) -> None:
    progress_path(job.pk).unlink(missing_ok=True)


KIND = jobs.Kind(
    name="lsmigrate",
    model=MigrationJob,
    lock_namespace=0x4C4D,  # "LM"
    body=migration_job_body,
    worker_lost=WORKER_LOST,
    queue_down=QUEUE_DOWN,
    crashed="The migration failed ({error}).",
    queue=lambda job_id: settings.LABELHUB_IMPORT_QUEUE or None,
    select_related=("created_by",),
    ended=_progress_drop,
    end_fields=(("token", ""),),
)
