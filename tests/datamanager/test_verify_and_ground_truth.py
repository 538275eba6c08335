"""The Verify Stream API and the Ground Truth Manager API."""

import pytest

from annotations.models import Annotation, Review
from annotations.services import annotation_create
from importers.services import tasks_import
from tasks.models import Task
from tests.factories import box, item

pytestmark = pytest.mark.django_db


def test_verify_walks_every_completion_once(client_for, reviewer, world):
    client = client_for(reviewer)
    url = f"/api/projects/{world.project.pk}/verify/next/"
    seen = []
    # t0_cat and t1_cat were reviewed by this reviewer in the fixture; t3 is cancelled
    while True:
        response = client.get(url)
        if response.status_code == 204:
            break
        body = response.json()
        assert set(body) >= {"task", "annotation", "progress"}
        annotation = body["annotation"]
        assert annotation["was_cancelled"] is False and annotation["task"] == body["task"]["id"]
        assert annotation["id"] not in seen
        seen.append(annotation["id"])
        assert (
            client.post(
                f"/api/annotations/{annotation['id']}/reviews/", {"accepted": True}, format="json"
            ).status_code
            == 201
        )
        assert len(seen) < 10
    assert set(seen) == {world.annotations["t1_dog"].pk, world.annotations["t2_both"].pk}
    progress = client.get(f"/api/projects/{world.project.pk}/verify/progress/").json()
    assert progress == {"reviewed": 4, "total": 4, "remaining": 0, "reworked": 0}


def test_verify_task_carries_predictions_and_reviews(client_for, staff, world):
    body = client_for(staff).get(f"/api/projects/{world.project.pk}/verify/next/").json()
    assert "predictions" in body["task"] and "reviews" in body["annotation"]
    assert body["progress"]["reviewed"] == 0


def test_verify_is_random_and_exclude_skips_the_current(client_for, staff, world):
    client = client_for(staff)
    url = f"/api/projects/{world.project.pk}/verify/next/"
    firsts = {client.get(url).json()["annotation"]["id"] for _ in range(40)}
    assert len(firsts) > 1
    current = client.get(url).json()["annotation"]["id"]
    others = {client.get(url, {"exclude": current}).json()["annotation"]["id"] for _ in range(20)}
    assert current not in others


def test_reviewing_again_changes_the_verdict(client_for, reviewer, world):
    client = client_for(reviewer)
    pk = world.annotations["t0_cat"].pk
    client.post(f"/api/annotations/{pk}/reviews/", {"accepted": False}, format="json")
    assert Review.objects.filter(annotation_id=pk, reviewer=reviewer).count() == 1
    task = client.get("/api/tasks/", {"project": world.project.pk}).json()["tasks"][0]
    assert (task["reviews_accepted"], task["reviews_rejected"]) == (0, 1)


def test_verify_empty_project_is_204(client_for, staff, project):
    assert client_for(staff).get(f"/api/projects/{project.pk}/verify/next/").status_code == 204


def make_completions(world, owner, n):
    ids = tasks_import(
        project=world.project, records=[{"image": f"/m/{i}.jpg"} for i in range(n)], user=owner
    ).task_ids
    for pk in ids:
        annotation_create(task=Task.objects.get(pk=pk), user=owner, result=[box("Cat")])


def test_ground_truth_sample_fraction(api, world, owner):
    make_completions(world, owner, 16)  # 4 + 16 = 20 completions, 1 already ground truth
    url = f"/api/projects/{world.project.pk}/ground-truth/sample"
    response = api.post(url, {"filters": None, "fraction": 0.2}, format="json")
    assert response.status_code == 200
    assert response.json()["marked"] == 3  # 20% of 20 = 4, one of which was already marked
    assert Annotation.objects.filter(project=world.project, ground_truth=True).count() == 4
    again = api.post(url, {"fraction": 0.2}, format="json").json()
    assert again["marked"] == 0
    world.project.refresh_from_db()
    assert world.project.ground_truth_number == 4


