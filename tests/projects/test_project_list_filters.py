"""test_projects.tavern.yml: ``?include=`` on a project, ``?ids=``, ``ordering``,
``pinned_at`` with ``filter=pinned_only|exclude_pinned|all``, and instructions cleaned
of script."""

import pytest

from tests.factories import TEXT_CONFIG

pytestmark = pytest.mark.django_db


def _create(api, **fields):
    response = api.post(
        "/api/projects", {"title": "p", "label_config": TEXT_CONFIG, **fields}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_include_keeps_only_those_fields(api):
    pk = _create(api)
    assert api.get(f"/api/projects/{pk}?include=id").json() == {"id": pk}
    assert set(api.get(f"/api/projects/{pk}?include=id,title").json()) == {"id", "title"}


def test_ids_filter_and_ordering(api, make_project):
    first, second = _create(api), _create(api)
    other = make_project(TEXT_CONFIG, "not asked").pk
    assert [p["id"] for p in api.get(f"/api/projects?ids={first}").json()["results"]] == [first]
    both = api.get(f"/api/projects?ids={first},{second}&ordering=created_at").json()["results"]
    assert [p["id"] for p in both] == [first, second]
    backwards = api.get(f"/api/projects?ids={first},{second}&ordering=-id").json()["results"]
    assert [p["id"] for p in backwards] == [second, first]
    assert other not in [p["id"] for p in both]
    assert api.get("/api/projects?ordering=label_config").status_code == 400
    assert api.get("/api/projects?ids=1,x").status_code == 400
    counts = api.get(f"/api/projects/counts?ids={second}").json()["results"]
    assert [p["id"] for p in counts] == [second]


def test_pinned_projects_first_and_filters(api, client_for, outsider):
    pinned = _create(api, pinned_at="2022-06-17T18:20:09.707589Z")
    plain = _create(api)
    assert api.get(f"/api/projects/{pinned}").json()["pinned_at"].startswith("2022-06-17T18:20:09")
    listed = lambda query="": [p["id"] for p in api.get(f"/api/projects{query}").json()["results"]]  # noqa: E731
    assert listed("?filter=pinned_only") == [pinned]
    assert listed("?filter=exclude_pinned") == [plain]
    assert listed("?filter=all") == [pinned, plain]
    assert listed() == [pinned, plain]
    assert api.get("/api/projects?filter=nope").status_code == 400
    unpinned = api.patch(f"/api/projects/{pinned}", {"pinned_at": None}, format="json")
    assert unpinned.json()["pinned_at"] is None
    assert listed() == [plain, pinned]
    assert client_for(outsider).get("/api/projects?filter=pinned_only").json()["count"] == 0


def test_instructions_are_cleaned_like_label_studio(api):
    pk = _create(api, expert_instruction="<p onclick=x()>Hi</p><script>alert(1)</script>")
    assert api.get(f"/api/projects/{pk}").json()["expert_instruction"] == "<p>Hi</p>"
    url = f"/api/projects/{pk}"
    cases = {
        '<a href="#" onerror=alert(1)>': '<a href="#"></a>',
        '<iframe src="somepath"></iframe>': '<iframe src="somepath"></iframe>',
        '<embed type="video/webm" src="/media/cc0-videos/flower.mp4" width="250" height="200">': (
            '<embed type="video/webm" src="/media/cc0-videos/flower.mp4" width="250" height="200">'
        ),
        '<a href="javascript:alert(1)">x</a>': "<a>x</a>",
    }
    for given, stored in cases.items():
        answer = api.patch(url, {"expert_instruction": given}, format="json").json()
        assert answer["expert_instruction"] == stored, given
