"""Users, avatars, hotkeys, product tours, the organization, invites and the system
endpoints, at Label Studio 1.23's paths (its users.tavern.yml and organizations.tavern.yml
requests, answered by our own tests)."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from PIL import Image
from rest_framework.test import APIClient

from annotations.models import Annotation, Review
from projects.models import ProjectMember
from tasks.models import Task
from tests.factories import choice


def _png(size=(10, 10), fmt="PNG") -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", size, "red").save(data, format=fmt)
    data.seek(0)
    data.name = f"a.{fmt.lower()}"
    return data


# --------------------------------------------------------------------------- users


def test_users_tavern_flow(client_for, staff):
    """users.tavern.yml: list, get (active_organization), create without a password and
    with a username, and a PATCH of the email answers 405."""
    api = client_for(staff)
    assert api.get("/api/users").status_code == 200
    me = api.get(f"/api/users/{staff.pk}")
    assert me.status_code == 200
    org = me.json()["active_organization"]
    created = api.post(
        "/api/users",
        {"email": "test_user@heartextest.com", "username": "test user", "active_organization": org},
        format="json",
    )
    assert created.status_code == 201, created.content
    new = created.json()["id"]
    assert created.json()["username"] == "test user"
    assert not get_user_model().objects.get(pk=new).has_usable_password()
    assert api.get(f"/api/users/{new}").status_code == 200
    patch = api.patch(f"/api/users/{new}", {"email": "x@heartextest.com"}, format="json")
    assert patch.status_code == 405
    assert get_user_model().objects.get(pk=new).email == "test_user@heartextest.com"


def test_delete_user_keeps_their_work(client_for, staff, project, annotator, api):
    task = Task.objects.create(project=project, data={"text": "x"})
    annotation = Annotation.objects.create(
        task=task, project=project, completed_by=annotator, result=choice("Positive")
    )
    admin = client_for(staff)
    annotator_api = client_for(annotator)
    assert annotator_api.get("/api/current-user/whoami").status_code == 200
    assert api.delete(f"/api/users/{annotator.pk}/").status_code == 403  # not staff
    assert admin.delete(f"/api/users/{annotator.pk}/").status_code == 204
    annotation.refresh_from_db()
    assert annotation.completed_by_id == annotator.pk
    assert annotator_api.get("/api/current-user/whoami").status_code == 401
    assert not ProjectMember.objects.filter(user=annotator).exists()
    assert admin.get(f"/api/users/{annotator.pk}/").status_code == 404
    assert annotator.pk not in [u["id"] for u in admin.get("/api/users/").json()]
    assert admin.delete(f"/api/users/{annotator.pk}/").status_code == 404
    annotator.refresh_from_db()
    assert not annotator.is_active and not annotator.has_usable_password()


def test_delete_user_refuses_self(client_for, staff):
    assert client_for(staff).delete(f"/api/users/{staff.pk}/").status_code == 403


def test_reviews_survive_the_reviewers_deletion(client_for, staff, project, annotator, reviewer):
    task = Task.objects.create(project=project, data={"text": "x"})
    annotation = Annotation.objects.create(
        task=task, project=project, completed_by=annotator, result=choice("Positive")
    )
    Review.objects.create(annotation=annotation, reviewer=reviewer, accepted=True)
    assert client_for(staff).delete(f"/api/users/{reviewer.pk}/").status_code == 204
    assert Review.objects.filter(reviewer=reviewer).count() == 1


# --------------------------------------------------------------------------- avatars


def test_avatar_upload_serve_delete(api, owner, client_for, outsider):
    response = api.post(f"/api/users/{owner.pk}/avatar/", {"avatar": _png()}, format="multipart")
    assert response.status_code == 200, response.content
    url = response.json()["avatar"]
    assert api.get("/api/current-user/whoami").json()["avatar"] == url
    image = api.get(url)
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(b"".join(image.streaming_content))).size == (10, 10)
    assert APIClient().get(url).status_code == 401
    # Someone else's avatar is not theirs to change.
    other = client_for(outsider).post(f"/api/users/{owner.pk}/avatar/", {"avatar": _png()})
    assert other.status_code == 404
    assert api.delete(f"/api/users/{owner.pk}/avatar/").status_code == 204
    assert api.get("/api/current-user/whoami").json()["avatar"] is None
    assert api.get(url).status_code == 404


@pytest.mark.parametrize(
    ("upload", "reason"),
    [
        (io.BytesIO(b"<script>alert(1)</script>"), "Can't read image"),
        (_png(size=(1300, 10)), "1200 x 1200"),
        (_png(fmt="BMP"), "JPEG, GIF or PNG"),
    ],
)
def test_avatar_refuses_bad_images(api, owner, upload, reason):
    upload.name = getattr(upload, "name", "a.png")
    response = api.post(f"/api/users/{owner.pk}/avatar/", {"avatar": upload}, format="multipart")
    assert response.status_code == 400
    assert reason in response.json()["detail"] and response.json()["errors"][0]["field"] == "avatar"


def test_avatar_size_limit(api, owner, settings):
    settings.LABELHUB_AVATAR_MAX_SIZE = 50
    response = api.post(f"/api/users/{owner.pk}/avatar/", {"avatar": _png()}, format="multipart")
    assert response.status_code == 400 and "may not exceed" in response.json()["detail"]


def test_avatar_reencoded_strips_trailing_payload(api, owner):
    data = _png()
    payload = io.BytesIO(data.getvalue() + b"<?php evil(); ?>")
    payload.name = "a.png"
    url = api.post(f"/api/users/{owner.pk}/avatar/", {"avatar": payload}).json()["avatar"]
    assert b"evil" not in b"".join(api.get(url).streaming_content)


# --------------------------------------------------------------------------- hotkeys, tours


def test_hotkeys(api):
    assert api.get("/api/current-user/hotkeys/").json() == {"custom_hotkeys": {}}
    keys = {"annotation:submit": {"key": "ctrl+enter", "active": True}}
    response = api.patch("/api/current-user/hotkeys/", {"custom_hotkeys": keys}, format="json")
    assert response.status_code == 200 and response.json() == {"custom_hotkeys": keys}
    assert api.get("/api/current-user/hotkeys/").json() == {"custom_hotkeys": keys}
    assert api.get("/api/current-user/whoami").json()["custom_hotkeys"] == keys


@pytest.mark.parametrize(
    "bad",
    [
        "not a dict",
        {"nosection": {"key": "a"}},
        {"a:b": {"active": True}},
        {"a:b": {"key": "alt+f4"}},
        {"a:b": {"key": "ctrl+\u00e9"}},
        {"a:b": {"key": "x" * 51}},
        {"a:b": {"key": "a", "active": "yes"}},
        {f"a:{i}": {"key": "a"} for i in range(201)},
        {"a:b": {"key": "a", "note": "x" * 70000}},
    ],
)
def test_hotkeys_validated(api, bad):
    response = api.patch("/api/current-user/hotkeys/", {"custom_hotkeys": bad}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "custom_hotkeys"
    assert api.get("/api/current-user/hotkeys/").json() == {"custom_hotkeys": {}}


def test_product_tour(api, owner):
    tour = api.get("/api/current-user/product-tour?name=show-ask-ai")
    assert tour.status_code == 200
    assert tour.json()["name"] == "show_ask_ai" and tour.json()["state"] == "ready"
    assert tour.json()["user"] == owner.pk
    done = api.patch(
        "/api/current-user/product-tour?name=show_ask_ai",
        {"state": "completed", "interaction_data": {"index": 2, "action": "close"}},
        format="json",
    )
    assert done.status_code == 200 and done.json()["state"] == "completed"
    again = api.get("/api/current-user/product-tour?name=show_ask_ai").json()
    assert again["state"] == "completed" and again["interaction_data"]["index"] == 2
    assert api.get("/api/current-user/product-tour").status_code == 400
    assert api.get("/api/current-user/product-tour?name=made_up").status_code == 400
    bad = api.patch("/api/current-user/product-tour?name=show_ask_ai", {"state": "x"})
    assert bad.status_code == 400


# --------------------------------------------------------------------------- organization


def test_organization_list_and_detail(api, client_for, staff, owner, outsider):
    orgs = api.get("/api/organizations/").json()
    assert [o["id"] for o in orgs] == [1] and orgs[0]["title"]
    detail = api.get("/api/organizations/1")
    assert detail.status_code == 200 and detail.json()["token"] is None  # not staff
    assert outsider.pk not in detail.json()["users"]  # shares no project with owner
    assert api.get("/api/organizations/2").status_code == 404
    assert api.patch("/api/organizations/1", {"title": "Mine"}).status_code == 403
    admin = client_for(staff)
    changed = admin.patch("/api/organizations/1", {"title": "Team"}, format="json")
    assert changed.status_code == 200 and changed.json()["title"] == "Team"
    assert admin.get("/api/organizations/1").json()["token"]


def test_memberships_are_scoped(api, client_for, staff, project, owner, annotator, outsider):
    mine = api.get("/api/organizations/1/memberships").json()
    ids = {m["user"]["id"] for m in mine["results"]}
    assert owner.pk in ids and annotator.pk in ids and outsider.pk not in ids
    assert mine["count"] == len(ids)
    everyone = client_for(staff).get("/api/organizations/1/memberships?page_size=-1").json()
    assert outsider.pk in {m["user"]["id"] for m in everyone["results"]}
    paged = client_for(staff).get("/api/organizations/1/memberships?page_size=2").json()
    assert len(paged["results"]) == 2 and paged["next"]
    past = client_for(staff).get("/api/organizations/1/memberships?page=99")
    assert past.status_code == 200 and past.json()["results"] == []
    member = api.get(f"/api/organizations/1/memberships/{annotator.pk}/").json()
    assert member["user"] == annotator.pk and member["organization"] == 1
    assert api.get(f"/api/organizations/1/memberships/{outsider.pk}/").status_code == 404
    created = api.get("/api/organizations/1/memberships?contributed_to_projects=1").json()
    by_user = {m["user"]["id"]: m for m in created["results"]}
    assert by_user[owner.pk]["created_projects"] == [{"id": project.pk, "title": project.title}]


def test_member_soft_delete(api, client_for, staff, project, annotator):
    """organizations.tavern.yml's soft delete: 403 for a non-admin, 204, then 404."""
    path = f"/api/organizations/1/memberships/{annotator.pk}"
    assert api.delete(path).status_code == 403
    admin = client_for(staff)
    assert admin.delete(path).status_code == 204
    assert admin.delete(path).status_code == 404
    assert admin.delete(f"/api/organizations/1/memberships/{staff.pk}").status_code == 405


