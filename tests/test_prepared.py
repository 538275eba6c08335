"""labelhub.prepared: a query compiled once answers what its queryset answers, for any
values, and a builder that computes with a marker fails at once."""

from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from annotations.models import Annotation
from annotations.services import annotation_create
from importers.services import tasks_import
from labelhub.prepared import Prepared
from tasks.locks import lock_of_user, lock_take
from tasks.models import Task
from tests.factories import choice

pytestmark = pytest.mark.django_db


@pytest.fixture
def task_ids(project, owner):
    records = [{"text": f"t{i}"} for i in range(3)]
    return tasks_import(project=project, records=records, user=owner).task_ids


def test_instances_values_and_lists_match_the_queryset(project, task_ids, owner, annotator):
    first, second = (Task.objects.get(pk=pk) for pk in task_ids[:2])
    annotation_create(task=first, user=owner, result=choice("Positive"))
    annotation_create(task=second, user=annotator, result=choice("Negative"))

    by_user = Prepared(
        lambda m: (
            Annotation.objects.filter(completed_by_id=m.int("user"))
            .select_related("task")
            .annotate(n=Count("reviews"))
            .order_by("id")
        )
    )
    for user in (owner, annotator):
        expected = list(
            Annotation.objects.filter(completed_by=user)
            .select_related("task")
            .annotate(n=Count("reviews"))
            .order_by("id")
        )
        got = by_user.run(user=user.pk)
        assert [(a.pk, a.result, a.created_at, a.n, a.task.data) for a in got] == [
            (a.pk, a.result, a.created_at, a.n, a.task.data) for a in expected
        ]

    pairs = Prepared(
        lambda m, count: (
            Annotation.objects.filter(task_id__in=m.ints("ids", count))
            .order_by("id")
            .values_list("task_id", "result")
        )
    )
    assert pairs.run((2,), ids=task_ids[:2]) == [
        (first.pk, choice("Positive")),
        (second.pk, choice("Negative")),
    ]
    flat = Prepared(lambda m: Task.objects.filter(pk=m.int("pk")).values_list("data", flat=True))
    assert flat.first(pk=first.pk) == first.data
    assert flat.first(pk=10**9) is None


def test_datetimes_are_passed_as_the_database_takes_them(project, task_ids, annotator):
    now = timezone.now()
    task = Task.objects.get(pk=task_ids[0])
    lock_take(task=task, user=annotator, now=now)
    assert lock_of_user(project=project, user=annotator, now=now).task_id == task.pk
    later = now + timedelta(days=1)
    assert lock_of_user(project=project, user=annotator, now=later) is None


def test_a_builder_that_changes_a_marker_fails():
    shifted = Prepared(lambda m: Task.objects.filter(pk=m.int("pk") + 1))
    with pytest.raises(ValueError, match="changed"):
        shifted.run(pk=1)
    unused = Prepared(lambda m: Task.objects.filter(pk=1) if m.int("pk") else None)
    with pytest.raises(ValueError, match="not in the compiled query"):
        unused.run(pk=1)


def test_row_update_writes_values_and_increments(project, task_ids):
    from labelhub.prepared import row_update
    from projects.models import Project

    when = timezone.now() - timedelta(days=3)
    assert row_update(Task, task_ids[0], values={"is_labeled": True, "updated_at": when}) == 1
    task = Task.objects.get(pk=task_ids[0])
    assert task.is_labeled is True and task.updated_at == when
    before = Project.objects.get(pk=project.pk).total_annotations_number
    row_update(Project, project.pk, increments={"total_annotations_number": 2})
    row_update(Project, project.pk, increments={"total_annotations_number": -1})
    assert Project.objects.get(pk=project.pk).total_annotations_number == before + 1
    assert row_update(Task, 10**9, values={"is_labeled": False}) == 0


