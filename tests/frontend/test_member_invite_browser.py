"""In the browser (issue #24 row 11): an admin adds one person who has an account and one
who has none; the page answers and lists both alike; the person added sees the project
and leaves it from the projects page."""

import os

import pytest

from projects.models import ProjectMember
from tests.factories import TEXT_CONFIG

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("LABELHUB_SCREENSHOTS", "/tmp/labelhub-screenshots")


def test_invite_alike_then_leave(page, browser, live_server, make_project, owner, make_user):
    victim = make_user("victim@example.com")
    project, _ = make_project(TEXT_CONFIG, [{"text": "a"}])
    os.makedirs(SHOTS, exist_ok=True)

    page.login(owner)
    for email in ("victim@example.com", "ghost@example.com"):
        page.open(f"/projects/{project.pk}/settings#members")
        page.fill("#id_email", email)
        page.click("form.member-add button[type=submit]")
        page.wait_for_url(f"**/projects/{project.pk}/settings?saved=members*")
    rows = page.locator("table.members tr[data-member]")
    texts = sorted(rows.all_inner_texts())
    assert any("victim@example.com (invited)" in t for t in texts), texts
    assert any("ghost@example.com (invited)" in t for t in texts), texts
    assert "No user has this email" not in page.content()
    page.screenshot(path=f"{SHOTS}/members-invited.png", full_page=True)

    context = browser.new_context(viewport={"width": 1280, "height": 860})
    theirs = context.new_page()
    theirs.goto(live_server.url + "/user/login/")
    theirs.fill("#id_email", victim.email)
    theirs.fill("#id_password", "pass-word-1")
    theirs.click("button[type=submit]")
    theirs.wait_for_url(live_server.url + "/projects/")
    card = theirs.locator(f'li.project-card[data-project="{project.pk}"]')
    assert card.count() == 1
    theirs.screenshot(path=f"{SHOTS}/projects-leave.png", full_page=True)
    card.locator(f'button[data-leave="{project.pk}"]').click()
    theirs.wait_for_url(live_server.url + "/projects/")
    assert theirs.locator(f'li.project-card[data-project="{project.pk}"]').count() == 0
    context.close()
    assert not ProjectMember.objects.filter(project=project, user=victim).exists()
