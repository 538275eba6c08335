"""The result-label index (annotations.result_index): every result filter counts the same
with it as reading the JSON, and the index follows every write (import, annotation
update and delete, prediction delete, task delete, project delete, DM actions)."""

import json

import pytest
from django.core.management import call_command

from annotations.models import Annotation, Prediction, ResultLabel
from annotations.result_index import result_label_pairs
from ml.predicting import predictions_write
from tests.factories import box, item, query

pytestmark = pytest.mark.django_db


def index_rows() -> set[tuple]:
    return set(
        ResultLabel.objects.values_list(
            "project_id", "task_id", "annotation_id", "prediction_id", "key", "value"
        )
    )


def expected_rows() -> set[tuple]:
    """The index as it must be, from the JSON of every annotation and prediction."""
    rows = set()
    for a in Annotation.objects.all():
        rows |= {
            (a.project_id, a.task_id, a.pk, None, k, v) for k, v in result_label_pairs(a.result)
        }
    for p in Prediction.objects.all():
        rows |= {
            (p.project_id, p.task_id, None, p.pk, k, v) for k, v in result_label_pairs(p.result)
        }
    return rows


def assert_index_right() -> None:
    assert index_rows() == expected_rows()


def found(api, project, body, *, ordering=None) -> tuple[int, list[int], list[int]]:
    """Found count, the first page's ids and the last page's ids (descending)."""
    q = json.dumps(body)
    total = api.get("/api/dm/count/", {"project": project.pk, "query": q}).json()["total"]
    first = api.get("/api/tasks/", {"project": project.pk, "query": q, "after": ""}).json()
    last = api.get(
        "/api/tasks/",
        {"project": project.pk, "query": json.dumps({**body, "ordering": ["-tasks:id"]})},
    ).json()
    return total, [t["id"] for t in first["tasks"]], [t["id"] for t in last["tasks"]]


FILTERS = [
    [item("annotations_results", "contains", "Cat")],
    [item("annotations_results", "contains", "do")],  # a part of a label name
    [item("annotations_results", "equal", "Dog")],
    [item("annotations_results", "not_contains", "Cat")],
    [item("annotations_results", "not_equal", "Dog")],
    [item("annotations_results", "in_list", ["Dog", "Horse"])],
    [item("annotations_results", "not_in_list", ["Cat"])],
    [item("annotations_results", "empty", True)],
    [item("annotations_results", "empty", False)],
    [item("annotations_results", "regex", "Ca+t")],
    [item("annotations_results", "contains", "Zebra")],
    [item("predictions_results", "contains", "Cat")],
    [item("predictions_results", "equal", "Dog")],
    [item("predictions_results", "not_contains", "Dog")],
    [item("predictions_results", "in_list", ["Cat", "Dog"])],
    [item("annotations_results", "contains", "Cat"), item("annotators", "contains", "ANNOTATOR")],
    [
        item("annotations_results", "contains", "Cat"),
        item("annotations_results", "contains", "Dog"),
    ],
    [
        item("annotations_results", "contains", "Cat"),
        item("predictions_results", "contains", "Dog"),
    ],
    [
        item("annotations_results", "contains", "Cat"),
        item("ground_truth", "equal", True, "Boolean"),
    ],
]


@pytest.mark.parametrize("conjunction", ["and", "or"])
def test_every_result_filter_counts_the_same_with_and_without_the_index(
    api, world, annotator, settings, conjunction
):
    assert_index_right()
    for items in FILTERS:
        items = [{**i, "value": annotator.pk} if i["value"] == "ANNOTATOR" else i for i in items]
        body = query(*items, conjunction=conjunction)
        settings.RESULT_INDEX_FILTERS = True
        with_index = found(api, world.project, body)
        settings.RESULT_INDEX_FILTERS = False
        without = found(api, world.project, body)
        assert with_index == without, items
    # and the figures are the known ones (conftest's world): Cat on t0, t1, t2
    settings.RESULT_INDEX_FILTERS = True
    cat = found(api, world.project, query(item("annotations_results", "contains", "Cat")))
    assert cat[0] == 3 and cat[1] == world.ids[:3]


def test_ground_truth_manager_reads_the_index_the_same(api, world, settings):
    body = json.dumps(query(item("annotations_results", "contains", "Dog")))
    url = f"/api/projects/{world.project.pk}/ground-truth/preview/"
    settings.RESULT_INDEX_FILTERS = True
    with_index = api.post(url, {"filters": json.loads(body)["filters"]}, format="json")
    settings.RESULT_INDEX_FILTERS = False
    without = api.post(url, {"filters": json.loads(body)["filters"]}, format="json")
    assert with_index.status_code == without.status_code
    assert with_index.json() == without.json()


