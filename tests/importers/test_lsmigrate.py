"""The Label Studio migration against a fake Label Studio (recorded answers served on
loopback, tests/importers/lsfake): what it copies, re-runs, tokens, bad input."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.utils import timezone

from annotations.models import Annotation, Prediction
from datamanager.models import View
from importers.lsmigrate.client import MigrationError
from importers.lsmigrate.service import migrate
from importers.models import LabelStudioCopy
from ml.models import MLBackend
from projects.models import Project, ProjectMember
from tasks.models import Task
from tests.importers.lsfake import LEGACY, PAT, FakeLabelStudio

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fake(settings):
    settings.LABELHUB_SSRF_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.LABELHUB_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    with FakeLabelStudio() as server:
        yield server


@pytest.fixture
def admin(make_user):
    return make_user("staff@example.com", staff=True)


def _project(title: str) -> Project:
    return Project.objects.get(title=title)


def test_copies_everything_and_checks(fake, admin):
    report = migrate(url=fake.url, token=LEGACY, user=admin)
    assert report.ok, report.lines()
    sentiment, cars = _project("Sentiment"), _project("Cars")
    # settings
    assert sentiment.sampling == "uniform" and sentiment.maximum_annotations == 2
    assert sentiment.color == "#FF8800" and sentiment.show_skip_button is False
    assert sentiment.enable_empty_annotation is False
    assert sentiment.expert_instruction == "<b>Be careful</b>"
    # users by email; new ones without a usable password, listed
    User = get_user_model()
    bo = User.objects.get(email__iexact="bo@example.com")
    assert not bo.has_usable_password()
    assert set(report.new_users) == {"ada@example.com", "Bo@Example.com", "cy@example.com"}
    ada = User.objects.get(email="ada@example.com")
    assert sentiment.created_by == ada
    assert ProjectMember.objects.get(project=sentiment, user=ada).role == "admin"
    assert ProjectMember.objects.get(project=sentiment, user=bo).role == "annotator"
    # tasks, annotations, predictions with their fields
    tasks = list(Task.objects.filter(project=sentiment).order_by("id"))
    assert [t.data["text"] for t in tasks] == ["I love it", "I hate it", "So so"]
    assert tasks[0].meta == {"source": "fake"}
    assert tasks[0].created_at == datetime.datetime(2026, 11, 2, 10, tzinfo=datetime.UTC)
    assert [t.is_labeled for t in tasks] == [True, False, False]
    first = Annotation.objects.get(task=tasks[0], completed_by=bo)
    assert first.result[0]["value"] == {"choices": ["pos"]}
    assert first.lead_time == 12.5
    assert first.created_at == datetime.datetime(2026, 11, 4, 10, tzinfo=datetime.UTC)
    prediction = Prediction.objects.get(task=tasks[0])
    assert (prediction.model_version, prediction.score) == ("v1", 0.9)
    assert first.parent_prediction_id == prediction.pk
    skipped = Annotation.objects.get(task=tasks[1], was_cancelled=True)
    assert skipped.completed_by.email == "cy@example.com"
    assert sentiment.__class__.objects.get(pk=sentiment.pk).total_annotations_number == 3
    assert Annotation.objects.get(project=cars).ground_truth is True
    # the uploaded file was downloaded and the data points at LabelHub's copy
    image = Task.objects.get(project=cars).data["image"]
    assert image.startswith(f"/data/upload/{cars.pk}/") and image.endswith("car.png")
    assert default_storage.open(f"upload/{cars.pk}/{image.rsplit('/', 1)[1]}").read(4) == b"\x89PNG"
    # tabs and ML backends
    views = list(View.objects.filter(project=sentiment).order_by("order"))
    assert [v.data["title"] for v in views] == ["Positive", "All"]
    assert views[0].data["filters"]["items"][0]["filter"] == "filter:tasks:total_annotations"
    assert views[1].user == bo
    assert MLBackend.objects.get(project=sentiment).url == "http://ml.example.com:9090"
    from webhooks.models import Webhook

    hook = Webhook.objects.get(project=sentiment)
    assert (hook.url, hook.send_for_all_actions, hook.headers) == (
        "http://127.0.0.1:18899/hook",
        False,
        {"X-Team": "a"},
    )
    # the draft came across with its author, task and result (annotations' migration step)
    from annotations.models import AnnotationDraft

    draft = AnnotationDraft.objects.get(project=sentiment)
    assert draft.task.project_id == sentiment.pk and draft.result
    # the check: counts (drafts included) and the result checksum agree
    by_title = {p.title: p for p in report.projects}
    assert by_title["Sentiment"].lh_counts["drafts"] == by_title["Sentiment"].ls_counts["drafts"]
    assert by_title["Sentiment"].ls_counts["tasks"] == 3
    assert by_title["Sentiment"].lh_counts["annotations"] == 4
    assert (
        by_title["Sentiment"].ls_counts["result checksum"]
        == (by_title["Sentiment"].lh_counts["result checksum"])
    )


def test_second_run_copies_nothing_then_exactly_one(fake, admin):
    migrate(url=fake.url, token=LEGACY, user=admin)
    rows = LabelStudioCopy.objects.count()
    again = migrate(url=fake.url, token=LEGACY, user=admin)
    assert again.ok, again.lines()
    assert sum(again.copied.values()) == 0, again.copied
    assert LabelStudioCopy.objects.count() == rows
    assert Task.objects.count() == 4 and Annotation.objects.count() == 5
    fake.add_annotation(
        1,
        2,
        {
            "id": 105,
            "completed_by": 3,
            "result": [
                {
                    "id": "n1",
                    "from_name": "sentiment",
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": ["neg"]},
                }
            ],
            "was_cancelled": False,
            "ground_truth": False,
            "lead_time": 2.0,
            "created_at": "2026-11-09T10:00:00Z",
            "updated_at": "2026-11-09T10:00:00Z",
            "parent_prediction": None,
            "parent_annotation": 103,
            "task": 13,
        },
    )
    third = migrate(url=fake.url, token=LEGACY, user=admin)
    assert third.ok, third.lines()
    assert third.copied == {"annotations": 1}
    added = Annotation.objects.get(result__0__id="n1")
    assert added.parent_annotation.result[0]["value"] == {"choices": ["neg"]}
    task = added.task
    assert task.data["text"] == "So so" and task.total_annotations == 1


def test_personal_access_token_is_exchanged(fake, admin):
    report = migrate(url=fake.url, token=PAT, user=admin, project_ids=[1])
    assert report.ok and fake.refreshes == 1
    assert [p.title for p in report.projects] == ["Sentiment"]
    assert not Project.objects.filter(title="Cars").exists()


def test_wrong_token_and_unreachable_url(fake, admin):
    with pytest.raises(MigrationError, match="refused the token"):
        migrate(url=fake.url, token="wrong", user=admin)
    with pytest.raises(MigrationError, match="did not accept the personal access token"):
        migrate(url=fake.url, token=PAT[:-2] + "xx", user=admin)
    with pytest.raises(MigrationError, match="Cannot reach Label Studio"):
        migrate(url="http://127.0.0.1:9", token=LEGACY, user=admin)
    # stopped before anything was written: no project, no user, no record
    assert not Project.objects.exists() and not LabelStudioCopy.objects.exists()
    assert get_user_model().objects.count() == 1


def test_loopback_refused_unless_allowed(settings, admin):
    settings.LABELHUB_SSRF_ALLOWED_HOSTS = []
    with pytest.raises(MigrationError, match="LABELHUB_SSRF_ALLOWED_HOSTS"):
        migrate(url="http://127.0.0.1:18899", token=LEGACY, user=admin)


def test_bad_task_rolls_back_that_project_only(fake, admin):
    fake.state["tasks"]["1"][1]["annotations"][0]["result"][0]["value"] = {"choices": ["nope"]}
    report = migrate(url=fake.url, token=LEGACY, user=admin)
    failed = {p.title: p for p in report.projects}["Sentiment"]
    assert not report.ok
    assert 'project "Sentiment" (Label Studio id 1)' in failed.error
    assert "task 12" in failed.error
    assert not Project.objects.filter(title="Sentiment").exists()
    assert not LabelStudioCopy.objects.filter(ls_project=1).exists()
    assert Task.objects.filter(project__title="Cars").count() == 1


def test_bad_config_is_named(fake, admin):
    fake.state["projects"][1]["label_config"] = "<View><Image name='image' value='$image'/>"
    report = migrate(url=fake.url, token=LEGACY, user=admin, project_ids=[2])
    assert 'project "Cars" (Label Studio id 2)' in report.projects[0].error
    assert not Project.objects.exists() and not Task.objects.exists()
    assert not LabelStudioCopy.objects.exclude(kind="user").exists()


def test_bad_task_after_a_file_download_leaves_no_file(fake, admin):
    box = fake.state["tasks"]["2"][0]["annotations"][0]["result"][0]
    box["value"]["rectanglelabels"] = ["Bicycle"]
    report = migrate(url=fake.url, token=LEGACY, user=admin, project_ids=[2])
    error = report.projects[0].error
    assert 'project "Cars" (Label Studio id 2)' in error and "task 21" in error
    assert "Bicycle" in error
    assert not Project.objects.exists()
    folders, files = (
        default_storage.listdir("upload") if default_storage.exists("upload") else ([], [])
    )
    assert all(not default_storage.listdir(f"upload/{f}")[1] for f in folders) and not files


def test_label_studio_failing_mid_project_is_named(fake, admin):
    answer = fake.answer

    def broken(path, query):
        if path == "/api/projects/2/export":
            return 500, {"detail": "Internal Server Error"}
        return answer(path, query)

    fake.answer = broken
    report = migrate(url=fake.url, token=LEGACY, user=admin)
    failed = {p.title: p for p in report.projects}
    assert failed["Sentiment"].error == ""
    assert "HTTP 500 on /api/projects/2/export" in failed["Cars"].error
    assert 'Project "Cars" (Label Studio 2): FAILED, nothing of it was written' in "\n".join(
        report.lines()
    )
    assert not Project.objects.filter(title="Cars").exists()
    assert Project.objects.filter(title="Sentiment").exists()
    # Label Studio is back: the next run continues with the project that failed
    fake.answer = answer
    resumed = migrate(url=fake.url, token=LEGACY, user=admin)
    assert resumed.ok, resumed.lines()
    by_title = {p.title: p for p in resumed.projects}
    assert sum(by_title["Sentiment"].copied.values()) == 0
    assert by_title["Cars"].copied["tasks"] == 1 and by_title["Cars"].copied["files"] == 1


def test_dry_run_keeps_nothing(fake, admin):
    report = migrate(url=fake.url, token=LEGACY, user=admin, dry_run=True)
    assert report.copied["tasks"] == 4 and report.copied["files"] == 1
    assert not Project.objects.exists() and not LabelStudioCopy.objects.exists()
    assert get_user_model().objects.count() == 1


def test_staff_page_runs_the_job_and_shows_progress(fake, admin, make_user, jobs_inline):
    from django.test import Client

    from importers.models import MigrationJob

    web = Client()
    web.force_login(make_user("someone@example.com"))
    assert web.get("/projects/migrate").status_code == 403
    web.force_login(admin)
    page = web.get("/projects/")
    assert b'href="/projects/migrate"' in page.content
    assert web.get("/projects/migrate").status_code == 200
    response = web.post(
        "/projects/migrate", {"url": fake.url, "token": LEGACY, "projects": "1", "dry_run": ""}
    )
    assert response.status_code == 302
    job = MigrationJob.objects.get()
    assert job.status == "completed", job.error
    assert job.token == ""  # blanked once finished
    assert 'Project "Sentiment"' in job.report and "Cars" not in job.report
    state = web.get(f"/projects/migrate/{job.pk}/status").json()
    assert state["status"] == "completed" and state["progress"]["projects_done"] == 1
    assert "token" not in state
    assert Task.objects.filter(project__title="Sentiment").count() == 3
    # invite links: made fresh for the page, never kept in the job's report
    assert {i["email"] for i in state["invites"]} == {
        "ada@example.com",
        "Bo@Example.com",
        "cy@example.com",
    }
    assert all("/user/invite/" in i["link"] for i in state["invites"])
    assert "/user/invite/" not in job.report and "3 person(s)" in job.report
    page = web.get(f"/projects/migrate?job={job.pk}").content.decode()
    assert "cy@example.com" in page and "/user/invite/" in page
    bad = web.post("/projects/migrate", {"url": "ftp://x", "token": LEGACY, "projects": ""})
    assert bad.status_code == 200 and b"must be http" in bad.content


def test_command_line(fake, admin, capsys):
    from labelhub.cli import main

    code = main(
        ["migrate-from-label-studio", "--url", fake.url, "--token", LEGACY, "--projects", "2"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert 'Project "Cars" (Label Studio 2 -> LabelHub' in out and "check: tasks 1" in out
    assert "ada@example.com" in out  # the new user, listed
    code = main(["migrate-from-label-studio", "--url", fake.url, "--token", "nope"])
    assert code == 1
    assert "refused the token" in capsys.readouterr().err


# ----------------------------------------------------------------------------- storages


@pytest.fixture
def files_root(settings, tmp_path, fake):
    """Local files under LABELHUB_LOCAL_FILES_ROOT, where the fake's local storage points;
    task 13's text becomes a file of that storage (as a Label Studio sync would make it)."""
    root = tmp_path / "files"
    (root / "sentiment").mkdir(parents=True)
    (root / "sentiment" / "a.txt").write_text("so so")
    settings.LABELHUB_LOCAL_FILES_ROOT = str(root)
    fake.state["storages"][1]["path"] = str(root / "sentiment")
    fake.state["tasks"]["1"][2]["data"]["text"] = "/data/local-files/?d=sentiment/a.txt"
    return root


