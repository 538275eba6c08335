"""The Data Manager, Verify and Ground Truth pages, server side (the browser tests
drive them for real)."""

import json

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser_client(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_full_view_lists_tasks_with_columns(browser_client, owner, world):
    html = browser_client(owner).get(f"/projects/{world.project.pk}/data").content.decode()
    for task_id in world.ids:
        assert f'data-task-id="{task_id}"' in html
    assert (
        f'data-task-id="{world.ids[0]}"' in html
        and 'data-reviews="1/0"' in html
        and 'data-reviews="0/1"' in html
    )
    assert "data-gt>★" in html
    assert 'src="/a/0.jpg"' in html  # image data shown as an image
    for button in ("label", "verify", "import", "export", "ground-truth"):
        assert f'data-button="{button}"' in html


def test_filter_form_and_query_param_give_the_same_rows(browser_client, owner, annotator, world):
    client = browser_client(owner)
    form = client.get(
        f"/projects/{world.project.pk}/data",
        {
            "f": ["annotations_results", "annotators", ""],
            "op": ["contains", "contains", "contains"],
            "v": ["Cat", str(annotator.pk), ""],
            "v2": ["", "", ""],
            "t": ["String", "List", ""],
        },
    ).content.decode()
    query = {
        "filters": {
            "conjunction": "and",
            "items": [
                {
                    "filter": "filter:tasks:annotations_results",
                    "operator": "contains",
                    "type": "String",
                    "value": "Cat",
                },
                {
                    "filter": "filter:tasks:annotators",
                    "operator": "contains",
                    "type": "List",
                    "value": annotator.pk,
                },
            ],
        }
    }
    param = client.get(
        f"/projects/{world.project.pk}/data", {"query": json.dumps(query)}
    ).content.decode()
    for html in (form, param):
        assert html.count('data-select-task="') == 1 and f'data-task-id="{world.ids[0]}"' in html


def test_sorting_links_and_order(browser_client, owner, world):
    html = (
        browser_client(owner)
        .get(f"/projects/{world.project.pk}/data", {"order": "-tasks:total_annotations"})
        .content.decode()
    )
    first_row = html.index("<tbody>")
    assert html.index(f'data-task-id="{world.ids[1]}"', first_row) < html.index(
        f'data-task-id="{world.ids[0]}"', first_row
    )
    assert 'class="sorted desc"' in html


def test_quick_view_and_paging(browser_client, owner, world):
    client = browser_client(owner)
    quick = client.get(
        f"/projects/{world.project.pk}/data", {"mode": "quick", "size": 10}
    ).content.decode()
    assert quick.count("data-quick-task=") == 6 and "frontend/editor.js" in quick
    page1 = client.get(
        f"/projects/{world.project.pk}/data", {"size": 10, "order": "tasks:id"}
    ).content.decode()
    assert "data-next-page" not in page1


def test_bad_query_shows_an_error_not_a_500(browser_client, owner, world):
    response = browser_client(owner).get(
        f"/projects/{world.project.pk}/data",
        {"query": '{"ordering": ["tasks:completed_by__password"]}'},
    )
    assert response.status_code == 200 and "data-query-error" in response.content.decode()


def test_roles_on_pages(browser_client, owner, reviewer, annotator, outsider, world):
    pid = world.project.pk
    pages = {
        "data": f"/projects/{pid}/data",
        "verify": f"/projects/{pid}/verify",
        "gt": f"/projects/{pid}/ground-truth",
        "export": f"/projects/{pid}/data/export",
    }
    expected = {
        "owner": {"data": 200, "verify": 200, "gt": 200, "export": 200},
        "reviewer": {"data": 200, "verify": 200, "gt": 403, "export": 403},
        "annotator": {"data": 403, "verify": 403, "gt": 403, "export": 403},
        "outsider": {"data": 404, "verify": 404, "gt": 404, "export": 404},
    }
    for name, user in {
        "owner": owner,
        "reviewer": reviewer,
        "annotator": annotator,
        "outsider": outsider,
    }.items():
        client = browser_client(user)
        for page, url in pages.items():
            assert client.get(url).status_code == expected[name][page], (name, page)
    reviewer_html = browser_client(reviewer).get(pages["data"]).content.decode()
    assert "data-delete-task" not in reviewer_html and "data-run-action" not in reviewer_html


OLD_EDITOR = settings.LABELHUB_EDITOR == "1.4"


def test_pages_send_a_csp(browser_client, owner, world):
    """The whole policy, spelled out: a directive dropped or loosened fails here. The Data
    Manager embeds the editor (quick view), so it has the editor's relaxations."""
    response = browser_client(owner).get(f"/projects/{world.project.pk}/data")
    assert response.status_code == 200
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy == {
        "default-src": "'self'",
        # the 1.23 editor: WebAssembly for audio (not JS eval), <embed> for PDF
        "script-src": "'self'" if OLD_EDITOR else "'self' 'wasm-unsafe-eval'",
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "* data: blob:",
        "media-src": "* data: blob:",
        "font-src": "'self' data:",
        "connect-src": "*",
        "worker-src": "'self' blob:",
        "frame-src": "'self'",
        "object-src": "'none'" if OLD_EDITOR else "* blob:",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


def test_export_options(browser_client, owner, world):
    client = browser_client(owner)

    def exported(**params):
        response = client.get(f"/projects/{world.project.pk}/data/export", params)
        return json.loads(b"".join(response.streaming_content))

    assert [t["id"] for t in exported(only="ground_truth")] == [world.ids[2]]
    assert [t["id"] for t in exported(only="accepted")] == [world.ids[0]]
    assert len(exported(download_all_tasks="true")) == 6
    assert "image" in exported(exportType="JSON_MIN", only="ground_truth")[0]
