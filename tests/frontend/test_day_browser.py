"""Issue #26 in a real browser (Chromium through playwright): a reviewer rejects with a
comment and the annotator reads it; an admin invites a user who signs up through the
link; an admin deletes a project and its media is gone; the account page; the Quality
settings with the API's messages. Screenshots go to $LABELHUB_SCREENSHOTS."""

import os
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotations.models import Review, ReviewRecord
from annotations.services import annotation_create
from projects.models import Project, ProjectMember
from projects.services import member_set
from tasks.models import Task
from tests.factories import IMAGE_CONFIG, TEXT_CONFIG, choice, upload
from tests.frontend.conftest import SUBMIT, Page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("LABELHUB_SCREENSHOTS", "/tmp/labelhub-screenshots"))
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def other_page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    return Page(context.new_page(), live_server.url)


def test_reviewer_rejects_with_a_comment_and_the_annotator_reads_it(
    page, browser, live_server, annotator, reviewer, make_project
):
    reviewer.first_name, reviewer.last_name = "Rita", "Reviewer"
    reviewer.save()
    project, ids = make_project(
        TEXT_CONFIG, [{"text": "I loved it"}, {"text": "Meh"}], members=[annotator]
    )
    member_set(project=project, user=reviewer, role=ProjectMember.Role.REVIEWER)
    result = choice("Positive")
    annotation = annotation_create(task=Task.objects.get(pk=ids[0]), user=annotator, result=result)

    page.login(reviewer)
    page.open(f"/projects/{project.pk}/verify")
    page.wait_for_selector(f"[data-loaded-annotation='{annotation.pk}']", timeout=15000)
    page.click("[data-verdict=reject]")
    # an empty box asks for words first, and nothing is saved yet
    page.get_by_text("Say what to fix").wait_for()
    assert not Review.objects.exists()
    page.fill("[data-verify-comment]", "The first sentence is sarcastic: Negative.")
    shot(page, "day-verify-reject-comment")
    page.press("[data-verify-comment]", "Control+Enter")
    page.get_by_text(f"Rejected #{annotation.pk} with your comment").wait_for()
    review = Review.objects.get()
    assert (review.accepted, review.comment) == (
        False,
        "The first sentence is sarcastic: Negative.",
    )

    author = other_page(browser, live_server)
    author.login(annotator)
    author.open_editor(f"/projects/{project.pk}/label")
    banner = author.locator(".rework-note")
    banner.wait_for()
    assert "Rita Reviewer" in banner.inner_text()
    assert "The first sentence is sarcastic: Negative." in banner.inner_text()
    assert author.get_attribute("[data-task-id]", "data-task-id") == str(ids[0])
    shot(author, "day-rework-banner")
    author.page.context.close()
    assert author.problems == []

    # the annotator reworks it (the API's PATCH, as the editor's Update does)
    token, _ = Token.objects.get_or_create(user=annotator)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    fixed = client.patch(
        f"/api/annotations/{annotation.pk}/", {"result": choice("Negative")}, format="json"
    )
    assert fixed.status_code == 200
    assert ReviewRecord.objects.get().reworked_at is not None

    # the reviewer sees it again with its history, and why the count went back
    page.open(f"/projects/{project.pk}/verify")
    page.wait_for_selector(f"[data-loaded-annotation='{annotation.pk}']", timeout=15000)
    history = page.locator("[data-verify-history]")
    assert history.is_visible()
    text = history.inner_text()
    assert "Rejected by Rita Reviewer" in text and "sarcastic" in text and "reworked" in text
    assert "came back reworked" in page.inner_text("[data-verify-moved]")
    assert page.inner_text("[data-verify-count]") == "0 of 1 reviewed"
    shot(page, "day-verify-history")
    # the Data Manager's Review column keeps it too
    page.open(f"/projects/{project.pk}/data")
    assert page.inner_text("[data-reworked]") == "↺ 1 reworked"