def test_storages_copied_without_secrets_and_listed(fake, admin, files_root):
    from io_storages.models import ExportStorage, ImportStorage, ImportStorageLink

    report = migrate(url=fake.url, token=LEGACY, user=admin)
    assert report.ok, report.lines()
    sentiment, cars = _project("Sentiment"), _project("Cars")
    s3 = ImportStorage.objects.get(project=sentiment, kind="s3")
    assert (s3.title, s3.option("bucket"), s3.option("prefix"), s3.option("region_name")) == (
        "Raw reviews",
        "team-bucket",
        "in/",
        "eu-west-1",
    )
    assert (s3.regex_filter, s3.presign_ttl, s3.recursive_scan) == (".*json", 15, True)
    assert s3.credentials == {} and s3.status == "initialized" and s3.last_sync is None
    local = ImportStorage.objects.get(project=sentiment, kind="localfiles")
    assert local.option("path") == str(files_root / "sentiment") and local.use_blob_urls
    # the task Label Studio's sync made is linked: a sync here would skip its file
    link = ImportStorageLink.objects.get(storage=local)
    assert link.key == "a.txt" and link.task.data["text"].endswith("sentiment/a.txt")
    assert ImportStorage.objects.get(project=cars, kind="azure").option("container") == "cars"
    target = ExportStorage.objects.get(project=sentiment, kind="s3")
    assert target.option("prefix") == "out/" and target.can_delete_objects is False
    redis = ExportStorage.objects.get(project=cars, kind="redis")
    assert (redis.option("host"), redis.option("port"), redis.option("db")) == (
        "redis.example.com",
        "6380",
        2,
    )
    assert report.copied["storages"] == 5
    text = "\n".join(report.lines())
    # the storages whose secrets must be entered again are listed (not the local one)
    assert 'AWS S3 source storage "Raw reviews" (team-bucket)' in text
    assert "enter its access keys" in text and "enter its account name and key" in text
    assert "enter its password, if it has one" in text
    assert "Local files source storage" not in text
    assert "give it a new prefix before its first sync" in text
    # a second run copies nothing, and still lists what the admin has not done
    again = migrate(url=fake.url, token=LEGACY, user=admin)
    assert again.copied == {}, again.copied
    assert ImportStorage.objects.count() == 3 and ExportStorage.objects.count() == 2
    assert any("Raw reviews" in note for note in again.notes)
    ImportStorage.objects.filter(pk=s3.pk).update(credentials={"aws_access_key_id": "AK"})
    third = migrate(url=fake.url, token=LEGACY, user=admin)
    assert not any("Raw reviews" in note for note in third.notes)
    # a changed setting in Label Studio is copied; the secret entered here stays
    fake.state["storages"][0]["prefix"] = "in2/"
    fourth = migrate(url=fake.url, token=LEGACY, user=admin)
    assert fourth.copied == {"storages": 1}
    s3.refresh_from_db()
    assert s3.option("prefix") == "in2/" and s3.credentials == {"aws_access_key_id": "AK"}
    # a task Label Studio's sync added later is linked by the run that copies it
    (files_root / "sentiment" / "b.txt").write_text("new")
    fake.state["tasks"]["1"].append(
        {
            **fake.state["tasks"]["1"][2],
            "id": 14,
            "data": {"text": "/data/local-files/?d=sentiment/b.txt"},
            "annotations": [],
            "drafts": [],
            "updated_at": "2099-01-01T00:00:00Z",
        }
    )
    fifth = migrate(url=fake.url, token=LEGACY, user=admin)
    assert fifth.copied == {"tasks": 1}
    assert sorted(
        ImportStorageLink.objects.filter(storage=local).values_list("key", flat=True)
    ) == [
        "a.txt",
        "b.txt",
    ]