def test_invite_link_signs_up_a_new_user(client_for, staff, api):
    assert api.get("/api/invite").status_code == 403  # staff invite
    admin = client_for(staff)
    invite = admin.get("/api/invite").json()
    assert invite["invite_url"] == f"/user/signup/?token={invite['token']}"
    assert len(invite["token"]) >= 40
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(invite["invite_url"])
    assert page.status_code == 200 and b"Create account" in page.content
    csrf = page.cookies["csrftoken"].value
    response = browser.post(
        invite["invite_url"],
        {"email": "new@example.com", "password": "a-long-password", "csrfmiddlewaretoken": csrf},
    )
    assert response.status_code == 302 and response["Location"] == "/projects/"
    user = get_user_model().objects.get(email="new@example.com")
    assert not user.is_staff and browser.get("/projects/").status_code == 200


def test_invite_reset_invalidates_old_links(client_for, staff):
    admin = client_for(staff)
    old = admin.get("/api/invite").json()
    reset = admin.post("/api/invite/reset-token")
    assert reset.status_code == 201 and reset.json()["token"] != old["token"]
    assert admin.get("/api/invite").json()["token"] == reset.json()["token"]
    browser = Client()
    assert browser.get(old["invite_url"]).status_code == 403
    refused = browser.post(old["invite_url"], {"email": "n@example.com", "password": "a-long-pw"})
    assert refused.status_code == 403
    assert not get_user_model().objects.filter(email="n@example.com").exists()
    assert browser.get("/user/signup/").status_code == 403
    assert browser.get("/user/signup/?token=guess").status_code == 403


