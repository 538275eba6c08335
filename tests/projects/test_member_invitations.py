"""Adding a member by email is no account-existence oracle (issue #24 row 11): one answer
for an email an account has and for one nobody has, in the API, the member list, the
user list and the settings page; the person added sees the project and can leave it."""

import pytest

from projects.models import ProjectMember
from projects.services import user_create

pytestmark = pytest.mark.django_db


def _without_email(body):
    if isinstance(body, list):
        return [_without_email(item) for item in body]
    return {k: v for k, v in body.items() if k not in ("email", "created_at")}


def test_one_answer_for_existing_and_missing_emails(client_for, owner, project, make_user):
    victim = make_user("victim@example.com")
    api = client_for(owner)
    url = f"/api/projects/{project.pk}/members/"
    existing = api.post(url, {"email": "Victim@example.com", "role": "annotator"}, format="json")
    missing = api.post(url, {"email": "nobody@example.com", "role": "annotator"}, format="json")
    assert existing.status_code == missing.status_code == 201, (existing.content, missing.content)
    assert _without_email(existing.json()) == _without_email(missing.json())
    assert str(victim.pk) not in existing.content.decode()

    listed = api.get(url).json()
    invited = [row for row in listed if row.get("invited")]
    assert sorted(row["email"] for row in invited) == ["nobody@example.com", "victim@example.com"]
    assert _without_email(invited[0]) == _without_email(invited[1])
    assert "victim" not in str([row for row in listed if not row.get("invited")])
    # Nor does the user list of the manager tell.
    assert "victim@example.com" not in api.get("/api/users/").content.decode()

    # The settings page: no "No user has this email", both rows alike.
    page = client_for(owner)
    page.force_login(owner)
    html = page.post(
        f"/projects/{project.pk}/settings",
        {"section": "member_add", "email": "ghost@example.com", "role": "annotator"},
        follow=True,
    ).content.decode()
    assert "No user has this email" not in html
    assert html.count("(invited)") == 3
    assert f'value="{victim.pk}"' not in html

    # The person added sees the project and can leave it.
    mine = client_for(victim)
    assert [p["id"] for p in mine.get("/api/projects/").json()["results"]] == [project.pk]
    assert mine.get(f"/api/projects/{project.pk}/").status_code == 200
    left = mine.delete(url, {"user": victim.pk}, format="json")
    assert left.status_code == 204
    assert mine.get(f"/api/projects/{project.pk}/").status_code == 404
    assert not ProjectMember.objects.filter(project=project, user=victim).exists()

    # The waiting invitation makes the account created later a member.
    nobody = user_create(email="nobody@example.com", password="pass-word-1")
    member = ProjectMember.objects.get(project=project, user=nobody)
    assert member.role == "annotator"
    # A manager withdraws an invitation by its email.
    assert api.delete(url, {"email": "nobody@example.com"}, format="json").status_code == 204
    assert not ProjectMember.objects.filter(project=project, user=nobody).exists()


def test_an_annotator_cannot_remove_someone_else(client_for, annotator, reviewer, project):
    url = f"/api/projects/{project.pk}/members/"
    response = client_for(annotator).delete(url, {"user": reviewer.pk}, format="json")
    assert response.status_code == 403
    assert ProjectMember.objects.filter(project=project, user=reviewer).exists()
