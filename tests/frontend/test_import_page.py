"""The new project's import step page, server side (test_import_flow drives it in Chromium)."""

import pytest
from django.test import Client

from importers.sources import accepted_extensions

pytestmark = pytest.mark.django_db


def page(user, url):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client.get(url)


def test_admins_get_the_import_step(owner, project):
    response = page(owner, f"/projects/{project.pk}/import?created=1")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'accept="{",".join(accepted_extensions())}"' in html
    assert f'href="/projects/{project.pk}/settings?created=1#config"' in html
    assert 'aria-current="step">Import data' in html
    assert "POST /api" not in html


@pytest.mark.parametrize(
    ("who", "status"), [("reviewer", 403), ("annotator", 403), ("outsider", 404)]
)
def test_others_do_not(request, project, who, status):
    user = request.getfixturevalue(who)
    assert page(user, f"/projects/{project.pk}/import").status_code == status


def test_anonymous_is_sent_to_log_in(project):
    response = page(None, f"/projects/{project.pk}/import")
    assert response.status_code == 302 and "/user/login/" in response["Location"]


def test_the_settings_page_has_no_api_banner(owner, project):
    html = page(owner, f"/projects/{project.pk}/settings?created=1").content.decode()
    assert "POST /api/projects" not in html and "data-created-notice" in html