def test_admin_invites_a_user_who_signs_up(page, browser, live_server, staff):
    page.login(staff)
    page.click("[data-nav=people]")
    page.wait_for_url(re.compile(r".*/people/$"))
    link = page.input_value("[data-invite-url]")
    assert "/user/signup/?token=" in link
    shot(page, "day-people")

    newcomer = other_page(browser, live_server)
    newcomer.goto(link)
    newcomer.fill("#id_email", "newcomer@example.com")
    newcomer.fill("#id_password", "a-good-pass-word")
    newcomer.click("button[type=submit]")
    newcomer.wait_for_url(live_server.url + "/projects/")
    newcomer.page.context.close()
    user = get_user_model().objects.get(email="newcomer@example.com")
    assert user.is_active and not user.is_staff

    # the admin sees them, creates another user, and deactivates the newcomer
    page.reload()
    assert page.locator("tr[data-person='newcomer@example.com']").is_visible()
    page.fill("#id_email", "made@example.com")
    page.fill("#id_first_name", "Made")
    page.fill("#id_last_name", "Byhand")
    page.fill("#id_password", "short")
    page.click("#create button[type=submit]")
    assert "too short" in page.inner_text("#create")  # Django's password rules
    page.fill("#id_password", "another-good-pass")
    page.click("#create button[type=submit]")
    page.get_by_text("made@example.com can sign in now").wait_for()
    assert page.inner_text("tr[data-person='made@example.com'] .avatar") == "MB"
    page.click("[data-deactivate='newcomer@example.com']")
    dialog = page.locator("dialog[data-lh-dialog]")
    dialog.wait_for()
    shot(page, "day-people-deactivate-dialog")
    dialog.locator("[data-lh-dialog-ok]").click()
    page.get_by_text("newcomer@example.com is deactivated").wait_for()
    user.refresh_from_db()
    assert not user.is_active
    assert "deactivated" in page.inner_text("tr[data-person='newcomer@example.com']")
    shot(page, "day-people-after")


