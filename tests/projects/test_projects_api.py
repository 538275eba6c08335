import pytest

from projects.models import Project, ProjectMember
from tests.factories import TEXT_CONFIG

pytestmark = pytest.mark.django_db

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<View><Text name="text" value="$text"/><Header value="&lol9;"/></View>"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE View [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<View><Text name="text" value="$text"/><Header value="&xxe;"/></View>"""


def test_create_list_get_patch_delete(api, owner):
    response = api.post(
        "/api/projects/", {"title": "P1", "label_config": TEXT_CONFIG}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["title"] == "P1"
    assert body["created_by"]["email"] == owner.email
    assert body["parsed_label_config"]["sentiment"]["type"] == "Choices"
    assert body["parsed_label_config"]["sentiment"]["to_name"] == ["text"]
    assert set(body["parsed_label_config"]["sentiment"]["labels"]) == {
        "Positive",
        "Negative",
        "Neutral",
    }
    for counter in (
        "task_number",
        "num_tasks_with_annotations",
        "total_annotations_number",
        "total_predictions_number",
        "ground_truth_number",
        "skipped_annotations_number",
    ):
        assert body[counter] == 0
    pid = body["id"]
    assert ProjectMember.objects.get(project_id=pid, user=owner).role == "admin"

    listing = api.get("/api/projects/").json()
    assert set(listing) == {"count", "next", "previous", "results"}
    assert listing["count"] == 1 and listing["results"][0]["id"] == pid

    patched = api.patch(
        f"/api/projects/{pid}/", {"maximum_annotations": 3, "sampling": "uniform"}, format="json"
    )
    assert patched.status_code == 200
    assert patched.json()["maximum_annotations"] == 3 and patched.json()["sampling"] == "uniform"

    assert api.delete(f"/api/projects/{pid}").status_code == 204
    assert not Project.objects.filter(pk=pid).exists()


def test_list_paginates_with_links(api, owner):
    from projects.services import project_create

    for i in range(3):
        project_create(user=owner, title=f"p{i}", label_config=TEXT_CONFIG)
    page = api.get("/api/projects/?page_size=2").json()
    assert (
        page["count"] == 3
        and len(page["results"]) == 2
        and page["next"]
        and page["previous"] is None
    )
    page2 = api.get("/api/projects/?page_size=2&page=2").json()
    assert len(page2["results"]) == 1 and page2["next"] is None and page2["previous"]
    assert api.get("/api/projects/?page_size=2&page=3").status_code == 404


@pytest.mark.parametrize("path", ["/api/projects/", "/api/projects"])
def test_trailing_slash_is_optional_for_post(api, path):
    response = api.post(path, {"title": "slash", "label_config": TEXT_CONFIG}, format="json")
    assert response.status_code == 201


@pytest.mark.parametrize(
    "config, fragment",
    [
        ("<View><Text name='t' value='$t'/>", "line"),
        ("<Foo><Text name='t' value='$t'/></Foo>", "View"),
        (
            "<View><Text name='t' value='$t'/><Choices name='c' toName='nope'><Choice value='a'/></Choices></View>",
            "nope",
        ),
        ("<View><Text name='t' value='$t'/><Text name='t' value='$u'/></View>", "t"),
        (BILLION_LAUGHS, ""),
        (XXE, ""),
    ],
)
def test_bad_configs_get_400(api, config, fragment):
    response = api.post("/api/projects/", {"title": "bad", "label_config": config}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"].startswith("Invalid label_config")
    assert fragment in body["detail"]
    assert "root:" not in response.content.decode()  # nothing from /etc/passwd
    assert not Project.objects.filter(title="bad").exists()


def test_validate_endpoint(api):
    ok = api.post("/api/projects/validate/", {"label_config": TEXT_CONFIG}, format="json")
    assert ok.status_code == 200 and ok.json()["data_keys"] == ["text"]
    before = Project.objects.count()
    bad = api.post("/api/projects/validate", {"label_config": BILLION_LAUGHS}, format="json")
    assert bad.status_code == 400
    body = bad.json()
    assert body["errors"][0]["field"] == "label_config", body
    assert "entit" in body["detail"].lower(), body  # the reason: XML entities are refused
    assert Project.objects.count() == before


def test_members_api(api, project, outsider, annotator):
    members = api.get(f"/api/projects/{project.pk}/members/").json()
    assert {m["role"] for m in members} == {"admin", "reviewer", "annotator"}
    added = api.post(
        f"/api/projects/{project.pk}/members/",
        {"email": outsider.email, "role": "reviewer"},
        format="json",
    )
    assert added.status_code == 201 and added.json()["role"] == "reviewer"
    changed = api.post(
        f"/api/projects/{project.pk}/members",
        {"email": outsider.email, "role": "annotator"},
        format="json",
    )
    assert changed.json()["role"] == "annotator"
    assert ProjectMember.objects.filter(project=project, user=outsider).count() == 1
    bad = api.post(
        f"/api/projects/{project.pk}/members/",
        {"email": outsider.email, "role": "king"},
        format="json",
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "role"
    gone = api.delete(f"/api/projects/{project.pk}/members/", {"user": outsider.pk}, format="json")
    assert gone.status_code == 204
    assert not ProjectMember.objects.filter(project=project, user=outsider).exists()


def test_members_api_keeps_the_last_admin(api, project, owner):
    """The API refuses what the settings page refuses: removing or demoting the only admin."""
    url = f"/api/projects/{project.pk}/members/"
    assert list(
        ProjectMember.objects.filter(project=project, role="admin").values_list("user", flat=True)
    ) == [owner.pk]
    removed = api.delete(url, {"user": owner.pk}, format="json")
    assert removed.status_code == 400
    assert removed.json()["errors"][0] == {
        "field": "user",
        "message": "A project keeps at least one admin.",
    }
    demoted = api.post(url, {"email": owner.email, "role": "annotator"}, format="json")
    assert demoted.status_code == 400 and demoted.json()["errors"][0]["field"] == "role"
    assert ProjectMember.objects.get(project=project, user=owner).role == "admin"


def test_users_api(client_for, staff, owner):
    admin = client_for(staff)
    created = admin.post(
        "/api/users/", {"email": "new@example.com", "password": "long-enough-1"}, format="json"
    )
    assert created.status_code == 201 and created.json()["email"] == "new@example.com"
    dup = admin.post(
        "/api/users/", {"email": "NEW@example.com", "password": "long-enough-1"}, format="json"
    )
    assert dup.status_code == 400 and dup.json()["errors"][0]["field"] == "email"
    assert any(u["email"] == "new@example.com" for u in admin.get("/api/users/").json())
    forbidden = client_for(owner).post(
        "/api/users/", {"email": "x@example.com", "password": "long-enough-1"}, format="json"
    )
    assert forbidden.status_code == 403


def test_current_user_token_version(api, owner):
    assert api.get("/api/current-user/whoami").json()["email"] == owner.email
    token = api.get("/api/current-user/token").json()["token"]
    assert len(token) == 40
    version = api.get("/api/version/").json()
    assert version["edition"] == "Community" and version["release"]


def test_anonymous_gets_401_everywhere(client):
    for path in ["/api/projects/", "/api/tasks/?project=1", "/api/users/"]:
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.json()["detail"]
    assert client.get("/api/schema/").status_code == 401
    assert client.get("/api/docs/").status_code == 401


def test_version_answers_without_log_in(client):
    """As Label Studio's: health checks and the SDK probe it before they log in, and a
    stale token does not turn it into a 401."""
    response = client.get("/api/version/")
    assert response.status_code == 200
    assert response.json()["release"] and response.json()["edition"] == "Community"
    stale = client.get("/api/version/", HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert stale.status_code == 200


def test_schema_and_docs(api):
    schema = api.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/projects/" in schema.content
    assert api.get("/api/docs/").status_code == 200


def test_error_shape_for_missing_fields(api):
    response = api.post(
        "/api/projects/", {"maximum_annotations": 0, "sampling": "nope"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Invalid input."
    assert {e["field"] for e in body["errors"]} == {"maximum_annotations", "sampling"}


def test_changing_overlap_recomputes_is_labeled(api, project, owner):
    from importers.services import tasks_import
    from tasks.models import Task
    from tests.factories import choice

    tasks_import(
        project=project,
        records=[{"data": {"text": "a"}, "annotations": [{"result": choice("Positive")}]}],
        user=owner,
    )
    assert Task.objects.get(project=project).is_labeled
    api.patch(f"/api/projects/{project.pk}/", {"maximum_annotations": 2}, format="json")
    assert not Task.objects.get(project=project).is_labeled
    api.patch(f"/api/projects/{project.pk}/", {"maximum_annotations": 1}, format="json")
    assert Task.objects.get(project=project).is_labeled


def test_delete_project_removes_everything_in_it(
    api, project, owner, reviewer, django_assert_max_num_queries
):
    from annotations.models import Annotation, Prediction, Review
    from annotations.services import review_set
    from importers.services import tasks_import
    from tasks.models import Task
    from tests.factories import choice

    other = Project.objects.create(
        title="other", label_config=project.label_config, parsed_config=project.parsed_config
    )
    records = [
        {
            "data": {"text": str(i)},
            "annotations": [{"result": choice("Positive")}],
            "predictions": [{"result": choice("Negative"), "score": 0.1}],
        }
        for i in range(50)
    ]
    tasks_import(project=project, records=records, user=owner)
    tasks_import(project=other, records=records[:3], user=owner)
    review_set(
        annotation=Annotation.objects.filter(project=project).first(),
        reviewer=reviewer,
        accepted=True,
    )
    # One statement per table, no query per task: 48 since the tables of drafts, Label
    # Stream visits, label links, file uploads, webhooks and import/export storages joined
    # the cascade this round (each one DELETE or one id probe); 49 with the project's
    # member invitations (issue #24); 50 with the review history (ReviewRecord, #26).
    with django_assert_max_num_queries(50):
        assert api.delete(f"/api/projects/{project.pk}/").status_code == 204
    assert not Task.objects.filter(project_id=project.pk).exists()
    assert not Annotation.objects.filter(project_id=project.pk).exists()
    assert not Prediction.objects.filter(project_id=project.pk).exists()
    assert Review.objects.count() == 0
    assert (
        Task.objects.filter(project=other).count() == 3
        and Annotation.objects.filter(project=other).count() == 3
    )


def test_label_studio_project_flags_and_empty_default_title(api):
    """Label Studio's is_draft / is_published are kept and shown; a project created
    without a title has Label Studio's empty one (data_import.tavern.yml)."""
    created = api.post("/api/projects/", {"is_draft": True}, format="multipart")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["title"], body["is_draft"], body["is_published"]) == ("", True, False)
    patched = api.patch(f"/api/projects/{body['id']}/", {"is_draft": False}, format="json")
    assert patched.json()["is_draft"] is False


CREATE_CONFIG = '<View><Text name="text" value="$text"/></View>'


@pytest.mark.parametrize(
    "body",
    [
        {"title": "Reviews", "label_config": CREATE_CONFIG},
        {"title": "  padded  ", "description": " some words\n", "label_config": CREATE_CONFIG},
        {"title": "", "description": ""},
        {"title": "x" * 200},
        {"title": "Ünïcode ✓", "label_config": f"  {CREATE_CONFIG}  "},
        {},
    ],
)
def test_a_plain_create_body_reads_as_the_serializer_reads_it(body):
    from projects.api import ProjectIn, _plain_project_in

    serializer = ProjectIn(data=body)
    assert serializer.is_valid(), serializer.errors
    assert _plain_project_in(body) == dict(serializer.validated_data)


@pytest.mark.parametrize(
    "body",
    [
        {"title": "x" * 201},
        {"title": "t", "label_config": "   "},
        {"title": None},
        {"title": 5},
        {"title": "nul \x00 byte"},
        {"title": "lone \ud800 surrogate"},
        {"title": "t", "sampling": "Uniform sampling"},
        {"title": "t", "show_collab_predictions": False},
        [],
    ],
)
def test_any_other_create_body_is_left_to_the_serializer(body):
    from projects.api import _plain_project_in

    assert _plain_project_in(body) is None