def test_signup_errors_name_the_field(client_for, staff, owner):
    url = client_for(staff).get("/api/invite").json()["invite_url"]
    browser = Client()
    taken = browser.post(url, {"email": owner.email, "password": "a-long-password"})
    assert taken.status_code == 200 and b"already exists" in taken.content
    short = browser.post(url, {"email": "s@example.com", "password": "short"})
    assert short.status_code == 200 and b"password" in short.content
    assert not get_user_model().objects.filter(email="s@example.com").exists()


# --------------------------------------------------------------------------- system


def test_health_version_root_docs(api, client):
    assert client.get("/health/").json() == {"status": "UP"}
    page = client.get("/version/")
    assert page.status_code == 200 and page.content.startswith(b"<pre>")
    version = client.get("/api/version/").json()
    assert version["release"] == version["label-studio-os-package"]["version"]
    assert client.get("/api/").status_code == 401
    assert api.get("/api/").json() == {"users": "http://testserver/api/users/"}
    assert api.get("/docs/api/schema/").status_code == 200
    assert api.get("/docs/api/schema/json/").status_code == 200
    assert api.get("/docs/api/schema/yaml/").status_code == 200
    assert client.get("/docs/api/schema/").status_code == 401
    assert client.get("/docs/api/?format=openapi")["Location"] == "/docs/api/schema/json/"


def test_open_signup_is_a_setting(db, settings):
    """users.tavern.yml's malicious redirect: with open sign-up, a POST without a token
    creates the user and an off-site ``next`` goes to /projects/, not away."""
    browser = Client()
    form = {"email": "open@example.com", "password": "a-long-password"}
    assert browser.post("/user/signup?next=http://malicious.com", form).status_code == 403
    settings.LABELHUB_SIGNUP_WITHOUT_LINK = True
    response = browser.post("/user/signup?next=http://malicious.com", form)
    assert response.status_code == 302 and response["Location"] == "/projects/"
    assert get_user_model().objects.filter(email="open@example.com", is_staff=False).exists()
    assert (
        Client().post("/user/signup?token=wrong", {**form, "email": "o2@example.com"}).status_code
        == 403
    )


def test_memberships_query_count(client_for, staff, make_user, django_assert_num_queries):
    for i in range(5):
        make_user(f"m{i}@example.com")
    admin = client_for(staff)
    admin.get("/api/organizations/1/memberships")
    # The token, the organization, the count, the page (profiles joined), created projects.
    with django_assert_num_queries(5):
        page = admin.get("/api/organizations/1/memberships?contributed_to_projects=1")
    assert page.json()["count"] == 6