def test_local_storage_outside_the_root_is_listed_not_copied(fake, admin, settings, tmp_path):
    from io_storages.models import ImportStorage

    settings.LABELHUB_LOCAL_FILES_ROOT = str(tmp_path)
    report = migrate(url=fake.url, token=LEGACY, user=admin, project_ids=[1])
    assert report.ok
    assert not ImportStorage.objects.filter(kind="localfiles").exists()
    assert any(
        'Local files source storage "Shared folder" (/srv/ls-files/sentiment) not copied' in n
        and "LABELHUB_LOCAL_FILES_ROOT" in n
        for n in report.notes
    ), report.notes


# ----------------------------------------------------------------------------- labels


def test_labels_and_links(fake, admin):
    from projects.models import Label, LabelLink

    report = migrate(url=fake.url, token=LEGACY, user=admin)
    assert report.ok, report.lines()
    sentiment, cars = _project("Sentiment"), _project("Cars")
    sarcasm = Label.objects.get(title="Sarcasm")
    assert (sarcasm.value, sarcasm.description, sarcasm.approved) == ("sarcasm", "Not meant", True)
    assert (
        sarcasm.created_by.email == "ada@example.com" and sarcasm.approved_by == sarcasm.created_by
    )
    vehicle = Label.objects.get(title="Vehicle/Car")  # linked to both projects, copied once
    assert vehicle.value == ["Vehicle", "Car"] and vehicle.created_by.email == "Bo@Example.com"
    links = {(link.project_id, link.label_id, link.from_name) for link in LabelLink.objects.all()}
    assert links == {
        (sentiment.pk, sarcasm.pk, "sentiment"),
        (sentiment.pk, vehicle.pk, "sentiment"),
        (cars.pk, vehicle.pk, "label"),
    }
    assert report.copied["labels"] == 5  # two labels, three links
    assert migrate(url=fake.url, token=LEGACY, user=admin).copied == {}
    fake.state["labels"][0]["description"] = "Irony"
    assert migrate(url=fake.url, token=LEGACY, user=admin).copied == {"labels": 1}
    assert Label.objects.get(pk=sarcasm.pk).description == "Irony"
    assert Label.objects.count() == 2 and LabelLink.objects.count() == 3


