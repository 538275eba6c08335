"""Each task file format through POST /api/projects/{id}/import, and each bad input."""

import orjson
import pytest

from annotations.models import Prediction
from tasks.models import Task
from tests.factories import (
    assert_nothing_written,
    choice,
    import_url,
    task_data,
    upload,
    upload_many,
)

pytestmark = pytest.mark.django_db


def test_json_list_with_predictions(api, project):
    tasks = [
        {
            "data": {"text": f"t{i}"},
            "predictions": [{"model_version": "v1", "score": 0.5, "result": choice("Positive")}],
        }
        for i in range(3)
    ]
    response = upload(
        api, project, "tasks.json", orjson.dumps(tasks), query="?return_task_ids=true"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["task_count"] == 3 and body["prediction_count"] == 3
    assert body["task_ids"] == sorted(body["task_ids"]) and len(set(body["task_ids"])) == 3
    assert Prediction.objects.filter(project=project, model_version="v1").count() == 3
    assert [d["text"] for d in task_data(project)] == ["t0", "t1", "t2"]


def test_json_with_bom_and_whitespace(api, project):
    response = upload(api, project, "t.json", b'\xef\xbb\xbf \n [{"text": "a"}]')
    assert response.status_code == 201, response.content
    assert task_data(project) == [{"text": "a"}]


def test_json_single_task_object(api, project):
    response = upload(api, project, "t.json", b'{"data": {"text": "only"}, "meta": {"k": 1}}')
    assert response.status_code == 201
    assert Task.objects.get(project=project).meta == {"k": 1}


def test_jsonl(api, project):
    response = upload(api, project, "t.jsonl", b'{"text": "a"}\n\n{"data": {"text": "b"}}\n')
    assert response.status_code == 201 and response.json()["task_count"] == 2


@pytest.mark.parametrize(
    "content, delimiter_text",
    [
        (b"text;extra\nhello;1\nworld;2\n", "semicolon"),
        (b"text|extra\nhello|1\nworld|2\n", "pipe"),
        (b"text\textra\nhello\t1\nworld\t2\n", "tab in a .csv"),
        ("\ufefftext,extra\nhello,1\nworld,2\n".encode(), "comma with a BOM"),
    ],
)
def test_csv_sniffs_the_delimiter(api, project, content, delimiter_text):
    response = upload(api, project, "t.csv", content)
    assert response.status_code == 201, (delimiter_text, response.content)
    assert task_data(project) == [{"text": "hello", "extra": "1"}, {"text": "world", "extra": "2"}]


def test_tsv_keeps_commas_inside_cells(api, project):
    response = upload(api, project, "t.tsv", b"text\tn\nhello, world\t1\n")
    assert response.status_code == 201
    assert task_data(project) == [{"text": "hello, world", "n": "1"}]


def test_txt_fills_the_single_data_key(api, project):
    response = upload(api, project, "t.txt", "\ufeffone\r\ntwo\n\n  \nthree".encode())
    assert response.status_code == 201
    assert [d["text"] for d in task_data(project)] == ["one", "two", "three"]


def test_several_files_in_one_request_are_one_import(api, project):
    response = upload_many(
        api, project, {"a.json": b'[{"text": "a"}]', "b.csv": b"text\nb\n", "c.txt": b"c\n"}
    )
    assert response.status_code == 201 and response.json()["task_count"] == 3


def test_several_files_all_or_nothing(api, project):
    response = upload_many(api, project, {"a.json": b'[{"text": "a"}]', "b.csv": b"wrong\nb\n"})
    assert response.status_code == 400
    assert "b.csv" in response.json()["detail"]
    assert_nothing_written(project)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "name, content, words, line",
    [
        ("t.json", b'[{"text": "a"},\n {"text": }]', "line 2", 2),
        ("t.json", b'[{"text": "a"}] trailing', "line 1", 1),
        ("t.json", b'[{"text": "a"}', "malformed JSON", None),
        ("t.json", b"nonsense", "malformed JSON", 1),
        ("t.jsonl", b'{"text": "a"}\n{"text": "b",}\n', "line 2", 2),
    ],
)
def test_malformed_json_names_the_file_and_line(api, project, name, content, words, line):
    response = upload(api, project, name, content)
    assert response.status_code == 400, response.content
    body = response.json()
    assert name in body["detail"] and words in body["detail"]
    if line is not None:
        assert body["errors"][0]["line"] == line
    assert_nothing_written(project)


