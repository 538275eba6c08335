"""Issue #12, findings 4, 5, 6 (members, pages) and 9 (token rotation): who creates
projects, how members are added, what /api/users/ shows, and huge ids."""

import pytest
from rest_framework.authtoken.models import Token

from projects.models import Project, ProjectMember
from tests.factories import TEXT_CONFIG

pytestmark = pytest.mark.django_db

BODY = {"title": "Mine", "label_config": TEXT_CONFIG}


# ----------------------------------------------------------------- 4: project creation


def test_annotator_only_user_cannot_create_a_project_through_the_api(client_for, annotator):
    response = client_for(annotator).post("/api/projects/", BODY, format="json")
    assert response.status_code == 403
    assert not Project.objects.filter(title="Mine").exists()


def test_a_user_new_to_every_project_cannot_create_one_until_an_admin_allows(
    client_for, make_user, staff
):
    newcomer = make_user("newcomer@example.com")
    client = client_for(newcomer)
    assert client.post("/api/projects/", BODY, format="json").status_code == 403
    assert client.get("/api/current-user/whoami").json()["can_create_projects"] is False

    allowed = client_for(staff).patch(
        f"/api/users/{newcomer.pk}/", {"can_create_projects": True}, format="json"
    )
    assert allowed.status_code == 200 and allowed.json()["can_create_projects"] is True
    created = client.post("/api/projects/", BODY, format="json")
    assert created.status_code == 201
    assert ProjectMember.objects.get(project_id=created.json()["id"]).user == newcomer

    client_for(staff).patch(
        f"/api/users/{newcomer.pk}/", {"can_create_projects": False}, format="json"
    )
    assert client.post("/api/projects/", BODY, format="json").status_code == 403


def test_only_staff_allow_users_to_create_projects(client_for, owner, outsider):
    response = client_for(owner).patch(
        f"/api/users/{outsider.pk}/", {"can_create_projects": True}, format="json"
    )
    assert response.status_code == 404  # another user's record is not even visible
    response = client_for(owner).patch(
        f"/api/users/{owner.pk}/", {"can_create_projects": True}, format="json"
    )
    assert response.status_code == 403


def test_staff_create_projects_and_may_create_allowed_users(client_for, staff):
    admin = client_for(staff)
    assert admin.post("/api/projects/", BODY, format="json").status_code == 201
    made = admin.post(
        "/api/users/",
        {"email": "maker@example.com", "password": "long-enough-1", "can_create_projects": True},
        format="json",
    )
    assert made.status_code == 201 and made.json()["can_create_projects"] is True


# ----------------------------------------------------------------- 5: enumeration


def test_non_staff_admin_adds_members_by_exact_email_not_by_id(api, project, outsider):
    by_id = api.post(f"/api/projects/{project.pk}/members/", {"user": outsider.pk}, format="json")
    assert by_id.status_code == 400 and by_id.json()["errors"][0]["field"] == "user"
    assert not ProjectMember.objects.filter(project=project, user=outsider).exists()

    # By email: the same answer whether an account has it (issue #24 row 11).
    unknown = api.post(
        f"/api/projects/{project.pk}/members/", {"email": "nobody@example.com"}, format="json"
    )
    assert unknown.status_code == 201 and unknown.json()["user"] is None

    added = api.post(
        f"/api/projects/{project.pk}/members/", {"email": outsider.email}, format="json"
    )
    assert added.status_code == 201 and added.json()["user"] is None
    assert ProjectMember.objects.filter(project=project, user=outsider).exists()
    listing = api.get(f"/api/projects/{project.pk}/members/").json()
    assert all("is_staff" not in (m["user"] or {}) for m in listing)


def test_staff_may_still_add_members_by_id(client_for, staff, project, outsider):
    added = client_for(staff).post(
        f"/api/projects/{project.pk}/members/", {"user": outsider.pk}, format="json"
    )
    assert added.status_code == 201


def test_users_list_holds_only_people_sharing_a_project(
    client_for, project, annotator, owner, reviewer, outsider, staff
):
    seen = {u["email"] for u in client_for(annotator).get("/api/users/").json()}
    assert seen == {annotator.email, owner.email, reviewer.email}
    assert {u["email"] for u in client_for(outsider).get("/api/users/").json()} == {outsider.email}
    rows = client_for(annotator).get("/api/users/").json()
    assert all("is_staff" not in row for row in rows)
    everyone = {u["email"] for u in client_for(staff).get("/api/users/").json()}
    assert {annotator.email, owner.email, reviewer.email, outsider.email, staff.email} <= everyone


# ----------------------------------------------------------------- 6: huge ints


HUGE = "99999999999999999999"


def test_huge_page_is_a_400_naming_page(api, project):
    for url in (f"/api/projects/?page={HUGE}", f"/api/tasks/?project={project.pk}&page={HUGE}"):
        response = api.get(url)
        assert response.status_code == 400, (url, response.content)
        assert response.json()["errors"][0]["field"] == "page"


def test_huge_member_id_in_delete_is_a_400(api, project):
    response = api.delete(f"/api/projects/{project.pk}/members/", {"user": HUGE}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "user"
    response = api.delete(
        f"/api/projects/{project.pk}/members/", {"user": int(HUGE)}, format="json"
    )
    assert response.status_code == 400


def test_huge_id_in_export_ids_is_a_400_before_streaming(api, project):
    response = api.get(f"/api/projects/{project.pk}/export?exportType=JSON&ids=1,{HUGE}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "ids[1]"


def test_huge_id_in_selected_items_is_a_400(api, project):
    response = api.post(
        f"/api/dm/actions/?id=delete_tasks&project={project.pk}",
        {"selectedItems": {"all": False, "included": [int(HUGE)]}},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "selectedItems" in response.content.decode()


def test_huge_project_id_in_the_path_is_a_404(api):
    assert api.get(f"/api/projects/{HUGE}/").status_code == 404


# ----------------------------------------------------------------- 9: token rotation


def test_reset_token_replaces_the_key(client_for, owner):
    client = client_for(owner)
    old = Token.objects.get(user=owner).key
    response = client.post("/api/current-user/reset-token/")
    assert response.status_code == 200
    new = response.json()["token"]
    assert new != old and Token.objects.get(user=owner).key == new
    assert client.get("/api/projects/").status_code == 401  # the old key is dead
    client.credentials(HTTP_AUTHORIZATION=f"Token {new}")
    assert client.get("/api/projects/").status_code == 200
    assert client.get("/api/current-user/reset-token/").status_code == 405