# ----------------------------------------------------------------------------- invites


def test_new_users_get_invite_links(fake, admin, settings):
    from django.test import Client

    settings.LABELHUB_HOSTNAME = "https://labelhub.example.com"
    report = migrate(url=fake.url, token=LEGACY, user=admin)
    invites = dict(report.invites)
    assert set(invites) == {"ada@example.com", "Bo@Example.com", "cy@example.com"}
    link = invites["cy@example.com"]
    assert link.startswith("https://labelhub.example.com/user/invite/")
    text = "\n".join(report.lines())
    assert f"cy@example.com: {link}" in text and "changepassword" not in text
    path = link.removeprefix("https://labelhub.example.com")
    web = Client()
    page = web.get(path)
    assert page.status_code == 200 and b"cy@example.com" in page.content
    differ = web.post(path, {"password": "a-long-pass-1", "password2": "other-pass-22"})
    assert differ.status_code == 200 and b"differ" in differ.content
    done = web.post(path, {"password": "a-long-pass-1", "password2": "a-long-pass-1"})
    assert done.status_code == 302
    cy = get_user_model().objects.get(email="cy@example.com")
    assert cy.check_password("a-long-pass-1")
    assert web.get("/projects/").status_code == 200  # signed in
    # the link works once; someone else's link does not open another account
    assert Client().get(path).status_code == 403
    other = invites["ada@example.com"].removeprefix("https://labelhub.example.com")
    token = other.split("/")[4]
    forged = f"/user/invite/{path.split('/')[3]}/{token}/"
    assert Client().get(forged).status_code == 403
    # a later run lists fresh links only for those who have not chosen a password
    again = migrate(url=fake.url, token=LEGACY, user=admin)
    assert {email for email, _ in again.invites} == {"ada@example.com", "Bo@Example.com"}
    assert again.new_users == []


