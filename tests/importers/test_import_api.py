import io

import pytest

from annotations.models import Annotation, Prediction
from projects.models import Project
from tasks.models import Task
from tests.factories import choice

pytestmark = pytest.mark.django_db


def url(project):
    return f"/api/projects/{project.pk}/import"


def test_import_list_with_annotations_completions_predictions(api, project, owner):
    records = [
        {
            "data": {"text": "good"},
            "annotations": [{"result": choice("Positive"), "lead_time": 3.5}],
        },
        {
            "data": {"text": "bad"},
            "completions": [{"result": choice("Negative")}],
            "predictions": [{"model_version": "v1", "score": 0.7, "result": choice("Negative")}],
        },
        {"text": "no data key: the whole object is the data", "id": 999},
        {
            "data": {"text": "skipped"},
            "annotations": [{"result": [], "was_cancelled": True}],
            "meta": {"source": "x"},
        },
    ]
    response = api.post(url(project) + "?return_task_ids=true", records, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (
        body["task_count"] == 4 and body["annotation_count"] == 3 and body["prediction_count"] == 1
    )
    assert isinstance(body["duration"], float) and len(body["task_ids"]) == 4
    assert not Task.objects.filter(pk=999).exists() or 999 not in body["task_ids"]
    tasks = list(Task.objects.filter(project=project).order_by("id"))
    assert tasks[2].data == {"text": "no data key: the whole object is the data", "id": 999}
    assert tasks[3].meta == {"source": "x"}
    assert tasks[0].is_labeled and tasks[0].total_annotations == 1
    assert not tasks[3].is_labeled and tasks[3].cancelled_annotations == 1
    assert Annotation.objects.get(task=tasks[0]).lead_time == 3.5
    assert Annotation.objects.get(task=tasks[0]).completed_by == owner
    assert Prediction.objects.get(task=tasks[1]).score == 0.7
    project.refresh_from_db()
    assert project.task_number == 4
    assert project.num_tasks_with_annotations == 2
    assert project.total_annotations_number == 2
    assert project.skipped_annotations_number == 1
    assert project.total_predictions_number == 1


def test_import_single_task_object(api, project):
    response = api.post(url(project) + "/", {"data": {"text": "one"}}, format="json")
    assert response.status_code == 201 and response.json()["task_count"] == 1
    assert "task_ids" not in response.json()


def _assert_nothing_written(project):
    assert Task.objects.filter(project=project).count() == 0
    assert Annotation.objects.filter(project=project).count() == 0
    project.refresh_from_db()
    assert project.task_number == 0


@pytest.mark.parametrize(
    "records, record, field, words",
    [
        ([{"data": {"text": "ok"}}, {"data": {"txt": "typo"}}], 1, "data.text", "text"),
        (
            [
                {
                    "data": {"text": "a"},
                    "annotations": [
                        {
                            "result": [
                                {
                                    "id": "x1",
                                    "from_name": "sentiment",
                                    "to_name": "nope",
                                    "type": "choices",
                                    "value": {"choices": ["Positive"]},
                                }
                            ]
                        }
                    ],
                }
            ],
            0,
            "annotations[0].result",
            "nope",
        ),
        (
            [
                {
                    "data": {"text": "a"},
                    "annotations": [{"result": choice("Maybe", result_id="bad1")}],
                }
            ],
            0,
            "annotations[0].result",
            "Maybe",
        ),
        (
            [
                {
                    "data": {"text": "a"},
                    "predictions": [{"result": choice("Positive"), "score": "high"}],
                }
            ],
            0,
            "predictions[0].score",
            "number",
        ),
        ([{"data": "not an object"}], 0, "data", "object"),
        ([{"data": {"text": "a"}}, 5], 1, None, "object"),
        ([{"data": {"text": "a"}, "annotations": {"result": []}}], 0, "annotations", "list"),
    ],
)
def test_bad_records_are_400_and_write_nothing(api, project, records, record, field, words):
    response = api.post(url(project), records, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    error = body["errors"][0]
    assert error["record"] == record and error["field"] == field
    assert words in error["message"] or words in body["detail"]
    assert "nothing was imported" in body["detail"]
    _assert_nothing_written(project)


def test_result_error_names_result_id(api, project):
    records = [
        {"data": {"text": "a"}, "annotations": [{"result": choice("Maybe", result_id="bad1")}]}
    ]
    error = api.post(url(project), records, format="json").json()["errors"][0]
    assert error["result_id"] == "bad1"


def test_errors_are_capped_at_100(api, project):
    response = api.post(url(project), [{"data": {"nope": i}} for i in range(250)], format="json")
    assert response.status_code == 400
    assert len(response.json()["errors"]) == 100
    assert "249 more" in response.json()["detail"]


def test_malformed_json_names_line_and_column(api, project):
    response = api.post(
        url(project),
        data=b'[{"data": {"text": "a"}},\n {"data": }]',
        content_type="application/json",
    )
    assert response.status_code == 400
    body = response.json()
    assert "line 2" in body["detail"] and body["errors"][0]["line"] == 2
    _assert_nothing_written(project)


def test_empty_body(api, project):
    response = api.post(url(project), data=b"", content_type="application/json")
    assert response.status_code == 400


def _upload(api, project, name, content: bytes):
    handle = io.BytesIO(content)
    handle.name = name
    return api.post(url(project), {"file": handle}, format="multipart")


@pytest.mark.parametrize(
    "name, content, count",
    [
        ("t.json", b'[{"data": {"text": "a"}}, {"text": "b"}]', 2),
        ("t.jsonl", b'{"data": {"text": "a"}}\n\n{"text": "b"}\n', 2),
        ("t.csv", '\ufefftext,extra\nhello,1\n"with, comma",2\n'.encode(), 2),
        ("t.tsv", b"text\tscore\nhello\t1\nworld\t2\n", 2),
        ("t.txt", b"line one\nline two\n\nline three\n", 3),
    ],
)
def test_file_uploads(api, project, name, content, count):
    response = _upload(api, project, name, content)
    assert response.status_code == 201, response.content
    assert response.json()["task_count"] == count
    texts = set(Task.objects.filter(project=project).values_list("data__text", flat=True))
    assert len(texts) == count


def test_csv_columns_become_data_keys(api, project):
    _upload(api, project, "t.csv", b"text,extra\nhello,1\n")
    assert Task.objects.get(project=project).data == {"text": "hello", "extra": "1"}


@pytest.mark.parametrize(
    "name, content, words",
    [
        ("t.csv", b"", "empty"),
        ("t.csv", b",\nhello,1\n", "header"),
        ("t.json", b"", "empty"),
        ("t.jsonl", b'{"text": "a"}\n{oops}\n', "line 2"),
        ("t.exe", b"MZ", "unsupported"),
    ],
)
def test_bad_files(api, project, name, content, words):
    response = _upload(api, project, name, content)
    assert response.status_code == 400, response.content
    assert words in response.json()["detail"]
    _assert_nothing_written(project)


def test_txt_needs_a_single_data_key(api, owner):
    from projects.services import project_create

    two_keys = project_create(
        user=owner,
        title="two",
        label_config='<View><Text name="a" value="$a"/><Text name="b" value="$b"/></View>',
    )
    response = _upload(api, two_keys, "t.txt", b"x\n")
    assert response.status_code == 400 and "one data key" in response.json()["detail"]


def test_import_size_limit(api, project, settings):
    settings.LABELHUB_MAX_IMPORT_SIZE = 100
    response = api.post(url(project), [{"text": "x" * 200}], format="json")
    assert response.status_code == 413
    assert Project.objects.get(pk=project.pk).task_number == 0


@pytest.mark.parametrize(
    "name, wording",
    [
        ("test.wrong_ext", ".wrong_ext extension is not supported"),
        ("noext", " extension is not supported"),
    ],
)
def test_unsupported_file_type_carries_label_studios_wording(api, project, name, wording):
    response = _upload(api, project, name, b"whatever")
    assert response.status_code == 400
    body = response.json()
    assert body["validation_errors"] == {"non_field_errors": [wording]}
    assert "unsupported file type" in body["detail"] and body["errors"][0]["file"] == name
    _assert_nothing_written(project)