def test_ground_truth_sample_with_filter(api, world, second_annotator):
    url = f"/api/projects/{world.project.pk}/ground-truth/sample"
    filters = {
        "conjunction": "and",
        "items": [
            item("annotations_results", "contains", "Cat"),
            item("annotators", "contains", second_annotator.pk, "List"),
        ],
    }
    body = api.post(url, {"filters": filters, "fraction": 1}, format="json").json()
    assert body["marked"] == 1 and body["matched"] == 2  # t1_cat; t2_both was already marked
    assert Annotation.objects.get(pk=world.annotations["t1_cat"].pk).ground_truth
    assert not Annotation.objects.get(pk=world.annotations["t0_cat"].pk).ground_truth


def _ground_truth_state(world):
    world.project.refresh_from_db()
    marked = Annotation.objects.filter(project=world.project, ground_truth=True)
    return sorted(marked.values_list("pk", flat=True)), world.project.ground_truth_number


def test_ground_truth_bad_fraction(api, world):
    url = f"/api/projects/{world.project.pk}/ground-truth/sample"
    before = _ground_truth_state(world)
    out_of_range = "fraction must be more than 0 and at most 1"
    not_a_number = "fraction must be a number between 0 and 1"
    for fraction, detail in [
        (0, out_of_range),
        (-1, out_of_range),
        (1.5, out_of_range),
        ("x", not_a_number),
        (True, not_a_number),
        (None, "fraction: This field may not be null."),
    ]:
        response = api.post(url, {"fraction": fraction}, format="json")
        assert response.status_code == 400, fraction
        body = response.json()
        assert body["detail"] == detail, (fraction, body)
        assert body["errors"][0]["field"] == "fraction", (fraction, body)
    assert _ground_truth_state(world) == before


def test_ground_truth_bad_filter(api, world):
    url = f"/api/projects/{world.project.pk}/ground-truth/sample"
    before = _ground_truth_state(world)
    unknown = {"conjunction": "and", "items": [item("no_such_column", "equal", "x")]}
    for filters, field, message in [
        (unknown, "filters.items[0].filter", "unknown column 'no_such_column'"),
        ({"conjunction": "xor", "items": []}, "filters.conjunction", "must be 'and' or 'or'"),
        ("x", "query", "not valid JSON"),
    ]:
        response = api.post(url, {"fraction": 1, "filters": filters}, format="json")
        assert response.status_code == 400, filters
        body = response.json()
        assert body["detail"] == f"Invalid query: {message}", body
        assert body["errors"] == [{"field": field, "message": message}], body
    assert _ground_truth_state(world) == before


def test_ground_truth_reset(api, world, owner):
    make_completions(world, owner, 4)
    api.post(
        f"/api/projects/{world.project.pk}/ground-truth/sample", {"fraction": 0.5}, format="json"
    )
    body = api.post(f"/api/projects/{world.project.pk}/ground-truth/reset").json()
    assert body["unmarked"] == 4
    assert not Annotation.objects.filter(ground_truth=True).exists()
    world.project.refresh_from_db()
    assert world.project.ground_truth_number == 0


def test_single_completion_ground_truth_patch(client_for, reviewer, world):
    pk = world.annotations["t0_cat"].pk
    response = client_for(reviewer).patch(
        f"/api/annotations/{pk}/", {"ground_truth": True}, format="json"
    )
    assert response.status_code == 200 and response.json()["ground_truth"] is True


def test_ground_truth_preview(api, world, second_annotator):
    url = f"/api/projects/{world.project.pk}/ground-truth/preview"
    everything = api.post(url, {}, format="json").json()
    assert everything == {
        "matched": 4,
        "ground_truth": 1,
        "project_ground_truth": 1,
        "project_completions": 4,
    }
    filters = {
        "conjunction": "and",
        "items": [item("annotators", "contains", second_annotator.pk, "List")],
    }
    assert api.post(url, {"filters": filters}, format="json").json()["matched"] == 2