def test_a_paged_query_takes_its_window_as_values(project, task_ids):
    ids = Prepared(
        lambda m: (
            Task.objects.filter(project_id=m.int("project"))
            .order_by("id")
            .values_list("id", flat=True)
        ),
        paged=True,
    )
    assert ids.run(project=project.pk, limit=2, offset=0) == task_ids[:2]
    assert ids.run(project=project.pk, limit=2, offset=2) == task_ids[2:]
    assert ids.run(project=project.pk, limit=5, offset=3) == []
    sliced = Prepared(lambda m: Task.objects.filter(pk=m.int("pk"))[:1], paged=True)
    with pytest.raises(ValueError, match="window"):
        sliced.run(pk=1, limit=1, offset=0)


def test_rows_insert_writes_what_the_orm_writes(project, task_ids, owner):
    from annotations.models import ResultLabel
    from labelhub.prepared import rows_insert

    annotation = Annotation(
        task_id=task_ids[0], project=project, completed_by=owner, result=choice("Positive")
    )
    rows_insert([annotation], returning=True)
    assert annotation.pk and not annotation._state.adding
    stored = Annotation.objects.get(pk=annotation.pk)
    assert (stored.result, stored.created_at, stored.lead_time, stored.was_cancelled) == (
        choice("Positive"),
        annotation.created_at,
        None,
        False,
    )
    labels = [
        ResultLabel(project=project, task_id=task_ids[0], annotation=annotation, key="c", value=v)
        for v in ("a", "b")
    ]
    rows_insert(labels)
    assert sorted(
        ResultLabel.objects.filter(annotation=annotation).values_list("key", "value")
    ) == [("c", "a"), ("c", "b")]
    rows_insert([])
    with pytest.raises(ValueError, match="one row"):
        rows_insert(labels, returning=True)


def test_json_and_datetimes_read_as_the_orm_reads_them(project, task_ids):
    big = 123456789012345678901234567890
    Task.objects.filter(pk=task_ids[0]).update(
        data={"text": "é", "big": big, "nested": [1.5, None, {"a": True}]}
    )
    Task.objects.filter(pk=task_ids[1]).update(meta={"x": 0.1234567890123456789})
    rows = Prepared(lambda m: Task.objects.filter(project_id=m.int("p")).order_by("id"))
    got = rows.run(p=project.pk)
    expected = list(Task.objects.filter(project=project).order_by("id"))
    assert [(t.data, t.meta, t.created_at) for t in got] == [
        (t.data, t.meta, t.created_at) for t in expected
    ]
    assert type(got[0].data["big"]) is int and got[0].data["big"] == big
    assert got[1].meta == {"x": 0.1234567890123456789}
    assert got[0].created_at.utcoffset() is not None


def test_a_server_compiles_its_one_shape_queries_before_it_forks(owner):
    """``labelhub.wsgi`` compiles them (the workers then share them); a query that locks
    rows is left to its first use, in its transaction, and a shaped one to its shape."""
    import gc

    from labelhub import prepared

    gc.collect()  # the other tests' queries, some built to fail
    locking = Prepared(lambda m: Task.objects.select_for_update().filter(pk=m.int("pk")))
    shaped = Prepared(lambda m, n: Task.objects.filter(pk__in=[m.int(f"p{i}") for i in range(n)]))
    plain = Prepared(lambda m: Task.objects.filter(pk=m.int("pk")).values_list("pk", flat=True))
    assert prepared.compile_loaded() >= 1
    assert plain.compiled and not locking.compiled and not shaped.compiled
    assert plain.run(pk=-1) == []


def test_rows_insert_takes_a_python_default_beside_a_database_default(owner):
    """``Project.is_draft`` has both: the ORM writes the Python default, so does this. A
    value that is an expression (``DatabaseDefault``) is refused."""
    from django.db.models.expressions import DatabaseDefault

    from labelhub.prepared import rows_insert
    from projects.models import Project

    project = Project(title="p", label_config="<View></View>", created_by=owner, is_draft=True)
    rows_insert([project], returning=True)
    stored = Project.objects.get(pk=project.pk)
    assert (stored.is_draft, stored.is_published, stored.created_at) == (
        True,
        False,
        project.created_at,
    )
    expression = Project(title="q", label_config="<View></View>", created_by=owner)
    expression.is_published = DatabaseDefault(Project._meta.get_field("is_published").db_default)
    with pytest.raises(ValueError, match="is_published: an expression"):
        rows_insert([expression], returning=True)
