"""CSV/TSV formula injection (issue #24 row 8): cells that begin with ``=``, ``+``, ``-``,
``@``, tab or CR are made inert with a leading single quote (OWASP's rule) in the CSV and
TSV exports and the quality CSV; JSON exports keep the raw values; numbers stay numbers."""

import csv
import io
import json

import pytest

from projects.models import ProjectMember
from projects.services import member_set

pytestmark = pytest.mark.django_db

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <TextArea name="answer" toName="text"/>
</View>"""

EVIL = "=cmd|' /C calc'!A0"
EMAIL = '=HYPERLINK("http://evil.example/")@example.com'
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def _cells(text: str, sep: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=sep))


@pytest.fixture
def evil_project(make_project, make_user, client_for, import_tasks):
    project = make_project(CONFIG, "evil")
    ids = import_tasks(
        project,
        [
            {
                "text": EVIL,
                "plus": "+1+cmd",
                "at": "@SUM(1+1)",
                "tab": "\t=1",
                "cr": "\r=1",
                "neg_text": "-2+3",
                "number": -1.5,
                "number_text": "-1.5",
                "fine": "plain",
            }
        ],
    )
    annotator = make_user(EMAIL)
    member_set(project=project, user=annotator, role=ProjectMember.Role.ANNOTATOR)
    posted = client_for(annotator).post(
        f"/api/tasks/{ids[0]}/annotations/",
        {
            "result": [
                {
                    "from_name": "answer",
                    "to_name": "text",
                    "type": "textarea",
                    "value": {"text": ["@SUM(1)"]},
                }
            ]
        },
        format="json",
    )
    assert posted.status_code == 201, posted.content
    return project


@pytest.mark.parametrize("fmt,sep", [("CSV", ","), ("TSV", "\t")])
def test_table_exports_make_formulas_inert(api, evil_project, fmt, sep):
    text = _body(api.get(f"/api/projects/{evil_project.pk}/export?exportType={fmt}"))
    [row] = _cells(text, sep)
    assert row["text"] == "'" + EVIL
    assert row["plus"] == "'+1+cmd"
    assert row["at"] == "'@SUM(1+1)"
    assert row["tab"] == "'\t=1"
    assert row["cr"] == "'\r=1"
    assert row["neg_text"] == "'-2+3"
    assert row["annotator"] == "'" + EMAIL
    # Numbers are not formulas: -1.5 stays -1.5, as a number and as numeric text.
    assert row["number"] == "-1.5" and row["number_text"] == "-1.5"
    assert row["fine"] == "plain"
    for name, value in row.items():
        if value.startswith(DANGEROUS):
            assert name.startswith("number"), (name, value)


def test_json_export_keeps_the_raw_values(api, evil_project):
    [task] = json.loads(_body(api.get(f"/api/projects/{evil_project.pk}/export?exportType=JSON")))
    assert task["data"]["text"] == EVIL and task["data"]["tab"] == "\t=1"
    assert task["annotations"][0]["completed_by"]["email"] == EMAIL


def test_quality_csv_makes_emails_inert(api, evil_project):
    text = _body(api.get(f"/api/projects/{evil_project.pk}/quality/?format=csv"))
    rows = _cells(text, ",")
    assert [r["email"] for r in rows] == ["'" + EMAIL]
