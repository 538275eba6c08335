"""Quality figures at scale, server side, on PostgreSQL.

Builds a project with SQL (``INSERT ... SELECT generate_series``): N tasks (1M by
default), 100 annotators and about N annotations: the first ``--overlap`` share of the
tasks has two annotations (with their stored pair scores and task agreement), the rest
one; 5% are skips, 1% ground truth, 5% reviewed (plus the day rows and annotator-pair
totals the annotation services keep, recounted in SQL). Then it times, through the Django test
client and the real routing, authentication, permissions and JSON rendering:

- ``write``:   POST /api/tasks/{id}/annotations/ on a task that already has one
  annotation, so the write scores the new pair and stores the task's agreement in the
  same transaction (validation, counters, label counts, lock release included);
  ``upkeep`` is the quality part of that write alone;
- ``quality``: GET /api/projects/{id}/quality/ (SQL aggregates over stored scores);
- ``matrix``:  GET /api/projects/{id}/quality/agreement-matrix/.

It prints p50/p95 in milliseconds. The project is deleted afterwards unless ``--keep``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/labelhub_bench \\
        .venv/bin/python bench/quality_bench.py --tasks 1000000 --samples 30
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/labelhub_bench")
os.environ.setdefault("LABELHUB_DATA_DIR", "/tmp/labelhub-quality-bench")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from annotations import services as annotation_services  # noqa: E402
from annotations.quality import quality_totals_recount  # noqa: E402
from annotations.services import project_delete  # noqa: E402
from projects.models import Project, ProjectMember  # noqa: E402
from projects.services import member_set, project_create  # noqa: E402

CONFIG = (
    '<View><Text name="text" value="$text"/>'
    '<Choices name="sentiment" toName="text"><Choice value="Positive"/>'
    '<Choice value="Negative"/></Choices></View>'
)


def result(value: str) -> list[dict]:
    return [
        {
            "id": "r1",
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [value]},
        }
    ]


def build(n: int, overlap: float, annotators: int) -> tuple[Project, list, object]:
    User = get_user_model()
    owner, _ = User.objects.get_or_create(
        username="quality-bench-owner", defaults={"email": "qbo@example.com", "is_staff": True}
    )
    project = project_create(
        user=owner, title=f"quality bench {n}", label_config=CONFIG, maximum_annotations=2
    )
    users = []
    for index in range(annotators):
        user, _ = User.objects.get_or_create(
            username=f"quality-bench-{index}", defaults={"email": f"qb{index}@example.com"}
        )
        member_set(project=project, user=user, role=ProjectMember.Role.ANNOTATOR)
        users.append(user.pk)
    doubled = int(n * overlap)
    started = time.monotonic()
    positive = '[{"id": "r1", "from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}]'
    negative = positive.replace("Positive", "Negative")
    with connection.cursor() as cursor, transaction.atomic():
        cursor.execute(
            """
            INSERT INTO tasks_task (project_id, data, meta, is_labeled, total_annotations,
                cancelled_annotations, total_predictions, created_at, updated_at, is_benchmark,
                agreement)
            SELECT %(p)s, jsonb_build_object('text', 'task ' || g), '{}'::jsonb,
                g <= %(d)s, CASE WHEN g <= %(d)s THEN 2 ELSE 1 END, 0, 0, now(), now(), false,
                CASE WHEN g <= %(d)s THEN (g %% 2)::float ELSE NULL END
            FROM generate_series(1, %(n)s) g
            """,
            {"p": project.pk, "d": doubled, "n": n},
        )
        # First annotation of every task, then a second one on the overlap tasks; the
        # second disagrees on odd tasks (agreement 0 there, 1 on even ones).
        cursor.execute(
            """
            INSERT INTO annotations_annotation (task_id, project_id, completed_by_id, result,
                was_cancelled, ground_truth, lead_time, created_at, updated_at)
            SELECT t.id, t.project_id, (%(u)s::int[])[1 + (t.id %% %(k)s)], %(pos)s::jsonb,
                t.total_annotations = 1 AND t.id %% 20 = 0, t.id %% 100 = 0,
                (t.id %% 600) / 10.0, now() - (t.id %% 30) * interval '1 day', now()
            FROM tasks_task t WHERE t.project_id = %(p)s
            UNION ALL
            SELECT t.id, t.project_id, (%(u)s::int[])[1 + ((t.id + 1) %% %(k)s)],
                CASE WHEN t.agreement = 1 THEN %(pos)s::jsonb ELSE %(neg)s::jsonb END,
                false, false, (t.id %% 900) / 10.0, now() - (t.id %% 30) * interval '1 day', now()
            FROM tasks_task t WHERE t.project_id = %(p)s AND t.total_annotations = 2
            """,
            {"p": project.pk, "u": users, "k": annotators, "pos": positive, "neg": negative},
        )
        cursor.execute(
            """
            INSERT INTO annotations_agreementpair (project_id, task_id, annotation_id, other_id,
                user_id, other_user_id, is_benchmark, score)
            SELECT a.project_id, a.task_id, a.id, b.id, a.completed_by_id, b.completed_by_id,
                false, t.agreement
            FROM tasks_task t
            JOIN annotations_annotation a ON a.task_id = t.id
            JOIN annotations_annotation b ON b.task_id = t.id AND b.id <> a.id
            WHERE t.project_id = %(p)s AND t.total_annotations = 2
            """,
            {"p": project.pk},
        )
        # The rows the annotation services keep with each write, as one recount.
        cursor.execute(
            """
            INSERT INTO annotations_annotatorday (project_id, user_id, day, annotations,
                skipped, lead_time_sum, lead_time_count)
            SELECT project_id, completed_by_id, (created_at AT TIME ZONE 'UTC')::date,
                count(*) FILTER (WHERE NOT was_cancelled), count(*) FILTER (WHERE was_cancelled),
                coalesce(sum(lead_time), 0), count(lead_time)
            FROM annotations_annotation WHERE project_id = %(p)s GROUP BY 1, 2, 3
            """,
            {"p": project.pk},
        )
        cursor.execute(
            """
            INSERT INTO annotations_annotatorpairtotal (project_id, user_id, other_user_id,
                score_sum, scored, tasks)
            SELECT project_id, user_id, other_user_id, coalesce(sum(score), 0), count(score),
                count(*)
            FROM annotations_agreementpair
            WHERE project_id = %(p)s AND NOT is_benchmark AND user_id IS NOT NULL
              AND other_user_id IS NOT NULL
            GROUP BY 1, 2, 3
            """,
            {"p": project.pk},
        )
        cursor.execute(
            """
            INSERT INTO annotations_review (annotation_id, reviewer_id, accepted, comment,
                created_at, updated_at)
            SELECT a.id, %(o)s, a.id %% 3 <> 0, '', now(), now()
            FROM annotations_annotation a WHERE a.project_id = %(p)s AND a.id %% 20 = 1
            """,
            {"p": project.pk, "o": owner.pk},
        )
        cursor.execute(
            """
            INSERT INTO annotations_labelcount (project_id, from_name, label, count)
            SELECT %(p)s, 'sentiment', r.result -> 0 -> 'value' -> 'choices' ->> 0, count(*)
            FROM annotations_annotation r WHERE r.project_id = %(p)s AND NOT r.was_cancelled
            GROUP BY 3
            """,
            {"p": project.pk},
        )
    # The report's other stored rows (review counts and gold scores per annotator, the
    # project agreement, lead-time buckets), from the same recount bulk writers use.
    quality_totals_recount(project=project)
    with connection.cursor() as cursor:
        for table in (
            "tasks_task",
            "annotations_annotation",
            "annotations_agreementpair",
            "annotations_review",
            "annotations_annotatortotal",
            "annotations_leadtimebucket",
        ):
            # What autovacuum does to a settled table: the visibility map lets the
            # median's index walk skip the heap (6.0 s -> 3.2 s for the report here).
            cursor.execute(f"VACUUM ANALYZE {table}")
    count = project.annotations.count()
    print(
        f"built {n} tasks, {count} annotations, {annotators} annotators in {time.monotonic() - started:.0f} s"
    )
    return project, users, owner


def timed(fn, samples: int) -> list[float]:
    out = []
    for _ in range(samples):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def report(name: str, times: list[float]) -> None:
    times = sorted(times)
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    print(f"{name:10s} p50 {statistics.median(times):8.1f} ms   p95 {p95:8.1f} ms   n={len(times)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument(
        "--overlap", type=float, default=0.2, help="share of tasks with two annotations"
    )
    parser.add_argument("--annotators", type=int, default=100)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--build-only", action="store_true", help="build, keep, and stop")
    parser.add_argument("--reuse", type=int, help="measure a project kept by --build-only")
    args = parser.parse_args()

    if args.reuse:
        project = Project.objects.get(pk=args.reuse)
        owner = get_user_model().objects.get(username="quality-bench-owner")
        print(f"reusing project {project.pk}: {project.tasks.count()} tasks")
    else:
        project, _, owner = build(args.tasks, args.overlap, args.annotators)
        if args.build_only:
            print(f"built project {project.pk}; measure with --reuse {project.pk}")
            return
    try:
        admin = APIClient()
        admin.force_authenticate(owner)
        url = f"/api/projects/{project.pk}/quality/"

        def quality():
            response = admin.get(url)
            assert response.status_code == 200, response.content

        def matrix():
            response = admin.get(url + "agreement-matrix/")
            assert response.status_code == 200, response.content

        quality()  # warm the connection and caches once
        body = admin.get(url).json()
        print(
            f"report: agreement {body['agreement']:.3f}, tasks_with_overlap "
            f"{body['tasks_with_overlap']}, annotators {len(body['annotators'])}, "
            f"days {len(body['per_day'])}"
        )
        report("quality", timed(quality, args.samples))
        report("matrix", timed(matrix, args.samples))

        # Writes: a fresh annotator adds the second annotation to single-annotated tasks.
        User = get_user_model()
        writer, _ = User.objects.get_or_create(
            username="quality-bench-writer", defaults={"email": "qbw@example.com"}
        )
        member_set(project=project, user=writer, role=ProjectMember.Role.ANNOTATOR)
        client = APIClient()
        client.force_authenticate(writer)
        targets = list(
            project.tasks.filter(total_annotations=1)
            .order_by("-id")
            .values_list("pk", flat=True)[: args.writes]
        )
        # Time the quality upkeep inside each write apart (agreement, pairs, label counts,
        # day row, reassignment check), by wrapping the one call the service makes.
        upkeep_times: list[float] = []
        figures_add = annotation_services.annotation_figures_add

        def timed_figures_add(**kwargs):
            started = time.perf_counter()
            figures_add(**kwargs)
            upkeep_times.append((time.perf_counter() - started) * 1000)

        annotation_services.annotation_figures_add = timed_figures_add
        write_times = []
        for index, task_id in enumerate(targets):
            payload = {"result": result("Positive" if index % 2 else "Negative"), "lead_time": 3}
            started = time.perf_counter()
            response = client.post(f"/api/tasks/{task_id}/annotations/", payload, format="json")
            write_times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 201, response.content
        annotation_services.annotation_figures_add = figures_add
        report("write", write_times)
        report("upkeep", upkeep_times)
        agreed = project.tasks.filter(pk__in=targets, agreement__isnull=False).count()
        print(f"write: {agreed} of {len(targets)} tasks got their agreement in the write")
    finally:
        if not args.keep and not args.reuse:
            project_delete(project=Project.objects.get(pk=project.pk))


if __name__ == "__main__":
    main()
