"""/api/webhooks/: Label Studio's tests/webhooks/webhooks.tavern.yml ("crud for webhooks")
as our own test, then who may do what, and what is refused."""

import pytest

from webhooks.models import Webhook

pytestmark = pytest.mark.django_db

HEADERS = {"Autorization": "Token 66666666666666666666666", "Security": "123123123123123"}


def test_crud_for_webhooks_as_the_tavern_file(api, project, allow_loopback):
    info = api.get("/api/webhooks/info/")
    assert info.status_code == 200
    assert info.json()["ANNOTATION_CREATED"] == {
        "name": "Annotation created",
        "description": "",
        "key": "annotation",
        "organization-only": False,
    }
    created = api.post(
        "/api/webhooks/",
        {"url": "http://127.0.0.1:6666/webhook", "project": str(project.pk), "headers": HEADERS},
        format="json",
    )
    assert created.status_code == 201, created.content
    hook_id = created.json()["id"]
    assert len(created.json()["secret"]) >= 32  # shown once

    got = api.get(f"/api/webhooks/{hook_id}/")
    assert got.status_code == 200
    body = got.json()
    assert body == {
        "id": hook_id,
        "organization": body["organization"],
        "project": project.pk,
        "url": "http://127.0.0.1:6666/webhook",
        "send_payload": True,
        "send_for_all_actions": True,
        "headers": {"Autorization": "********", "Security": "********"},
        "is_active": True,
        "actions": [],
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert isinstance(body["organization"], int) and "secret" not in body

    assert api.get("/api/webhooks/").status_code == 200
    first = api.patch(
        f"/api/webhooks/{hook_id}/",
        {
            "actions": ["ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_DELETED"],
            "send_for_all_actions": False,
            "send_payload": False,
        },
        format="json",
    )
    assert first.status_code == 200
    assert first.json()["actions"] == [
        "ANNOTATIONS_DELETED",
        "ANNOTATION_CREATED",
        "ANNOTATION_UPDATED",
    ]
    second = api.patch(
        f"/api/webhooks/{hook_id}/",
        {"actions": ["TASKS_CREATED", "ANNOTATION_UPDATED"], "headers": {"Autorization": "t 1"}},
        format="json",
    )
    assert second.status_code == 200
    assert second.json()["actions"] == ["ANNOTATION_UPDATED", "TASKS_CREATED"]
    assert Webhook.objects.get(pk=hook_id).headers == {"Autorization": "t 1"}
    assert api.delete(f"/api/webhooks/{hook_id}/").status_code == 204
    assert api.get(f"/api/webhooks/{hook_id}/").status_code == 404

    project_hook = api.post(
        "/api/webhooks/",
        {"url": "http://127.0.0.1:6666/webhook/proj/", "project": str(project.pk)},
        format="json",
    ).json()["id"]
    unchanged = api.patch(f"/api/webhooks/{project_hook}/", {"project": None}, format="json")
    assert unchanged.status_code == 200
    assert unchanged.json()["project"] == project.pk
    assert unchanged.json()["url"] == "http://127.0.0.1:6666/webhook/proj/"


def test_paths_without_trailing_slash_and_put(api, project, allow_loopback):
    hook = api.post(
        "/api/webhooks", {"url": "http://127.0.0.1:6666/a", "project": project.pk}, format="json"
    )
    assert hook.status_code == 201, hook.content
    pk = hook.json()["id"]
    assert api.get(f"/api/webhooks/{pk}").status_code == 200
    assert api.get("/api/webhooks/info").status_code == 200
    api.patch(f"/api/webhooks/{pk}", {"actions": ["TASKS_CREATED"]}, format="json")
    put = api.put(f"/api/webhooks/{pk}", {"url": "http://127.0.0.1:6666/b"}, format="json")
    assert put.status_code == 200 and put.json()["actions"] == []  # PUT replaces them
    assert api.put(f"/api/webhooks/{pk}", {}, format="json").status_code == 400  # url required


def test_info_filter_and_no_sign_in(client_for):
    anonymous = client_for(None)
    org_only = anonymous.get("/api/webhooks/info/?organization-only=true").json()
    assert set(org_only) == {"PROJECT_CREATED", "PROJECT_DELETED"}
    others = anonymous.get("/api/webhooks/info/?organization-only=false").json()
    assert "REVIEW_CREATED" in others and "GROUND_TRUTH_CHANGED" in others
    assert "PROJECT_CREATED" not in others and len(others) == 12


def test_who_may_see_and_change_hooks(
    client_for, api, staff, reviewer, annotator, outsider, project, allow_loopback
):
    pk = api.post(
        "/api/webhooks/", {"url": "http://127.0.0.1:6666/", "project": project.pk}, format="json"
    ).json()["id"]
    for user, status in ((reviewer, 403), (annotator, 403), (outsider, 404)):
        client = client_for(user)
        assert client.get(f"/api/webhooks/{pk}/").status_code == status
        assert client.patch(f"/api/webhooks/{pk}/", {"url": "http://127.0.0.1:1/"}).status_code in (
            status,
        )
        assert client.delete(f"/api/webhooks/{pk}/").status_code == status
        assert client.get("/api/webhooks/").json() == []
        made = client.post(
            "/api/webhooks/", {"url": "http://127.0.0.1:6666/", "project": project.pk}
        )
        assert made.status_code == status
    assert client_for(None).get("/api/webhooks/").status_code == 401

    # Organization-wide hooks: staff only; Label Studio's 404 for anyone else.
    assert api.post("/api/webhooks/", {"url": "http://127.0.0.1:6666/"}).status_code == 404
    org = client_for(staff).post(
        "/api/webhooks/", {"url": "http://127.0.0.1:6666/", "actions": ["PROJECT_CREATED"]}
    )
    assert org.status_code == 201, org.content
    assert org.json()["project"] is None
    assert api.get(f"/api/webhooks/{org.json()['id']}/").status_code == 404
    assert [h["id"] for h in api.get("/api/webhooks/").json()] == [pk]
    staff_api = client_for(staff)
    assert [h["id"] for h in staff_api.get("/api/webhooks/?project=null").json()] == [
        org.json()["id"]
    ]
    assert [h["id"] for h in staff_api.get(f"/api/webhooks/?project={project.pk}").json()] == [pk]
    assert staff_api.get("/api/webhooks/?project=x").status_code == 400
    assert staff_api.get(f"/api/webhooks/?project={2**70}").status_code == 400


def test_refused_input(api, project, allow_loopback):
    def post(**body):
        return api.post("/api/webhooks/", {"project": project.pk, **body}, format="json")

    bad = post(url="http://127.0.0.1:1/", actions=["PROJECT_CREATED"])
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "actions"
    assert "organization-only" in str(bad.json()["validation_errors"])
    assert post(url="http://127.0.0.1:1/", actions=["NOPE"]).status_code == 400
    assert post(url="not a url").status_code == 400
    for headers, field in (
        ({"bad name": "x"}, "headers.bad name"),
        ({"Host": "evil"}, "headers.Host"),
        ({"X-LabelHub-Signature": "x"}, "headers.X-LabelHub-Signature"),
        ({"A": 1}, "headers.A"),
        ({"A": "x\r\nB: y"}, "headers.A"),
        ({"A": "caf\u00e9"}, "headers.A"),
        ({f"h{i}": "x" for i in range(11)}, "headers"),
        ({"A": "********"}, "headers.A"),
    ):
        refused = post(url="http://127.0.0.1:1/", headers=headers)
        assert refused.status_code == 400, headers
        assert refused.json()["errors"][0]["field"] == field
    assert not Webhook.objects.exists()


def test_hidden_header_value_sent_back_keeps_it(api, project, allow_loopback):
    pk = api.post(
        "/api/webhooks/",
        {"url": "http://127.0.0.1:1/", "project": project.pk, "headers": {"Auth": "s3cret"}},
        format="json",
    ).json()["id"]
    shown = api.get(f"/api/webhooks/{pk}/").json()["headers"]
    assert shown == {"Auth": "********"}
    api.patch(f"/api/webhooks/{pk}/", {"headers": {**shown, "More": "x"}}, format="json")
    assert Webhook.objects.get(pk=pk).headers == {"Auth": "s3cret", "More": "x"}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6666/webhook",
        "http://localhost/",
        "http://10.1.2.3/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[2002:7f00:1::1]/",
        "http://[::ffff:127.0.0.1]/",
        "ftp://example.com/",
        "http://user:pw@127.0.0.1/",
    ],
)
def test_ssrf_refused_at_save(api, project, url):
    refused = api.post("/api/webhooks/", {"url": url, "project": project.pk}, format="json")
    assert refused.status_code == 400, refused.content
    assert refused.json()["errors"][0]["field"] == "url"
    assert not Webhook.objects.exists()


def test_ssrf_refused_at_update(api, project, allow_loopback):
    pk = api.post(
        "/api/webhooks/", {"url": "http://127.0.0.1:1/", "project": project.pk}, format="json"
    ).json()["id"]
    refused = api.patch(f"/api/webhooks/{pk}/", {"url": "http://169.254.169.254/"}, format="json")
    assert refused.status_code == 400
    assert "LABELHUB_WEBHOOK_ALLOWED_HOSTS" in str(refused.json()["validation_errors"])
    assert Webhook.objects.get(pk=pk).url == "http://127.0.0.1:1/"


def test_list_queries_do_not_grow_with_hooks(
    api, project, allow_loopback, django_assert_num_queries
):
    for n in range(3):
        api.post(
            "/api/webhooks/",
            {"url": f"http://127.0.0.1:1/{n}", "project": project.pk, "actions": ["TASKS_CREATED"]},
            format="json",
        )
    # The token and its user, the hooks, their actions (one prefetch).
    with django_assert_num_queries(3):
        listed = api.get("/api/webhooks/")
    assert [h["actions"] for h in listed.json()] == [["TASKS_CREATED"]] * 3
