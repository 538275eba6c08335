"""The migration page's invite links and the invite page, in Chromium (CSP checked)."""

import os

import pytest

from importers.lsmigrate.service import migrate
from importers.models import MigrationJob
from tests.importers.lsfake import LEGACY, FakeLabelStudio

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = os.environ.get("LABELHUB_SCREENSHOTS")  # a folder: save what the pages look like


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def test_invite_links_listed_and_used(page, make_user, settings, live_server):
    settings.LABELHUB_SSRF_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.LABELHUB_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.LABELHUB_HOSTNAME = live_server.url
    admin = make_user("staff@example.com", staff=True)
    with FakeLabelStudio() as fake:
        report = migrate(url=fake.url, token=LEGACY, user=admin, project_ids=[1])
        job = MigrationJob.objects.create(
            created_by=admin,
            url=fake.url,
            status=MigrationJob.Status.COMPLETED,
            report="\n".join(report.lines(with_links=False)),
        )
    page.login(admin)
    page.open(f"/projects/migrate?job={job.pk}")
    rows = page.locator("[data-migration-invite-rows] tr")
    rows.first.wait_for()
    assert rows.count() == 3
    _shot(page, "migrate-invites.png")
    link = page.locator("[data-migration-invite-rows] tr", has_text="cy@example.com").locator(
        "code"
    )
    url = link.inner_text()
    assert url.startswith(live_server.url + "/user/invite/")

    page.context.clear_cookies()
    page.page.goto(url)
    assert "cy@example.com" in page.locator("main, body").first.inner_text()
    _shot(page, "invite.png")
    page.fill("#id_password", "a-long-pass-1")
    page.fill("#id_password2", "a-long-pass-1")
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/projects/")
    page.page.goto(url)
    assert "not valid" in page.locator("body").inner_text()