def test_invite_link_refused_for_an_account_with_a_password(admin, make_user):
    from django.test import Client

    from projects.invites import invite_path

    person = make_user("dee@example.com")  # has a usable password
    assert Client().get(invite_path(person)).status_code == 403


# ----------------------------------------------------------------------------- re-runs


def test_rerun_reads_only_changed_tasks(fake, admin):
    first = migrate(url=fake.url, token=LEGACY, user=admin)
    assert first.ok and all(p.full_read for p in first.projects)
    assert sorted(fake.exports) == [(1, 3), (2, 1)]
    fake.exports.clear()
    again = migrate(url=fake.url, token=LEGACY, user=admin)
    assert again.ok, again.lines()
    assert again.copied == {}
    # no full export: project 1 reads its one task with a draft, project 2 nothing
    assert fake.exports == [(1, 1)]
    assert {p.title: len(p.read_task_ids) for p in again.projects} == {"Sentiment": 1, "Cars": 0}
    assert "check: tasks 3, annotations 4, predictions 2, drafts 1" in "\n".join(again.lines())
    fake.exports.clear()
    fake.add_annotation(
        2,
        0,
        {
            "id": 202,
            "completed_by": 2,
            "result": [],
            "was_cancelled": True,
            "ground_truth": False,
            "lead_time": 1.0,
            "created_at": "2026-11-10T10:00:00Z",
            "updated_at": "2026-11-10T10:00:00Z",
            "parent_prediction": None,
            "parent_annotation": None,
            "task": 21,
        },
    )
    third = migrate(url=fake.url, token=LEGACY, user=admin)
    assert third.ok, third.lines()
    assert third.copied == {"annotations": 1}
    assert sorted(fake.exports) == [(1, 1), (2, 1)]
    assert Annotation.objects.filter(project__title="Cars", was_cancelled=True).count() == 1


