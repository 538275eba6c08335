"""The config check follows the embedded editor (LABELHUB_EDITOR): every tag it shows is
accepted, every tag it cannot show is refused at save with a message that names it."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from projects import label_config_tags as tags
from projects.label_config import editor_unsupported_tags
from projects.models import Project

STATIC = Path(__file__).resolve().parents[2] / "frontend" / "static"

VIDEO_TRACKING = """<View>
  <Labels name="videoLabels" toName="video"><Label value="Car"/></Labels>
  <Video name="video" value="$video" framerate="25"/>
  <VideoRectangle name="box" toName="video"/>
</View>"""
TIMELINE = """<View>
  <Video name="video" value="$video"/>
  <TimelineLabels name="events" toName="video"><Label value="Run"/></TimelineLabels>
</View>"""
PDF = """<View><PDF name="pdf" value="$pdf"/>
  <Choices name="kind" toName="pdf"><Choice value="Invoice"/></Choices></View>"""
CHAT = """<View><Chat name="chat" value="$chat"/>
  <TextArea name="reply" toName="chat"/></View>"""


def registry_tags(bundle: Path) -> set[str]:
    """The config tags a built editor registers (its ``*region`` models are internal)."""
    found = set(re.findall(r'addTag\("([a-z]+)"', bundle.read_text(errors="replace")))
    return {name for name in found if not name.endswith("region")} | {"repeater"}


@pytest.mark.parametrize(
    "editor,bundle",
    [
        ("1.23", STATIC / settings.LABELHUB_EDITOR_FILES["1.23"] / "358.js"),
        ("1.4", STATIC / settings.LABELHUB_EDITOR_FILES["1.4"] / "main.js"),
    ],
)
def test_the_tag_table_is_the_bundles_registry(editor, bundle):
    if not bundle.exists():
        pytest.skip(f"{bundle} is not installed (scripts/setup.sh)")
    assert set(tags.EDITOR_TAGS[editor]) == registry_tags(bundle)


def test_every_tag_the_editor_shows_passes_the_editor_check():
    for editor, known in tags.EDITOR_TAGS.items():
        config = "<View>" + "".join(f"<{tag}/>" for tag in known.values()) + "</View>"
        assert editor_unsupported_tags(config, editor=editor) == []


@pytest.mark.django_db
@pytest.mark.parametrize("config", [VIDEO_TRACKING, TIMELINE, PDF])
def test_new_tags_are_accepted_by_the_1_23_editor(api, settings, config):
    settings.LABELHUB_EDITOR = "1.23"
    response = api.post("/api/projects/", {"title": "new", "label_config": config}, format="json")
    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_a_tag_the_editor_cannot_show_is_refused_with_its_name(api, settings):
    settings.LABELHUB_EDITOR = "1.23"
    response = api.post("/api/projects/", {"title": "chat", "label_config": CHAT}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["errors"][0]["field"] == "label_config"
    assert "cannot show <Chat>" in body["detail"] and "1.23.2" in body["detail"]
    assert not Project.objects.filter(title="chat").exists()
    check = api.post("/api/projects/validate/", {"label_config": CHAT}, format="json")
    assert check.status_code == 400 and "<Chat>" in check.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "config,tag",
    [(VIDEO_TRACKING, "<VideoRectangle>"), (TIMELINE, "<TimelineLabels>"), (PDF, "<PDF>")],
)
def test_the_1_4_fallback_refuses_what_it_cannot_show(api, settings, config, tag):
    settings.LABELHUB_EDITOR = "1.4"
    response = api.post("/api/projects/", {"title": "old", "label_config": config}, format="json")
    assert response.status_code == 400
    assert f"cannot show {tag}" in response.json()["detail"]


@pytest.mark.django_db
def test_update_refuses_too_and_keeps_the_old_config(api, settings):
    settings.LABELHUB_EDITOR = "1.23"
    created = api.post("/api/projects/", {"title": "p", "label_config": PDF}, format="json")
    project = Project.objects.get(pk=created.json()["id"])
    response = api.patch(f"/api/projects/{project.pk}/", {"label_config": CHAT}, format="json")
    assert response.status_code == 400 and "<Chat>" in response.json()["detail"]
    project.refresh_from_db()
    assert "<PDF" in project.label_config