def test_malformed_json_body_gives_line_and_column(api, project):
    response = api.post(
        import_url(project),
        data=b'[\n  {"text": "a"},\n  {"text": "b",}\n]',
        content_type="application/json",
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["line"] == 3 and error["column"] == 16
    assert "trailing comma" in response.json()["detail"]


@pytest.mark.parametrize("name", ["t.json", "t.jsonl", "t.csv", "t.tsv", "t.txt"])
@pytest.mark.parametrize("content", [b"", b"  \n\n"])
def test_empty_file(api, project, name, content):
    response = upload(api, project, name, content)
    assert response.status_code == 400, response.content
    assert "empty" in response.json()["detail"]
    assert_nothing_written(project)


def test_empty_json_list(api, project):
    response = upload(api, project, "t.json", b"[]")
    assert response.status_code == 400 and "no tasks" in response.json()["detail"]


def test_csv_without_a_header(api, project):
    response = upload(api, project, "t.csv", b"hello world,1\nanother one,2\n")
    assert response.status_code == 400
    body = response.json()
    assert "header" in body["detail"] and '"text"' in body["detail"]
    assert body["errors"][0]["line"] == 1 and body["errors"][0]["file"] == "t.csv"
    assert_nothing_written(project)


def test_csv_row_with_too_many_cells_names_its_line(api, project):
    response = upload(api, project, "t.csv", b"text,n\na,1\nb,2,3\n")
    assert response.status_code == 400
    assert response.json()["errors"][0]["line"] == 3


def test_csv_not_utf8(api, project):
    response = upload(api, project, "t.csv", "text\ncafé\n".encode("latin-1"))
    assert response.status_code == 400 and "UTF-8" in response.json()["detail"]


def test_missing_data_key_names_record_field_file_and_line(api, project):
    response = upload(api, project, "t.jsonl", b'{"text": "ok"}\n{"txt": "typo"}\n')
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["record"] == 1 and error["field"] == "data.text"
    assert error["file"] == "t.jsonl" and error["line"] == 2
    assert_nothing_written(project)


def test_bad_prediction_in_a_csv_file_is_not_possible_but_bad_json_prediction_is_located(
    api, project
):
    tasks = [
        {"data": {"text": "a"}},
        {"data": {"text": "b"}, "predictions": [{"result": choice("Maybe", result_id="r9")}]},
    ]
    response = upload(api, project, "t.json", orjson.dumps(tasks))
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (
        error["record"] == 1
        and error["field"] == "predictions[0].result"
        and error["result_id"] == "r9"
    )


def test_unsupported_file_type(api, project):
    response = upload(api, project, "t.exe", b"MZ")
    assert response.status_code == 400 and "unsupported" in response.json()["detail"]


def test_validation_memo_does_not_hide_a_later_bad_label(api, project):
    tasks = [
        {
            "data": {"text": str(i)},
            "predictions": [{"result": choice("Positive", result_id=f"r{i}")}],
        }
        for i in range(5)
    ]
    tasks.append(
        {"data": {"text": "x"}, "predictions": [{"result": choice("Nope", result_id="bad")}]}
    )
    response = upload(api, project, "t.json", orjson.dumps(tasks))
    assert response.status_code == 400
    assert response.json()["errors"][0]["record"] == 5


def test_non_members_and_annotators_cannot_import(client_for, annotator, outsider, project):
    assert upload(client_for(annotator), project, "t.txt", b"a\n").status_code == 403
    assert upload(client_for(outsider), project, "t.txt", b"a\n").status_code == 404
    assert_nothing_written(project)


@pytest.mark.parametrize(
    "body",
    [
        b'"just a string"',
        b"null",
        b"42",
        b"[1, 2, 3]",
        b"[[]]",
        b"[null]",
        b"\xff\xfe\x00",
        b'[{"data": {"text": "a"}, "predictions": "no"}]',
        b'[{"data": {"text": "a"}, "meta": []}]',
        b'[{"data": {"text": "a"}, "annotations": [{"result": [{"type": 5}]}]}]',
        b'[{"data": {"text": "a"}, "predictions": [{"result": [{"from_name": [], "to_name": {}, "type": "choices", "value": 1}]}]}]',
        b'{"images": "not a list"}',
        b'{"images": [5]}',
        b"[" + b'{"text": "x"},' * 3 + b"]",
    ],
)
def test_garbage_is_a_400_never_a_500(api, project, body):
    response = api.post(import_url(project), data=body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["detail"]
    assert_nothing_written(project)


def test_non_list_json_says_what_is_expected(api, project):
    response = api.post(import_url(project), data=b'"text"', content_type="application/json")
    assert "a JSON list of tasks" in response.json()["detail"]


def test_nested_data_up_to_the_limit_is_stored_and_deeper_is_refused(api, project):
    """The nesting limit is 64 levels in all (#12): 3 for the list and objects, 61 here."""
    body = b'[{"data": {"text": "a", "deep": ' + b"[" * 61 + b"]" * 61 + b"}}]"
    response = api.post(import_url(project), data=body, content_type="application/json")
    assert response.status_code == 201, response.content
    deep = task_data(project)[0]["deep"]  # read back: all 61 levels were stored
    levels = 0
    while deep != []:
        assert isinstance(deep, list) and len(deep) == 1
        deep, levels = deep[0], levels + 1
    assert levels == 60  # 61 brackets: 60 nested lists around the innermost empty one
    body = b'[{"data": {"text": "b", "deep": ' + b"[" * 300 + b"]" * 300 + b"}}]"
    response = api.post(import_url(project), data=body, content_type="application/json")
    assert response.status_code == 400 and response.json()["errors"][0]["line"] == 1
    assert [d["text"] for d in task_data(project)] == ["a"]  # nothing of the refused import


def test_json_is_read_as_a_stream(project, tmp_path):
    """The first task comes out after reading about one buffer, not the whole file."""
    from importers.services import parsed_config
    from importers.sources import ImportContext, ImportFile, iter_records

    path = tmp_path / "big.json"
    path.write_bytes(orjson.dumps([{"text": "x" * 200, "n": i} for i in range(40_000)]))
    ctx = ImportContext(project=project, parsed=parsed_config(project), work_dir=tmp_path)
    records = iter_records([ImportFile(path, "big.json")], ctx)
    assert next(records)["n"] == 0
    assert ctx.bytes_done <= 2 * 1024 * 1024 < path.stat().st_size / 3
    assert sum(1 for _ in records) == 39_999


def test_oversized_upload_is_refused_before_parsing(api, project, settings):
    settings.LABELHUB_MAX_IMPORT_SIZE = 50
    response = upload(api, project, "t.txt", b"x\n" * 100)
    assert response.status_code == 413
    assert_nothing_written(project)