def test_rerun_reads_all_when_changes_cannot_be_told(fake, admin):
    migrate(url=fake.url, token=LEGACY, user=admin, project_ids=[2])
    fake.exports.clear()
    # a task Label Studio holds that the mapping never saw, though none is newer
    fake.state["tasks"]["2"].append(
        {**fake.state["tasks"]["2"][0], "id": 22, "annotations": [], "drafts": []}
    )
    again = migrate(url=fake.url, token=LEGACY, user=admin, project_ids=[2])
    assert again.ok, again.lines()
    assert again.projects[0].full_read and fake.exports == [(2, 2)]
    assert again.copied["tasks"] == 1


def test_bad_annotation_on_a_rerun_names_it_and_writes_nothing(fake, admin):
    migrate(url=fake.url, token=LEGACY, user=admin, project_ids=[1])
    rows = LabelStudioCopy.objects.count()
    fake.state["labels"][0]["description"] = "changed too"  # a change in the same project
    bad = {
        "id": 106,
        "completed_by": 2,
        "result": [
            {
                "id": "x",
                "from_name": "sentiment",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": ["nope"]},
            }
        ],
        "was_cancelled": False,
        "ground_truth": False,
        "lead_time": 1.0,
        "created_at": "2026-11-10T10:00:00Z",
        "updated_at": "2026-11-10T10:00:00Z",
        "task": 13,
    }
    fake.add_annotation(1, 2, bad)
    report = migrate(url=fake.url, token=LEGACY, user=admin, project_ids=[1])
    error = report.projects[0].error
    assert 'project "Sentiment" (Label Studio id 1)' in error
    assert "task 13, annotation 106" in error and "nope" in error
    assert LabelStudioCopy.objects.count() == rows
    from projects.models import Label

    assert Label.objects.get(title="Sarcasm").description == "Not meant"
    assert Annotation.objects.filter(project__title="Sentiment").count() == 4


