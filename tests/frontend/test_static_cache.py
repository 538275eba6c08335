"""The editors' files go over the wire gzipped and are kept by the browser: their folders
are named by the pinned version (scripts/fetch_editor*.sh), so WhiteNoise serves them as
immutable; LabelHub's own static files keep a short max-age."""

from pathlib import Path

import pytest
from django.conf import settings

STATIC = Path(__file__).resolve().parents[2] / "frontend" / "static"


pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("editor,name", [("1.23", "runtime.js"), ("1.4", "main.css")])
def test_an_editor_file_is_gzipped_and_immutable(client, editor, name):
    folder = settings.LABELHUB_EDITOR_FILES[editor]
    if not (STATIC / folder / name).exists():
        pytest.skip(f"{folder} is not installed (scripts/setup.sh)")
    response = client.get(f"/static/{folder}{name}", HTTP_ACCEPT_ENCODING="gzip, br")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "immutable" in response["Cache-Control"]
    assert "max-age=315360000" in response["Cache-Control"]


def test_the_label_page_names_the_versioned_folder(client, project, annotator):
    client.force_login(annotator)
    page = client.get(f"/projects/{project.pk}/label").content.decode()
    assert f"/static/{settings.LABELHUB_EDITOR_FILES[settings.LABELHUB_EDITOR]}" in page


def test_our_own_files_are_not_immutable(client):
    response = client.get("/static/frontend/editor.js")
    assert response.status_code == 200
    assert "immutable" not in response["Cache-Control"]
