"""The Data Manager's pages: next and previous by keyset, page numbers by OFFSET, the last
page from the end, and the editor's Previous/Next in the current filter and order."""

import pytest

from datamanager import selectors as dm
from tests.factories import item, query

pytestmark = pytest.mark.django_db

ORDERINGS = [
    [],
    ["-tasks:id"],
    ["tasks:predictions_score"],
    ["-tasks:predictions_score"],
    ["tasks:completed_at"],
    ["tasks:data.caption"],
    ["-tasks:meta.batch", "tasks:total_predictions"],
    ["tasks:ground_truth"],
]


def ids(rows) -> list[int]:
    return [t.pk for t in rows]


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_previous_walks_back_over_the_same_pages(world, ordering):
    parsed = dm.parse_query(query(ordering=ordering))
    everything = ids(dm.tasks_page(project=world.project, query=parsed, page=1, size=100)[0])
    pages, window = [], dm.tasks_window(project=world.project, query=parsed, size=2)
    assert window.previous_before is None
    while True:
        pages.append(ids(window.rows))
        if window.next_after is None:
            break
        window = dm.tasks_window(
            project=world.project, query=parsed, after=window.next_after, size=2
        )
    assert sum(pages, []) == everything and len(pages) == 3
    back = []
    while window.previous_before is not None:
        window = dm.tasks_window(
            project=world.project, query=parsed, before=window.previous_before, size=2
        )
        back.append(ids(window.rows))
    assert back == pages[:-1][::-1]
    # page numbers (OFFSET) give the same pages
    for number, expected in enumerate(pages, start=1):
        assert (
            ids(dm.tasks_window(project=world.project, query=parsed, page=number, size=2).rows)
            == expected
        )


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_last_page_is_the_tail_and_keeps_page_bounds(world, ordering):
    parsed = dm.parse_query(query(ordering=ordering))
    everything = ids(dm.tasks_page(project=world.project, query=parsed, page=1, size=100)[0])
    # 6 tasks, 4 a page: the last page (2) holds 2 rows; its previous page is page 1
    last = dm.tasks_window(project=world.project, query=parsed, page=2, size=4, last=2)
    assert ids(last.rows) == everything[4:] and last.next_after is None
    first = dm.tasks_window(
        project=world.project, query=parsed, before=last.previous_before, size=4
    )
    assert ids(first.rows) == everything[:4] and first.previous_before is None


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_neighbours_follow_filter_and_order(world, ordering):
    body = query(item("total_annotations", "less", 2, "Number"), ordering=ordering)
    parsed = dm.parse_query(body)
    order = ids(dm.tasks_page(project=world.project, query=parsed, page=1, size=100)[0])
    assert world.ids[1] not in order  # two annotations: filtered out
    for index, task_id in enumerate(order):
        previous, following = dm.task_neighbours(
            project=world.project, query=parsed, task_id=task_id
        )
        assert previous == (order[index - 1] if index else None)
        assert following == (order[index + 1] if index + 1 < len(order) else None)


def test_neighbours_of_a_task_outside_the_filter(world):
    parsed = dm.parse_query(query(item("total_annotations", "less", 2, "Number")))
    previous, following = dm.task_neighbours(
        project=world.project, query=parsed, task_id=world.ids[1]
    )
    assert (previous, following) == (world.ids[0], world.ids[2])


def test_editor_page_previous_next_carry_the_query(client, owner, world):
    client.force_login(owner)
    base = f"/projects/{world.project.pk}/data"
    params = "f=total_annotations&op=less&v=2&t=Number&order=-tasks%3Aid"
    escaped = params.replace("&", "&amp;")
    html = client.get(f"{base}?{params}&size=10").content.decode()
    # the pencil carries the filter and order, not the page size
    assert f'/tasks/{world.ids[5]}?{escaped}"' in html
    page = client.get(f"/projects/{world.project.pk}/tasks/{world.ids[2]}?{params}")
    html = page.content.decode()
    # ids descending, task 1 filtered out: 2's previous is 3, its next is 0
    assert f'data-previous-task="{world.ids[3]}"' in html
    assert f'data-next-task="{world.ids[0]}"' in html
    assert f'/tasks/{world.ids[0]}?{escaped}"' in html
    assert f'href="{base}?{escaped}"' in html  # back to the same Data Manager page
    # no query: id order, as before
    html = client.get(f"/projects/{world.project.pk}/tasks/{world.ids[2]}").content.decode()
    assert f'data-previous-task="{world.ids[1]}"' in html
    assert f'data-next-task="{world.ids[3]}"' in html
    # a broken query falls back to id order, never a 500
    page = client.get(f"/projects/{world.project.pk}/tasks/{world.ids[2]}?query=%7Bbad")
    assert page.status_code == 200 and f'data-next-task="{world.ids[3]}"' in page.content.decode()
