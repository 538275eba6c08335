"""On PostgreSQL the export reads each chunk's task JSON as built by the database
(selectors.export_task_dicts_sql); it must write the same bytes as the plain
``.values()`` path (export_task_dicts_plain, the SQLite path) for every format and
option, on projects with every nested part."""

import datetime as dt
import re
from contextlib import nullcontext

import pytest

from annotations.models import Annotation, Prediction, Review
from exporters import selectors, services
from exporters.formats import supported_formats
from exporters.selectors import TaskFilter
from tests.factories import IMAGE_CONFIG, box, choice, unzip

pytestmark = pytest.mark.postgres

NER_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single">
    <Choice value="Positive"/><Choice value="Negative"/><Choice value="Neutral"/>
  </Choices>
  <Labels name="ner" toName="text"><Label value="PER"/><Label value="LOC"/></Labels>
</View>"""

ODD = 'naïve 😀 “quotes” "q" \\ tab\t line\n\u2028 ctl\u0001 日本語'
UTC = dt.UTC
PLAIN_SECOND = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
MICROS = dt.datetime(2026, 3, 1, 12, 0, 0, 7, tzinfo=UTC)
OTHER_ZONE = dt.datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=dt.timezone(dt.timedelta(hours=5)))


def _fill(project, owner, reviewer, make_user, results: list[list[dict]]) -> None:
    """Tasks covering every nested part: several annotations (ground truth, cancelled,
    reviewed twice, no annotator, parent prediction/annotation), predictions with and
    without a score, null and unicode fields, odd floats, timestamps with and without
    microseconds, and a task with nothing (only in download_all_tasks)."""
    nameless = make_user("üñí@example.com")
    data_key = "text" if "text" in str(results[0]) else "image"

    def value(i: int):
        if data_key == "text":
            return f"Alice went to Paris {i} {ODD}"
        return f"/data/upload/{project.pk}/img-{i}.jpg"

    tasks = []
    for i in range(7):
        tasks.append(
            project.tasks.create(
                data={
                    data_key: value(i),
                    "n": i,
                    "ratio": 0.1 + 0.2,
                    "tiny": 1e-7,
                    "nested": {"k": [1, None, ODD]},
                },
                meta={} if i % 3 else {"source": ODD, "score": 2.50},
                is_labeled=i < 6,
                total_annotations=1 if i < 6 else 0,
                cancelled_annotations=1 if i == 2 else 0,
                total_predictions=1 if i % 2 else 0,
                created_at=PLAIN_SECOND if i % 2 else MICROS,
                updated_at=OTHER_ZONE,
            )
        )
    for i, task in enumerate(tasks[:6]):
        result = results[i % len(results)]
        prediction = None
        if i % 2:
            prediction = Prediction.objects.create(
                task=task,
                project=project,
                model_version=f"v{i} {ODD}",
                score=None if i == 3 else 0.1 + 0.2,
                result=result,
                created_at=MICROS,
                updated_at=PLAIN_SECOND,
            )
        first = Annotation.objects.create(
            task=task,
            project=project,
            completed_by=owner,
            result=result,
            ground_truth=i == 0,
            lead_time=None if i == 1 else 1e20 if i == 4 else 2.5 + i,
            parent_prediction=prediction,
            created_at=PLAIN_SECOND,
            updated_at=MICROS,
        )
        if i in (0, 2, 4):
            second = Annotation.objects.create(
                task=task,
                project=project,
                completed_by=None if i == 4 else nameless,
                result=[] if i == 2 else result,
                was_cancelled=i == 2,
                lead_time=0.1 + 0.2,
                parent_annotation=first,
                created_at=MICROS,
                updated_at=OTHER_ZONE,
            )
            Review.objects.create(
                annotation=second, reviewer=reviewer, accepted=i != 2, comment=ODD
            )
            Review.objects.create(
                annotation=second, reviewer=owner, accepted=False, created_at=PLAIN_SECOND
            )


FILTERS = [
    TaskFilter(),
    TaskFilter(download_all_tasks=True),
    TaskFilter(only_ground_truth=True),
    TaskFilter(only_accepted=True),
    TaskFilter(exclude_cancelled=True, include_predictions=False),
    TaskFilter(download_all_tasks=True, finished="exclude"),
]


def _comparable(body: bytes):
    """An archive's members (their ZIP headers carry the time of writing), with COCO's
    ``date_created`` blanked; any other file as it is."""
    if not body.startswith(b"PK"):
        return body
    return {
        name: re.sub(rb'"date_created": ?"[^"]*"', b'"date_created":""', content)
        for name, content in unzip(body).items()
    }


def _both(monkeypatch, project, options) -> tuple[bytes, bytes]:
    fast = b"".join(services.export_stream(project=project, options=options))
    with monkeypatch.context() as patch:
        patch.setattr(selectors, "export_task_dicts", selectors.export_task_dicts_plain)
        plain = b"".join(services.export_stream(project=project, options=options))
    return _comparable(fast), _comparable(plain)


@pytest.mark.parametrize(
    ("config", "results"),
    [
        (
            NER_CONFIG,
            [
                choice("Positive"),
                [
                    *choice("Négatif", result_id="r2"),
                    {
                        "id": "s1",
                        "from_name": "ner",
                        "to_name": "text",
                        "type": "labels",
                        "value": {"start": 0, "end": 5, "text": "Alice", "labels": ["PER"]},
                    },
                ],
            ],
        ),
        (IMAGE_CONFIG, [[box("Cat")], [box("Dog", rid="b2", x=33.333333333333336), box("Cat")]]),
    ],
    ids=["text", "image"],
)
def test_sql_path_writes_the_plain_paths_bytes(
    pg, monkeypatch, owner, reviewer, make_user, make_project, config, results
):
    project = make_project(config)
    _fill(project, owner, reviewer, make_user, results)
    monkeypatch.setattr(selectors, "CHUNK_SIZE", 2)  # several chunks, a partial last one
    formats = sorted(supported_formats(services.project_schema(project)) - {"BRUSH_TO_PNG"})
    assert {"JSON", "JSON_MIN", "CSV"} <= set(formats)
    for export_type in formats:
        for task_filter in FILTERS:
            options = services.ExportOptions(export_type=export_type, task_filter=task_filter)
            fast, plain = _both(monkeypatch, project, options)
            assert fast == plain, (export_type, task_filter)
    for options in (
        services.ExportOptions(annotator="id", task_filter=FILTERS[1]),
        services.ExportOptions(full_descriptions=False, task_filter=FILTERS[1]),
        services.ExportOptions(export_type="JSON_MIN", annotator="id"),
    ):
        fast, plain = _both(monkeypatch, project, options)
        assert fast == plain, options


def test_sql_path_yields_the_plain_paths_dicts_in_order(
    pg, monkeypatch, owner, reviewer, make_user, make_project
):
    """Same dicts, same key order (every writer and the S3 target see these)."""
    import orjson

    project = make_project(NER_CONFIG)
    _fill(project, owner, reviewer, make_user, [choice("Neutral")])
    monkeypatch.setattr(selectors, "CHUNK_SIZE", 3)
    for task_filter in FILTERS:
        tasks = selectors.export_tasks_queryset(project=project, task_filter=task_filter)
        fast = list(selectors.export_task_dicts_sql(tasks, task_filter=task_filter))
        plain = list(selectors.export_task_dicts_plain(tasks, task_filter=task_filter))
        assert [orjson.dumps(t) for t in fast] == [orjson.dumps(t) for t in plain]
    everything = list(
        selectors.export_task_dicts_sql(
            selectors.export_tasks_queryset(project=project, task_filter=FILTERS[1]),
            task_filter=FILTERS[1],
        )
    )
    assert len(everything) == 7
    reviewed = [a for t in everything for a in t["annotations"] if a["reviews"]]
    assert {r["comment"] for a in reviewed for r in a["reviews"]} == {ODD, ""}
    assert everything[0]["created_at"] == "2026-03-01T12:00:00.000007Z"
    assert everything[1]["created_at"] == "2026-03-01T12:00:00Z"
    assert everything[0]["updated_at"] == "2026-03-01T18:59:59.999999Z"


def test_items_only_dicts_are_the_full_dicts_cut_to_what_items_read(
    pg, monkeypatch, owner, reviewer, make_user, make_project
):
    """Every format but JSON reads the lean dicts: the same tasks, completions and
    values as the full ones, only the keys ``formats.items`` reads."""
    project = make_project(NER_CONFIG)
    _fill(project, owner, reviewer, make_user, [choice("Neutral")])
    monkeypatch.setattr(selectors, "CHUNK_SIZE", 2)
    annotation_keys = (
        "id",
        "completed_by",
        "result",
        "was_cancelled",
        "lead_time",
        "created_at",
        "updated_at",
    )
    for task_filter in FILTERS:
        tasks = selectors.export_tasks_queryset(project=project, task_filter=task_filter)
        full = list(selectors.export_task_dicts_sql(tasks, task_filter=task_filter))
        lean = list(
            selectors.export_task_dicts_sql(tasks, task_filter=task_filter, items_only=True)
        )
        assert lean == [
            {
                "id": t["id"],
                "data": t["data"],
                "annotations": [
                    {
                        **{k: a[k] for k in annotation_keys},
                        "completed_by": a["completed_by"]
                        and {k: a["completed_by"][k] for k in ("id", "email")},
                    }
                    for a in t["annotations"]
                ],
            }
            for t in full
        ], task_filter


def test_a_regex_query_reads_chunks_one_by_one_with_the_same_bytes(
    pg, monkeypatch, owner, reviewer, make_user, make_project
):
    """A Data Manager regex filter puts each chunk under the time limit and reads the
    chunks in turn (selectors._chunks); the bytes are those of the read-ahead path."""
    import orjson

    project = make_project(NER_CONFIG)
    _fill(project, owner, reviewer, make_user, [choice("Neutral")])
    monkeypatch.setattr(selectors, "CHUNK_SIZE", 2)

    def query(operator: str, value: str):
        item = {"filter": "filter:tasks:data.text", "operator": operator, "type": "String"}
        return services.query_parse(
            orjson.dumps(
                {"filters": {"conjunction": "and", "items": [{**item, "value": value}]}}
            ).decode()
        )

    guarded, plain = query("regex", "^Alice"), query("contains", "Alice")
    assert services.chunk_guard(guarded) is not nullcontext
    assert services.chunk_guard(plain) is nullcontext
    for export_type in ("JSON", "CSV"):
        bodies = [
            b"".join(
                services.export_stream(
                    project=project,
                    options=services.ExportOptions(
                        export_type=export_type, task_filter=FILTERS[1], query=q
                    ),
                )
            )
            for q in (guarded, plain)
        ]
        assert bodies[0] == bodies[1]
        assert bodies[0].count(b"Alice went to Paris") >= 7  # every task, data in each row


def test_an_abandoned_export_leaves_the_connection_as_it_was(
    pg, monkeypatch, owner, reviewer, make_user, make_project
):
    """A client that goes away mid-download closes the stream while the next chunk's
    query runs in the helper thread: the close waits for it, and the connection is
    this thread's alone again and usable."""
    from django.db import connection

    from tasks.models import Task

    project = make_project(NER_CONFIG)
    _fill(project, owner, reviewer, make_user, [choice("Neutral")])
    monkeypatch.setattr(selectors, "CHUNK_SIZE", 1)
    tasks = selectors.export_tasks_queryset(project=project, task_filter=FILTERS[1])
    stream = selectors.export_task_dicts_sql(tasks, task_filter=FILTERS[1])
    first = next(stream)
    assert connection.allow_thread_sharing  # the next chunk is being read
    stream.close()
    assert not connection.allow_thread_sharing
    assert Task.objects.filter(project=project).count() == 7
    assert first["id"] == Task.objects.filter(project=project).order_by("id").first().pk