def test_draft_submitted_in_label_studio_goes_unless_continued_here(fake, admin):
    from annotations.models import AnnotationDraft

    migrate(url=fake.url, token=LEGACY, user=admin, project_ids=[1])
    draft = AnnotationDraft.objects.get()
    submitted = {
        "id": 107,
        "completed_by": 3,
        "result": fake.state["tasks"]["1"][0]["drafts"][0]["result"],
        "was_cancelled": False,
        "ground_truth": False,
        "lead_time": 3.0,
        "created_at": "2026-11-10T10:00:00Z",
        "updated_at": "2026-11-10T10:00:00Z",
        "task": 11,
    }
    # continued in LabelHub: kept although Label Studio's was submitted
    AnnotationDraft.objects.filter(pk=draft.pk).update(lead_time=9.0, updated_at=timezone.now())
    kept = fake.state["tasks"]["1"][0].pop("drafts")
    fake.add_annotation(1, 0, submitted)
    report = migrate(url=fake.url, token=LEGACY, user=admin, project_ids=[1])
    assert (
        report.copied == {"annotations": 1} and AnnotationDraft.objects.filter(pk=draft.pk).exists()
    )
    # untouched here: deleted with Label Studio's, and the check agrees
    fake.state["tasks"]["1"][0]["drafts"] = kept
    migrate(url=fake.url, token=LEGACY, user=admin, project_ids=[1])  # copied back
    AnnotationDraft.objects.all().delete()
    LabelStudioCopy.objects.filter(kind="draft").delete()
    migrate(url=fake.url, token=LEGACY, user=admin, project_ids=[1])
    assert AnnotationDraft.objects.count() == 1
    fake.state["tasks"]["1"][0].pop("drafts")
    fake.add_annotation(1, 0, {**submitted, "id": 108})
    report = migrate(url=fake.url, token=LEGACY, user=admin, project_ids=[1])
    assert report.ok, report.lines()
    assert not AnnotationDraft.objects.exists()
    assert report.projects[0].lh_counts["drafts"] == report.projects[0].ls_counts["drafts"] == 0
