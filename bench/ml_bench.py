"""Prediction job throughput: a built-in text classifier predicting for N tasks.

Builds a project of N text tasks with SQL (``INSERT ... SELECT generate_series``),
labels 200 of them through the annotation service, trains the text classifier (the
training job, in this process), then times the prediction job that follows: batches of
``LABELHUB_ML_BATCH_SIZE`` tasks, model inference, result checks against the config,
``COPY`` of the predictions, the counters and mean scores of the tasks, and at the end
the active-learning priorities of the open tasks. Prints the wall time, tasks per
second and the peak RSS of this process. The project is deleted afterwards unless
``--keep``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/labelhub_bench \\
        .venv/bin/python bench/ml_bench.py --tasks 1000000
"""

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
os.environ.setdefault("LABELHUB_DATA_DIR", tempfile.mkdtemp(prefix="labelhub-ml-bench-"))

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from annotations.models import Prediction  # noqa: E402
from annotations.services import annotation_create, project_delete  # noqa: E402
from labelhub import jobs  # noqa: E402
from ml.models import PredictionJob  # noqa: E402
from ml.services import backend_create, training_job_create  # noqa: E402
from projects.models import Project  # noqa: E402
from projects.services import project_create  # noqa: E402
from tasks.models import Task  # noqa: E402

CONFIG = (
    '<View><Text name="text" value="$text"/>'
    '<Choices name="sentiment" toName="text"><Choice value="Positive"/>'
    '<Choice value="Negative"/><Choice value="Neutral"/></Choices></View>'
)
WORDS = {
    "Positive": ["great", "lovely", "good", "superb"],
    "Negative": ["awful", "bad", "poor", "dreadful"],
    "Neutral": ["okay", "average", "plain", "usual"],
}
LABELS = list(WORDS)


def build(n: int) -> Project:
    User = get_user_model()
    owner, _ = User.objects.get_or_create(
        username="ml-bench-owner", defaults={"email": "mlb@example.com", "is_staff": True}
    )
    project = project_create(
        user=owner, title=f"ml bench {n}", label_config=CONFIG, min_annotations_to_start_training=50
    )
    started = time.monotonic()
    words = [w for label in LABELS for w in WORDS[label]]
    array = "ARRAY[" + ",".join(f"'{w}'" for w in words) + "]"
    with connection.cursor() as cursor, transaction.atomic():
        cursor.execute(
            f"""
            INSERT INTO {Task._meta.db_table}
                (project_id, data, meta, is_labeled, total_annotations, cancelled_annotations,
                 total_predictions, created_at, updated_at)
            SELECT %s,
                   jsonb_build_object('text', 'the film number ' || i || ' was really '
                       || ({array})[1 + mod(i, {len(words)})] || ' and quite '
                       || ({array})[1 + mod(i * 7, {len(words)})]),
                   '{{}}'::jsonb, false, 0, 0, 0, now(), now()
            FROM generate_series(1, %s) AS i
            """,
            [project.pk, n],
        )
        Project.objects.filter(pk=project.pk).update(task_number=n)
    print(f"built {n} tasks in {time.monotonic() - started:.1f} s", flush=True)
    for task in Task.objects.filter(project=project).order_by("id")[:200]:
        label = next(
            lab for lab in LABELS if any(w in task.data["text"].split()[-4] for w in WORDS[lab])
        )
        annotation_create(
            task=task,
            user=owner,
            result=[
                {
                    "from_name": "sentiment",
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": [label]},
                }
            ],
        )
    project.refresh_from_db()
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    project = build(args.tasks)
    try:
        backend = backend_create(project=project, kind="builtin", model="text-classifier")
        job = training_job_create(backend=backend, queue=False)
        started = time.monotonic()
        jobs.job_run(kind="training", job_id=job.pk)  # queues a prediction job, run below and timed
        job.refresh_from_db()
        print(
            f"training: {job.status} in {time.monotonic() - started:.1f} s, "
            f"{job.annotations_used} annotations, metrics {job.metrics}",
            flush=True,
        )
        prediction = PredictionJob.objects.filter(backend=backend).latest("id")
        started = time.monotonic()
        jobs.job_run(kind="prediction", job_id=prediction.pk)
        seconds = time.monotonic() - started
        prediction.refresh_from_db()
        written = Prediction.objects.filter(project=project).count()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"prediction job: {prediction.status}, {prediction.written} written "
            f"({written} rows), {prediction.dropped} dropped, batch "
            f"{os.environ.get('LABELHUB_ML_BATCH_SIZE', 2000)}: {seconds:.1f} s = "
            f"{prediction.written / seconds:,.0f} tasks/s; peak RSS {rss:.0f} MB",
            flush=True,
        )
        open_with_priority = Task.objects.filter(
            project=project, is_labeled=False, al_priority__isnull=False
        ).count()
        print(f"active-learning priorities written for {open_with_priority} open tasks")
    finally:
        if not args.keep:
            project_delete(project=project)


if __name__ == "__main__":
    main()