def test_a_label_longer_than_the_index_holds_falls_back_to_the_json(api, world, annotator):
    long_label = "L" * 300
    task = world.tasks[4]
    response = api.post(
        f"/api/tasks/{task.pk}/annotations/", {"result": [box(long_label)]}, format="json"
    )
    if response.status_code == 201:  # the config may refuse a label it doesn't know
        assert not ResultLabel.objects.filter(annotation_id=response.json()["id"]).exists()
        body = query(item("annotations_results", "equal", long_label))
        assert found(api, world.project, body)[0] == 1
    assert_index_right()


def test_the_index_follows_every_write(api, world, annotator, client_for, settings):
    settings.RESULT_INDEX_FILTERS = True  # read it on PostgreSQL too
    project = world.project
    # import with annotations and predictions, in one call
    records = [
        {
            "data": {"image": f"/b/{i}.jpg"},
            "annotations": [{"result": [box("Dog" if i % 2 else "Cat")]}],
            "predictions": [{"result": [box("Cat")], "score": 0.5, "model_version": "m9"}],
        }
        for i in range(4)
    ]
    response = api.post(f"/api/projects/{project.pk}/import", records, format="json")
    assert response.status_code == 201, response.content
    assert_index_right()
    cat = query(item("annotations_results", "contains", "Cat"))
    assert found(api, project, cat)[0] == 5

    # annotation update: Cat becomes Dog
    first = world.annotations["t0_cat"]
    response = client_for(annotator).patch(
        f"/api/annotations/{first.pk}/", {"result": [box("Dog")]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert_index_right()
    assert found(api, project, cat)[0] == 4

    # annotation delete
    response = api.delete(f"/api/annotations/{world.annotations['t2_both'].pk}/")
    assert response.status_code == 204
    assert_index_right()
    assert found(api, project, cat)[0] == 3

    # prediction delete
    prediction = Prediction.objects.filter(task=world.tasks[0]).get()
    assert api.delete(f"/api/predictions/{prediction.pk}/").status_code == 204
    assert_index_right()
    assert found(api, project, query(item("predictions_results", "contains", "Cat")))[0] == 5

    # task delete
    assert api.delete(f"/api/tasks/{world.tasks[1].pk}/").status_code == 204
    assert_index_right()
    assert found(api, project, cat)[0] == 2

    # Data Manager action: annotations from predictions (a bulk writer)
    response = api.post(
        f"/api/dm/actions/?id=predictions_to_annotations&project={project.pk}",
        {"selectedItems": {"all": True, "excluded": []}},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert_index_right()

    # the rebuild command gives the same rows
    before = index_rows()
    ResultLabel.objects.all().delete()
    call_command(
        "rebuild_result_index", "--project", str(project.pk), stdout=open("/dev/null", "w")
    )
    assert index_rows() == before

    # project delete
    assert api.delete(f"/api/projects/{project.pk}/").status_code == 204
    assert not ResultLabel.objects.exists()


def test_result_label_pairs_reads_labels_and_taxonomy_paths():
    result = [
        {"value": {"choices": ["A", "B"], "x": 3}},
        {"value": {"taxonomy": [["Animal", "Cat"], ["Plant"]]}},
        {"value": {"text": ["free text"], "labels": "not a list"}},
        "junk",
        {"value": [1, 2]},
    ]
    assert result_label_pairs(result) == {
        ("choices", "A"),
        ("choices", "B"),
        ("taxonomy", "Animal"),
        ("taxonomy", "Cat"),
        ("taxonomy", "Plant"),
        ("text", "free text"),
    }
    assert result_label_pairs(None) == set()


def test_ml_prediction_job_writes_fill_the_index(world):
    rows = [(task.pk, 0.7, [box("Dog")]) for task in world.tasks[3:6]]
    predictions_write(project=world.project, version="m-new", rows=rows)
    assert_index_right()
    assert (
        ResultLabel.objects.filter(
            prediction__model_version="m-new", key="rectanglelabels", value="Dog"
        ).count()
        == 3
    )


def test_a_bulk_fill_goes_a_few_tasks_at_a_time_and_fills_them_all(
    world, monkeypatch, django_assert_num_queries
):
    """A bulk writer's range is filled in pieces of ``FILL_TASKS`` task ids (SQLite sorts
    each statement's DISTINCT in memory), two statements (annotations, predictions) each."""
    from annotations import result_index

    ResultLabel.objects.all().delete()
    ids = sorted(task.pk for task in world.tasks)
    monkeypatch.setattr(result_index, "FILL_TASKS", 2)
    with django_assert_num_queries(2 * 3):
        result_index.result_index_fill(project_id=world.project.pk, task_ranges=[[ids[0], ids[-1]]])
    assert_index_right()
