"""Sample tasks and sample files for any labeling config; each imports back as it is."""

import pytest

from tasks.models import Task
from tests.factories import (
    AUDIO_CONFIG,
    HTML_CONFIG,
    IMAGE_CONFIG,
    MEDIA_CONFIG,
    TEXT_CONFIG,
    import_url,
    upload,
)

pytestmark = pytest.mark.django_db

CONFIGS = {
    "text": TEXT_CONFIG,
    "image": IMAGE_CONFIG,
    "audio": AUDIO_CONFIG,
    "html": HTML_CONFIG,
    "media": MEDIA_CONFIG,
    "paragraphs": """<View><Paragraphs name="dialog" value="$dialog" nameKey="speaker" textKey="phrase"/>
      <Choices name="c" toName="dialog"><Choice value="A"/></Choices></View>""",
    "dynamic": """<View><Text name="text" value="$text"/>
      <Choices name="c" toName="text" value="$options"/></View>""",
    "table_ts": """<View><Table name="table" value="$row"/><TimeSeries name="ts" value="$ts" valueType="url" timeColumn="time">
      <Channel column="value"/></TimeSeries><Choices name="c" toName="table"><Choice value="A"/></Choices></View>""",
    "video_pdf": """<View><Video name="video" value="$video"/><PDF name="pdf" value="$pdf"/>
      <Choices name="c" toName="video"><Choice value="A"/></Choices></View>""",
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_sample_task_fills_every_data_key_and_imports(api, make_project, name):
    project = make_project(CONFIGS[name], name)
    response = api.get(f"/api/projects/{project.pk}/sample-task")
    assert response.status_code == 200
    task = response.json()["sample_task"]
    assert set(task["data"]) >= set(project.parsed_config["data_keys"])
    imported = api.post(import_url(project), task, format="json")
    assert imported.status_code == 201, imported.content


def test_sample_shapes(api, make_project):
    project = make_project(CONFIGS["paragraphs"] + "", "p")
    data = api.get(f"/api/projects/{project.pk}/sample-task/").json()["sample_task"]["data"]
    assert set(data["dialog"][0]) == {"speaker", "phrase"}
    project = make_project(CONFIGS["dynamic"], "d")
    data = api.get(f"/api/projects/{project.pk}/sample-task/").json()["sample_task"]["data"]
    assert data["options"][0] == {"value": "Option A"}
    project = make_project(MEDIA_CONFIG, "m")
    data = api.get(f"/api/projects/{project.pk}/sample-task/").json()["sample_task"]["data"]
    assert isinstance(data["images"], list) and data["image"].endswith(".png")


def test_sample_task_for_an_unsaved_config(api, project):
    response = api.post(
        f"/api/projects/{project.pk}/sample-task", {"label_config": IMAGE_CONFIG}, format="json"
    )
    assert response.status_code == 200 and "image" in response.json()["sample_task"]["data"]
    bad = api.post(
        f"/api/projects/{project.pk}/sample-task", {"label_config": "<View><Nope"}, format="json"
    )
    assert bad.status_code == 400


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "tsv", "txt"])
def test_sample_file_round_trips(api, project, fmt):
    response = api.get(f"/api/projects/{project.pk}/sample-file?format={fmt}")
    assert response.status_code == 200
    assert f"sample-{project.pk}.{fmt}" in response["Content-Disposition"]
    imported = upload(api, project, f"sample.{fmt}", response.content)
    assert imported.status_code == 201, imported.content
    assert imported.json()["task_count"] == 3
    assert Task.objects.filter(project=project).count() == 3


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "tsv"])
def test_sample_files_for_a_media_config(api, make_project, fmt):
    project = make_project(IMAGE_CONFIG)
    content = api.get(f"/api/projects/{project.pk}/sample-file", {"format": fmt}).content
    assert upload(api, project, f"s.{fmt}", content).status_code == 201


def test_txt_sample_needs_one_data_key(api, make_project):
    project = make_project(MEDIA_CONFIG)
    response = api.get(f"/api/projects/{project.pk}/sample-file?format=txt")
    assert response.status_code == 400 and "one data key" in response.json()["detail"]
    assert api.get(f"/api/projects/{project.pk}/sample-file?format=xml").status_code == 400


def test_samples_need_membership(client_for, outsider, annotator, project):
    assert client_for(outsider).get(f"/api/projects/{project.pk}/sample-task").status_code == 404
    assert client_for(annotator).get(f"/api/projects/{project.pk}/sample-file").status_code == 200