def test_completions_and_reviews_come_in_id_order(pg, make_user, make_project, owner):
    """Each task's completions (and each completion's reviews) in id order, where the
    completions' index order (task, annotator) is the reverse of it."""
    project = make_project(NER_CONFIG)
    users = [make_user(f"u{i}@example.com") for i in range(4)]
    task = project.tasks.create(data={"text": "t"}, total_annotations=3, is_labeled=True)
    annotations = [
        Annotation.objects.create(
            task=task, project=project, completed_by=user, result=choice("Neutral")
        )
        for user in reversed(users[1:])
    ]
    for user in reversed(users):
        Review.objects.create(annotation=annotations[0], reviewer=user, accepted=True)
    tasks = selectors.export_tasks_queryset(project=project, task_filter=FILTERS[0])
    (exported,) = selectors.export_task_dicts_sql(tasks, task_filter=FILTERS[0])
    assert [a["id"] for a in exported["annotations"]] == [a.pk for a in annotations]
    reviews = exported["annotations"][0]["reviews"]
    assert [r["id"] for r in reviews] == sorted(r["id"] for r in reviews)
    assert [r["reviewer"] for r in reviews] == [u.pk for u in reversed(users)]
    (plain,) = selectors.export_task_dicts_plain(tasks, task_filter=FILTERS[0])
    assert exported == plain
