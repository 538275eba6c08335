"""Label Studio files import as they are, and an export imports into a new project
with the same tasks, annotations and predictions."""

from pathlib import Path

import orjson
import pytest

from projects.services import project_create

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ls_docs"


def _project(owner, name: str):
    return project_create(
        user=owner, title=name, label_config=(FIXTURES / f"{name}.xml").read_text()
    )


def _export(api, project, **params) -> list:
    query = "&".join(f"{k}={v}" for k, v in {"exportType": "JSON", **params}.items())
    response = api.get(f"/api/projects/{project.pk}/export?{query}")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    return orjson.loads(b"".join(response.streaming_content))


def _comparable(tasks: list) -> list:
    return [
        (
            task["data"],
            [
                (a["result"], a["was_cancelled"], a["ground_truth"], a["lead_time"])
                for a in task["annotations"]
            ],
            [(p["result"], p["score"], p["model_version"]) for p in task["predictions"]],
        )
        for task in tasks
    ]


@pytest.mark.parametrize("name", ["image_bbox", "image_predictions", "text_ner"])
def test_ls_docs_files_round_trip(api, owner, name):
    source = _project(owner, name)
    raw = (FIXTURES / f"{name}.json").read_bytes()
    response = api.post(
        f"/api/projects/{source.pk}/import", data=raw, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    first = _export(api, source, download_all_tasks="true")
    assert len(first) == len(orjson.loads(raw))

    target = _project(owner, name)
    again = api.post(
        f"/api/projects/{target.pk}/import",
        data=orjson.dumps(first),
        content_type="application/json",
    )
    assert again.status_code == 201, again.content
    second = _export(api, target, download_all_tasks="true")
    assert _comparable(second) == _comparable(first)
    assert [t["id"] for t in second] != [t["id"] for t in first]  # input ids are ignored


def test_export_keeps_reviews_authors_and_timestamps(api, owner, reviewer, project, client_for):
    from annotations.models import Annotation
    from annotations.services import review_set

    api.post(
        f"/api/projects/{project.pk}/import",
        [
            {
                "data": {"text": "x"},
                "annotations": [
                    {
                        "result": [
                            {
                                "id": "r",
                                "from_name": "sentiment",
                                "to_name": "text",
                                "type": "choices",
                                "value": {"choices": ["Positive"]},
                            }
                        ],
                        "ground_truth": True,
                        "lead_time": 2,
                    }
                ],
            }
        ],
        format="json",
    )
    review_set(annotation=Annotation.objects.get(), reviewer=reviewer, accepted=True)
    annotation = _export(api, project)[0]["annotations"][0]
    assert annotation["completed_by"]["id"] == owner.pk and annotation["ground_truth"] is True
    assert annotation["lead_time"] == 2 and annotation["created_at"] and annotation["updated_at"]
    assert (
        annotation["reviews"][0]["accepted"] is True
        and annotation["reviews"][0]["reviewer"] == reviewer.pk
    )


def test_file_that_breaks_its_config_names_the_result(api, owner):
    project = _project(owner, "breaks_config")
    raw = (FIXTURES / "breaks_config.json").read_bytes()
    response = api.post(
        f"/api/projects/{project.pk}/import", data=raw, content_type="application/json"
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["record"] == 1 and error["result_id"] == "bad7" and "Mixed" in error["message"]
    project.refresh_from_db()
    assert project.task_number == 0


def test_export_filters(api, project, owner):
    ids = api.post(
        f"/api/projects/{project.pk}/import?return_task_ids=true",
        [
            {"data": {"text": "a"}, "annotations": [{"result": [], "was_cancelled": True}]},
            {"data": {"text": "b"}},
            {
                "data": {"text": "c"},
                "annotations": [
                    {
                        "result": [
                            {
                                "id": "r",
                                "from_name": "sentiment",
                                "to_name": "text",
                                "type": "choices",
                                "value": {"choices": ["Neutral"]},
                            }
                        ]
                    }
                ],
            },
        ],
        format="json",
    ).json()["task_ids"]
    assert [t["id"] for t in _export(api, project)] == [ids[0], ids[2]]
    assert [t["id"] for t in _export(api, project, download_all_tasks="true")] == ids
    assert [
        t["id"] for t in _export(api, project, download_all_tasks="true", ids=f"{ids[1]},{ids[2]}")
    ] == ids[1:]
    response = api.get(f"/api/projects/{project.pk}/export?exportType=PDF")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "exportType"
    assert api.get(f"/api/projects/{project.pk}/export?export_type=JSON_MIN").status_code == 200


def test_export_only_ground_truth_or_accepted(api, project, owner, reviewer):
    from annotations.models import Annotation
    from annotations.services import review_set

    result = [
        {
            "id": "r",
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": ["Positive"]},
        }
    ]
    ids = api.post(
        f"/api/projects/{project.pk}/import?return_task_ids=true",
        [
            {
                "data": {"text": "gt"},
                "annotations": [{"result": result, "ground_truth": True}, {"result": result}],
            },
            {"data": {"text": "reviewed"}, "annotations": [{"result": result}, {"result": result}]},
            {"data": {"text": "plain"}, "annotations": [{"result": result}]},
        ],
        format="json",
    ).json()["task_ids"]
    accepted, rejected = Annotation.objects.filter(task_id=ids[1]).order_by("id")
    review_set(annotation=accepted, reviewer=reviewer, accepted=True)
    review_set(annotation=rejected, reviewer=reviewer, accepted=False)

    gt = _export(api, project, only="ground_truth")
    assert [t["id"] for t in gt] == [ids[0]]
    assert [a["ground_truth"] for a in gt[0]["annotations"]] == [True]
    good = _export(api, project, only="accepted")
    assert [t["id"] for t in good] == [ids[1]]
    assert [a["id"] for a in good[0]["annotations"]] == [accepted.pk]
    assert api.get(f"/api/projects/{project.pk}/export?only=best").status_code == 400