def test_admin_deletes_a_project_and_its_media_is_gone(page, staff, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    from projects.services import project_create

    project = project_create(user=staff, title="Photos 2026", label_config=IMAGE_CONFIG)
    token, _ = Token.objects.get_or_create(user=staff)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    for name in ("a.png", "b.png", "c.png"):
        assert upload(client, project, name, PNG).status_code == 201
    folder = tmp_path / "media" / "upload" / str(project.pk)
    assert len(list(folder.iterdir())) == 3

    page.login(staff)
    page.open(f"/projects/{project.pk}/settings#delete")
    button = page.locator("[data-delete-project]")
    assert button.is_disabled()
    page.fill("[data-delete-confirm]", "Photos")
    assert button.is_disabled()
    page.fill("[data-delete-confirm]", "Photos 2026")
    shot(page, "day-delete-project")
    button.click()
    page.wait_for_url(re.compile(r".*/projects/\?deleted=.*"))
    assert "Photos 2026" in page.inner_text("[data-deleted-notice]")
    assert not Project.objects.filter(pk=project.pk).exists()
    assert not folder.exists()
    shot(page, "day-deleted-notice")


def test_account_page_name_token_and_access_tokens(page, annotator):
    page.login(annotator)
    page.click("[data-account-link]")
    page.wait_for_url(re.compile(r".*/user/account$"))
    page.fill("#id_first_name", "Ann")
    page.fill("#id_last_name", "Otator")
    page.click("#name button[type=submit]")
    page.get_by_text("Saved.").wait_for()
    assert page.inner_text("[data-initials]") == "AO"
    old = Token.objects.get(user=annotator).key
    assert page.input_value("[data-api-token]") == old
    page.click("[data-token-reset]")
    page.locator("dialog[data-lh-dialog] [data-lh-dialog-ok]").click()
    page.get_by_text("A new token is in place").wait_for()
    new = Token.objects.get(user=annotator).key
    assert new != old and page.input_value("[data-api-token]") == new
    page.click("[data-pat-create]")
    page.get_by_text("Copy it now").wait_for()
    assert page.input_value("[data-pat-value]").count(".") == 2
    shot(page, "day-account")


def test_quality_settings_show_the_apis_messages(page, staff):
    from projects.services import project_create

    project = project_create(user=staff, title="Q", label_config=TEXT_CONFIG)
    other = project_create(user=staff, title="Other config", label_config=IMAGE_CONFIG)
    page.login(staff)
    page.open(f"/projects/{project.pk}/settings#quality")
    form = page.locator("[data-quality-form]")
    form.locator("#id_benchmark_rate").fill("1.5")
    form.locator("button[type=submit]").click()
    page.get_by_text("must be a number from 0 to 1").wait_for()
    form = page.locator("[data-quality-form]")
    form.locator("#id_benchmark_rate").fill("0.2")
    form.locator("#id_benchmark_project").select_option(str(other.pk))
    form.locator("button[type=submit]").click()
    page.get_by_text(f"project {other.pk} has a different labeling config").wait_for()
    form = page.locator("[data-quality-form]")
    form.locator("#id_benchmark_project").select_option("")
    form.locator("#id_benchmark_rate").fill("0.2")
    form.locator("#id_benchmark_first").fill("3")
    form.locator("#id_agreement_threshold").fill("0.7")
    form.locator("#id_reassign_low_agreement").check()
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*saved=quality.*"))
    project.refresh_from_db()
    assert (project.benchmark_rate, project.benchmark_first) == (0.2, 3)
    assert (project.agreement_threshold, project.reassign_low_agreement) == (0.7, True)
    shot(page, "day-quality-settings")


def test_import_form_resets_and_warns_about_files_imported_before(page, owner, tmp_path):
    from projects.services import project_create

    project = project_create(user=owner, title="Tickets", label_config=TEXT_CONFIG)
    first = tmp_path / "monday.json"
    first.write_text('[{"text": "a"}, {"text": "b"}]')
    second = tmp_path / "tuesday.json"
    second.write_text('[{"text": "c"}]')
    page.login(owner)
    page.open(f"/projects/{project.pk}/import")
    page.set_input_files("[data-import-files]", str(first))
    page.click("[data-import-submit]")
    page.wait_for_selector("[data-import-form][data-imported='2']", timeout=15000)
    # the form is empty again: a second click imports nothing twice
    assert page.evaluate("document.querySelector('[data-import-files]').files.length") == 0

    page.set_input_files("[data-import-files]", [str(first), str(second)])
    page.click("[data-import-submit]")
    box = page.locator("[data-import-dupes]")
    box.wait_for()
    assert "1 of 2 chosen files were imported into this project before" in box.inner_text()
    assert "monday.json" in box.inner_text()
    assert Task.objects.filter(project=project).count() == 2  # nothing sent yet
    shot(page, "day-import-duplicates")
    page.click("[data-import-skip-dupes]")
    page.wait_for_selector("[data-import-form][data-imported='1']", timeout=15000)
    assert sorted(Task.objects.filter(project=project).values_list("data__text", flat=True)) == [
        "a",
        "b",
        "c",
    ]
    # all of them again, and cancel: nothing is imported
    page.set_input_files("[data-import-files]", [str(first), str(second)])
    page.click("[data-import-submit]")
    page.get_by_text("Every chosen file was imported into this project before").wait_for()
    page.click("[data-import-cancel]")
    assert page.locator("[data-import-dupes]").is_hidden()
    assert Task.objects.filter(project=project).count() == 3


def test_bulk_action_asks_in_page_and_its_result_line_stays(page, owner, annotator, make_project):
    project, ids = make_project(TEXT_CONFIG, [{"text": f"t{i}"} for i in range(3)])
    for task_id in ids:
        annotation_create(task=Task.objects.get(pk=task_id), user=owner, result=choice("Positive"))
    page.login(owner)
    page.open(f"/projects/{project.pk}/data?order=tasks:id")
    page.wait_for_function("() => document.querySelector('[data-found]')?.dataset.count === '3'")
    page.check("[data-select-page]")
    page.click("[data-select-all-found]")
    page.select_option("[data-action-select]", "mark_ground_truth")
    page.click("[data-run-action]")
    dialog = page.locator("dialog[data-lh-dialog]")
    assert "3 selected tasks" in dialog.inner_text()
    shot(page, "day-dm-action-dialog")
    with page.expect_navigation():
        dialog.locator("[data-lh-dialog-ok]").click()
    line = page.locator("[data-action-result]")
    line.wait_for()
    assert "Marked 3 completions as ground truth" in line.inner_text()
    shot(page, "day-dm-action-result")
    # a cancelled dialog runs nothing
    page.check("[data-select-page]")
    page.select_option("[data-action-select]", "unmark_ground_truth")
    page.click("[data-run-action]")
    page.locator("dialog[data-lh-dialog] button", has_text="Cancel").click()
    assert page.locator("dialog[data-lh-dialog]").count() == 0
    from annotations.models import Annotation

    assert Annotation.objects.filter(project=project, ground_truth=True).count() == 3


def test_stream_progress_instructions_unskip_and_labels(page, annotator, make_project):
    from annotations.models import Annotation
    from frontend.label_templates import BY_KEY

    project, ids = make_project(
        BY_KEY["text-classification"]["config"],
        [{"text": f"Review {i}: it was fine."} for i in range(3)],
        members=[annotator],
        expert_instruction="<p>Pick <b>Positive</b> for praise.</p><script>alert(1)</script>",
    )
    page.login(annotator)
    page.open_editor(f"/projects/{project.pk}/label")
    # instructions open first on a new project, cleaned; closed, they stay on demand
    panel = page.locator("#stream-instructions")
    assert panel.is_visible() and "Pick Positive for praise." in panel.inner_text()
    assert "alert" not in panel.inner_html()
    assert page.inner_text("#stream-progress") == "0 of 3 done"
    shot(page, "day-stream-instructions")
    page.click("#stream-instructions-close")
    assert panel.is_hidden()
    page.reload()
    page.wait_for_selector("body.editor-ready", timeout=15000)
    assert page.locator("#stream-instructions").is_hidden()  # once per project
    page.click("#stream-instructions-toggle")
    assert page.locator("#stream-instructions").is_visible()
    page.click("#stream-instructions-close")

    page.choose("Positive")
    page.submit()
    assert page.inner_text("#stream-progress") == "1 of 3 done"
    page.skip()
    assert page.inner_text("#stream-progress") == "1 of 3 done"  # a skip is not done
    skipped = Annotation.objects.get(task_id=ids[1], completed_by=annotator)
    assert skipped.was_cancelled

    # Back reopens the skip; choosing and Update un-skips it
    page.click("#stream-back")
    page.wait_for_function(
        "(id) => document.querySelector('[data-task-id]')?.dataset.taskId === id", arg=str(ids[1])
    )
    page.locator(".history-note").wait_for()
    page.choose("Negative")
    shot(page, "day-stream-unskip")
    with page.expect_response(lambda r: r.request.method == "PATCH") as patched:
        page.locator(SUBMIT).first.click()  # Update, in either editor
    assert patched.value.status == 200
    skipped.refresh_from_db()
    assert not skipped.was_cancelled
    assert [r["value"]["choices"] for r in skipped.result] == [["Negative"]]
    page.wait_for_function(
        "() => document.querySelector('#stream-progress')?.textContent === '2 of 3 done'"
    )

    # "Updated. Next task…" goes once the next task is on screen
    page.wait_for_function(
        "() => !document.getElementById('editor-status').textContent.includes('Next task')",
        timeout=15000,
    )
    assert page.get_attribute("[data-task-id]", "data-task-id") == str(ids[2])
    # My annotations names the labels (opened once the bar has settled on the next task:
    # a click while it changes can land beside the button, as it did once under load)
    page.click("#stream-history")
    page.locator(".history-item").first.wait_for()
    titles = page.locator(".history-title").all_inner_texts()
    assert f"Task #{ids[0]} · Positive" in titles and f"Task #{ids[1]} · Negative" in titles
    shot(page, "day-stream-history-labels")
