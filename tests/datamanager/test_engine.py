"""The filter engine against a small world (see conftest): every column and operator."""

import pytest

from annotations.services import annotation_create
from datamanager import selectors as dm
from labelhub.errors import ApiError
from tests.factories import item, query

pytestmark = pytest.mark.django_db


def found(world, body) -> list[int]:
    """Indexes (0..5) of the world's tasks the query leaves, in page order."""
    rows, _ = dm.tasks_page(project=world.project, query=dm.parse_query(body), after="", size=100)
    index = {pk: i for i, pk in enumerate(world.ids)}
    return [index[t.pk] for t in rows]


def ann(world, filters) -> set[str]:
    names = {a.pk: name for name, a in world.annotations.items()}
    return {names[a.pk] for a in dm.annotation_queryset(project=world.project, filters=filters)}


CASES = [
    # label/choice/class names in any annotation
    ([item("annotations_results", "contains", "Cat")], [0, 1, 2]),
    ([item("annotations_results", "contains", "cat")], [0, 1, 2]),
    ([item("annotations_results", "equal", "Dog")], [1, 2]),
    ([item("annotations_results", "not_contains", "Cat")], [3, 4, 5]),
    ([item("annotations_results", "in_list", ["Dog"])], [1, 2]),
    ([item("annotations_results", "empty", True)], [3, 4, 5]),
    ([item("annotations_results", "empty", False)], [0, 1, 2]),
    ([item("annotations_results", "regex", r'"rectanglelabels": ?\["D')], [1, 2]),
    ([item("predictions_results", "contains", "Cat")], [0, 2]),
    ([item("predictions_results", "not_contains", "Cat")], [1, 3, 4, 5]),
    # annotators; two conditions on annotations hold for some annotation each (Label
    # Studio's task-level meaning; test_match_within_one_annotation for the other)
    ([item("annotators", "contains", "ANNOTATOR", "List")], [0, 1, 3]),
    ([item("annotators", "not_contains", "ANNOTATOR", "List")], [2, 4, 5]),
    ([item("annotators", "empty", True, "List")], [4, 5]),
    (
        [
            item("annotations_results", "contains", "Cat"),
            item("annotators", "contains", "ANNOTATOR", "List"),
        ],
        [0, 1],
    ),
    (
        [
            item("annotations_results", "contains", "Cat"),
            item("annotators", "contains", "SECOND", "List"),
        ],
        [1, 2],
    ),
    (
        [
            item("annotators", "contains", "ANNOTATOR", "List"),
            item("annotators", "contains", "SECOND", "List"),
        ],
        [1],
    ),
    (
        [
            item("annotations_results", "contains", "Cat"),
            item("annotations_results", "contains", "Dog"),
        ],
        [1, 2],
    ),
    # completed / cancelled / counters
    ([item("completed_at", "empty", True, "Datetime")], [3, 4, 5]),
    ([item("completed_at", "empty", False, "Datetime")], [0, 1, 2]),
    ([item("cancelled_annotations", "greater", 0, "Number")], [3]),
    ([item("total_annotations", "equal", 2, "Number")], [1]),
    ([item("total_annotations", "in", {"min": 1, "max": 1}, "Number")], [0, 2]),
    ([item("total_predictions", "less", 1, "Number")], [3, 4, 5]),
    # reviews and ground truth
    ([item("reviews_accepted", "greater", 0, "Number")], [0]),
    ([item("reviews_rejected", "greater", 0, "Number")], [1]),
    ([item("reviews_rejected", "equal", 1, "Number")], [1]),
    ([item("reviewed", "equal", False, "Boolean")], [2, 3, 4, 5]),
    ([item("reviewed", "equal", True, "Boolean")], [0, 1]),
    ([item("ground_truth", "equal", True, "Boolean")], [2]),
    ([item("ground_truth", "equal", False, "Boolean")], [0, 1, 3, 4, 5]),
    (
        [
            item("ground_truth", "equal", True, "Boolean"),
            item("annotations_results", "contains", "Dog"),
        ],
        [2],
    ),
    # predictions
    ([item("predictions_score", "in", {"min": 0.3, "max": 1}, "Number")], [0, 1]),
    ([item("predictions_score", "greater", 0.5, "Number")], [0]),
    ([item("predictions_score", "empty", True, "Number")], [3, 4, 5]),
    ([item("predictions_model_versions", "contains", "m1", "List")], [0, 2]),
    ([item("predictions_model_versions", "equal", "m2", "List")], [1]),
    ([item("predictions_model_versions", "not_equal", "m2", "List")], [0, 2, 3, 4, 5]),
    # lead time
    ([item("avg_lead_time", "greater", 15, "Number")], [1]),
    # data and meta keys
    ([item("data.caption", "contains", "cat")], [0, 2]),
    ([item("data.caption", "not_contains", "cat")], [1, 3, 4, 5]),
    ([item("data.caption", "equal", "two dogs")], [1]),
    ([item("data.caption", "regex", "^[A-Z]")], [2]),
    ([item("data.caption", "empty", True)], [3]),
    ([item("data.size", "greater", 10, "Number")], [1, 2, 5]),
    ([item("data.size", "in", {"min": 5, "max": 12}, "Number")], [3, 5]),
    ([item("data.size", "equal", 8, "Number")], [3]),
    ([item("data.size_s", "less", 10, "Number")], [5]),
    ([item("data.size", "empty", True, "Number")], [4]),
    ([item("meta.batch", "equal", "b1")], [0, 1, 2]),
    ([item("meta.batch", "not_equal", "b1")], [3, 4, 5]),
    ([item("meta.n", "equal", "5")], [4]),
    ([item("meta.n", "greater_or_equal", 2, "Number")], [1, 4]),
    ([item("meta.batch", "empty", True)], [3, 5]),
    ([item("meta.batch", "in_list", ["b2", "zz"])], [4]),
    # id
    ([item("id", "equal", "FIRST", "Number")], [0]),
]


