"""Issue #26 pages without a browser: who may open them, and bad input answered with a
message, never a 500."""

import pytest
from django.test import Client

from projects.models import Project

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_people_page_is_for_staff(annotator, staff):
    assert signed_in(annotator).get("/people/").status_code == 403
    assert Client().get("/people/").status_code == 302  # to the login page
    page = signed_in(staff).get("/people/")
    assert page.status_code == 200 and b"/user/signup/?token=" in page.content


def test_people_actions_refuse_bad_input(staff, annotator):
    client = signed_in(staff)
    for value in ("abc", "99999999999999999999", ""):
        page = client.post("/people/", {"action": "deactivate", "user": value})
        assert page.status_code == 200 and b"does not exist" in page.content
    page = client.post("/people/", {"action": "deactivate", "user": staff.pk})
    assert b"cannot delete yourself" in page.content
    staff.refresh_from_db()
    assert staff.is_active
    page = client.post(
        "/people/", {"action": "create", "email": annotator.email, "password": "a-long-pass-1"}
    )
    assert b"already taken" in page.content


def test_account_page_shows_the_token(annotator):
    page = signed_in(annotator).get("/user/account")
    assert page.status_code == 200
    assert annotator.auth_token.key.encode() in page.content


def test_delete_needs_the_exact_title_and_the_manage_right(project, owner, annotator):
    url = f"/projects/{project.pk}/settings"
    assert (
        signed_in(annotator).post(url, {"section": "delete", "confirm": project.title}).status_code
        == 403
    )
    wrong = signed_in(owner).post(url, {"section": "delete", "confirm": "not it"})
    assert wrong.status_code == 200 and b"Type the title exactly" in wrong.content
    assert Project.objects.filter(pk=project.pk).exists()
    done = signed_in(owner).post(url, {"section": "delete", "confirm": project.title})
    assert done.status_code == 302 and done["Location"].startswith("/projects/?deleted=")
    assert not Project.objects.filter(pk=project.pk).exists()


def test_quality_section_refuses_another_users_project(project, owner, make_user, make_project):
    from projects.services import project_create

    stranger = make_user("stranger@example.com", staff=True)
    theirs = project_create(user=stranger, title="Theirs", label_config=project.label_config)
    page = signed_in(owner).post(
        f"/projects/{project.pk}/settings",
        {
            "section": "quality",
            "benchmark_project": theirs.pk,
            "benchmark_first": 0,
            "benchmark_rate": 0,
            "agreement_threshold": 0.5,
        },
    )
    assert page.status_code == 200
    project.refresh_from_db()
    assert project.benchmark_project_id is None


def test_quality_section_links_a_benchmark_project(project, owner):
    """The page's Quality save links the benchmark project's gold tasks, as the API's
    does (it called the link without its user: a 500)."""
    from annotations.services import annotation_create
    from importers.services import tasks_import
    from projects.services import project_create
    from tasks.models import Task
    from tests.factories import choice

    gold = project_create(user=owner, title="Gold", label_config=project.label_config)
    task_id = tasks_import(project=gold, records=[{"text": "g"}], user=owner).task_ids[0]
    annotation_create(
        task=Task.objects.get(pk=task_id),
        user=owner,
        result=choice("Positive"),
        ground_truth=True,
    )
    page = signed_in(owner).post(
        f"/projects/{project.pk}/settings",
        {
            "section": "quality",
            "benchmark_project": gold.pk,
            "benchmark_first": 1,
            "benchmark_rate": 0,
            "agreement_threshold": 0.5,
        },
    )
    assert page.status_code == 302 and "saved=quality" in page["Location"]
    assert Task.objects.filter(project=project, is_benchmark=True).count() == 1


def test_settings_sections_are_named_or_general():
    from frontend.settings_service import settings_section

    assert settings_section("quality") == "quality"
    assert settings_section(None, "labeling") == "config"
    assert settings_section("nonsense") == "general"
    assert settings_section(None, None) == "general"
