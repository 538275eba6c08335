"""Small page fixes: the Color fields are colour pickers (settings and create forms), and
a failed members action does not keep the last success's "Saved."."""

import re

import pytest

from projects.models import Project
from tests.factories import TEXT_CONFIG

pytestmark = pytest.mark.django_db


def _color_input(html: str) -> str:
    match = re.search(r'<input[^>]*name="color"[^>]*>', html)
    assert match, "no color input"
    return match.group(0)


def test_color_fields_are_colour_pickers(client, owner, project):
    client.force_login(owner)
    Project.objects.filter(pk=project.pk).update(color="#ABC")
    settings_input = _color_input(client.get(f"/projects/{project.pk}/settings").content.decode())
    assert 'type="color"' in settings_input and 'value="#aabbcc"' in settings_input

    create_input = _color_input(client.get("/projects/new").content.decode())
    assert 'type="color"' in create_input
    response = client.post(
        "/projects/new",
        {"title": "Coloured", "color": "#ff8800", "label_config": TEXT_CONFIG},
    )
    assert response.status_code == 302, response.content
    assert Project.objects.get(title="Coloured").color == "#ff8800"


def test_a_failed_members_action_drops_the_old_saved(client, owner, project):
    client.force_login(owner)
    url = f"/projects/{project.pk}/settings?saved=members"
    assert "Saved." in client.get(url).content.decode()
    failed = client.post(
        url, {"section": "member", "user": owner.pk, "remove": "on"}
    ).content.decode()
    assert "A project keeps at least one admin." in failed
    assert "Saved." not in failed