@pytest.mark.parametrize(
    "items,expected",
    CASES,
    ids=[f"{c[0][0]['filter'][13:]}-{c[0][0]['operator']}-{i}" for i, c in enumerate(CASES)],
)
def test_filters(world, annotator, second_annotator, items, expected):
    subst = {"ANNOTATOR": annotator.pk, "SECOND": second_annotator.pk, "FIRST": world.ids[0]}
    items = [
        {
            **i,
            "value": subst.get(i["value"], i["value"])
            if isinstance(i["value"], str)
            else i["value"],
        }
        for i in items
    ]
    assert found(world, query(*items)) == expected


def test_match_within_one_annotation(world, annotator):
    """``filters.match = "annotation"``: "Cat" by ANNOTATOR means ANNOTATOR's annotation
    says Cat (task 1 has Cat from another annotator only)."""
    items = [
        item("annotations_results", "contains", "Cat"),
        item("annotators", "contains", annotator.pk, "List"),
    ]
    body = query(*items)
    assert found(world, body) == [0, 1]
    body["filters"]["match"] = "annotation"
    assert found(world, body) == [0]
    body["filters"]["match"] = "task"
    assert found(world, body) == [0, 1]
    body["filters"]["match"] = "completion"
    with pytest.raises(ApiError) as error:
        found(world, body)
    assert error.value.errors[0]["field"] == "filters.match"


def test_annotations_results_empty_as_label_studio(world, owner):
    """A task with an empty annotation beside a labeled one is "empty" and not "not
    empty" (Label Studio's meaning); a task without annotations is empty."""
    annotation_create(task=world.tasks[0], user=owner, result=[])
    assert found(world, query(item("annotations_results", "empty", True))) == [0, 3, 4, 5]
    assert found(world, query(item("annotations_results", "empty", False))) == [1, 2]


def test_or_conjunction(world):
    body = query(
        item("ground_truth", "equal", True, "Boolean"),
        item("meta.batch", "equal", "b2"),
        conjunction="or",
    )
    assert found(world, body) == [2, 4]


def test_annotator_by_email(world):
    assert found(world, query(item("annotators", "contains", "second@example.com", "List"))) == [
        1,
        2,
    ]


def test_dates(world):
    from tasks.models import Task

    Task.objects.filter(pk=world.ids[0]).update(created_at="2024-01-05T10:00:00Z")
    Task.objects.filter(pk=world.ids[1]).update(created_at="2024-02-01T00:00:00Z")
    assert found(world, query(item("created_at", "less", "2024-03-01", "Datetime"))) == [0, 1]
    assert found(world, query(item("created_at", "equal", "2024-01-05", "Datetime"))) == [0]
    assert found(
        world,
        query(item("created_at", "in", {"min": "2024-01-01", "max": "2024-01-31"}, "Datetime")),
    ) == [0]


def test_selected_items(world):
    ids = world.ids
    assert found(world, query(selected={"all": False, "included": [ids[1], ids[4]]})) == [1, 4]
    assert found(world, query(selected={"all": True, "excluded": [ids[0]]})) == [1, 2, 3, 4, 5]


def test_ordering_and_keyset_pages(world):
    body = query(ordering=["-tasks:total_annotations"])
    assert found(world, body)[:1] == [1]
    parsed = dm.parse_query(body)
    seen, cursor = [], ""
    while True:
        rows, cursor = dm.tasks_page(project=world.project, query=parsed, after=cursor, size=2)
        seen += [t.pk for t in rows]
        if cursor is None:
            break
    all_rows, _ = dm.tasks_page(project=world.project, query=parsed, after="", size=100)
    assert seen == [t.pk for t in all_rows] and len(seen) == 6


@pytest.mark.parametrize(
    "ordering",
    [
        ["tasks:predictions_score"],
        ["-tasks:predictions_score"],
        ["tasks:completed_at"],
        ["-tasks:reviews_accepted"],
        ["tasks:data.caption"],
        ["-tasks:meta.batch", "tasks:total_predictions"],
        ["tasks:ground_truth"],
        ["tasks:annotators"],
        ["-tasks:id"],
        ["tasks:avg_lead_time"],
        ["-tasks:updated_at"],
    ],
)
def test_keyset_matches_offset_for_every_ordering(world, ordering):
    parsed = dm.parse_query(query(ordering=ordering))
    everything, _ = dm.tasks_page(project=world.project, query=parsed, page=1, size=100)
    seen, cursor = [], ""
    while cursor is not None:
        rows, cursor = dm.tasks_page(project=world.project, query=parsed, after=cursor, size=1)
        seen += [t.pk for t in rows]
    assert seen == [t.pk for t in everything]


def test_nulls_sort_last(world):
    order = found(world, query(ordering=["tasks:predictions_score"]))
    assert order == [2, 1, 0, 3, 4, 5]
    assert found(world, query(ordering=["-tasks:predictions_score"])) == [0, 1, 2, 3, 4, 5]


def test_counts(world):
    counts = dm.tasks_counts(
        project=world.project,
        query=dm.parse_query(query(item("annotations_results", "contains", "Cat"))),
    )
    assert counts == {"total": 3, "total_annotations": 4, "total_predictions": 3}


def test_row_columns(world):
    rows, _ = dm.tasks_page(project=world.project, query=dm.parse_query({}), after="", size=100)
    by = {t.pk: t for t in rows}
    t0, t1, t2 = (by[world.ids[i]] for i in range(3))
    assert (t0.reviews_accepted, t0.reviews_rejected) == (1, 0)
    assert (t1.reviews_accepted, t1.reviews_rejected) == (0, 1)
    assert t2.ground_truth and not t0.ground_truth
    assert t0.predictions_score == pytest.approx(0.9)
    assert t0.completed_at is not None and by[world.ids[4]].completed_at is None


# ------------------------------------------------------------- completion-level reads


def test_completions_with_class_by_annotator(world, annotator, second_annotator):
    f = {
        "conjunction": "and",
        "items": [
            item("annotations_results", "contains", "Cat"),
            item("annotators", "contains", second_annotator.pk, "List"),
        ],
    }
    assert ann(world, f) == {"t1_cat", "t2_both"}
    f["items"][1]["value"] = annotator.pk
    assert ann(world, f) == {"t0_cat"}


def test_completion_level_columns(world):
    assert ann(world, None) == {"t0_cat", "t1_dog", "t1_cat", "t2_both"}
    assert ann(world, {"items": [item("ground_truth", "equal", False, "Boolean")]}) == {
        "t0_cat",
        "t1_dog",
        "t1_cat",
    }
    assert ann(world, {"items": [item("reviews_rejected", "greater", 0, "Number")]}) == {"t1_cat"}
    assert ann(world, {"items": [item("reviewed", "equal", False, "Boolean")]}) == {
        "t1_dog",
        "t2_both",
    }
    assert ann(
        world,
        {
            "items": [
                item("meta.batch", "equal", "b1"),
                item("annotations_results", "not_contains", "Cat"),
            ]
        },
    ) == {"t1_dog"}
    assert ann(world, {"items": [item("predictions_model_versions", "equal", "m1", "List")]}) == {
        "t0_cat",
        "t2_both",
    }
    assert ann(world, {"items": [item("avg_lead_time", "greater", 15, "Number")]}) == {
        "t1_dog",
        "t1_cat",
    }


@pytest.mark.parametrize(
    "items,expected",
    CASES,
    ids=[f"found-{c[0][0]['filter'][13:]}-{c[0][0]['operator']}-{i}" for i, c in enumerate(CASES)],
)
def test_found_count_matches_the_list(world, annotator, second_annotator, items, expected):
    subst = {"ANNOTATOR": annotator.pk, "SECOND": second_annotator.pk, "FIRST": world.ids[0]}
    items = [
        {
            **i,
            "value": subst.get(i["value"], i["value"])
            if isinstance(i["value"], str)
            else i["value"],
        }
        for i in items
    ]
    for conjunction in ("and", "or"):
        parsed = dm.parse_query(query(*items, conjunction=conjunction))
        assert (
            dm.tasks_found(project=world.project, query=parsed)
            == dm.tasks_counts(project=world.project, query=parsed)["total"]
        )
