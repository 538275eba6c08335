"""The Data Manager in Chromium at 1280 px: every data key as a column and a filter, a wide
table that scrolls sideways, page numbers / first / last / go to page, a click and a
Ctrl+click on a row, and the editor's Previous/Next in the current filter and order.
Screenshots go to $LABELHUB_SCREENSHOTS (default /tmp/labelhub-dm-shots)."""

import pytest

from tests.datamanager.test_browser import found, labeled, row_ids, shot  # noqa: F401
from tests.factories import TEXT_CONFIG
from tests.frontend.conftest import browser, make_project, page  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SOURCES = ("web", "mail", "phone")


@pytest.fixture
def wide(make_project):  # noqa: F811
    """75 text tasks whose data carries keys the config never reads."""
    records = [
        {
            "text": f"Message {i:02d}: " + "the parcel arrived late and the box was damaged " * 2,
            "source": SOURCES[i % 3],
            "customer_reference_number": f"CUST-{1000 + i}",
            "extra": {"lang": "en", "tags": ["late", "box"], "n": i},
            "rating": i % 5,
        }
        for i in range(75)
    ]
    return make_project(TEXT_CONFIG, records)


def page_numbers(browser_page) -> list[str]:
    browser_page.wait_for_selector("[data-page-link]")
    return browser_page.eval_on_selector_all(
        "[data-page-numbers] a, [data-page-numbers] .gap", "els => els.map(e => e.textContent)"
    )


def test_every_key_is_a_column_and_a_filter(page, owner, wide):  # noqa: F811
    project, ids = wide
    page.login(owner)
    page.open(f"/projects/{project.pk}/data?size=10")
    assert found(page) == 75
    for key in ("text", "source", "customer_reference_number", "extra", "rating"):
        assert page.locator(f"th[data-col='data.{key}']").count() == 1
    first = page.locator(f"tr[data-task-id='{ids[0]}']")
    assert first.locator("td[data-col='data.source']").inner_text() == "web"
    assert '"lang": "en"' in first.locator("td[data-col='data.extra']").inner_text()
    # Wide: the table scrolls sideways inside its frame, the page itself does not, and
    # no header is cut (each one is as wide as its text).
    sizes = page.evaluate(
        """() => { const w = document.querySelector('.table-wrap');
        return {scroll: w.scrollWidth, client: w.clientWidth,
                page: document.documentElement.scrollWidth, view: window.innerWidth,
                cut: [...document.querySelectorAll('[data-dm-table] th')]
                       .filter(th => th.scrollWidth > th.clientWidth + 1).map(th => th.dataset.col)}; }"""
    )
    assert sizes["scroll"] > sizes["client"] and sizes["page"] <= sizes["view"]
    assert sizes["cut"] == []
    shot(page, "10-every-data-key-a-column")
    page.evaluate("() => { document.querySelector('.table-wrap').scrollLeft = 100000; }")
    last = page.locator("th[data-col=updated_at]").bounding_box()
    assert last["x"] + last["width"] <= 1280
    shot(page, "11-wide-table-scrolled")

    # Filter on a key the labeling config does not read
    row = page.locator("[data-filter-row]").last
    row.locator("[data-filter-column]").select_option("data.source")
    row.locator("[data-filter-operator]").select_option("equal")
    row.locator("[data-filter-value]").fill("mail")
    page.click("[data-apply-filters]")
    page.wait_for_load_state("load")
    assert found(page) == 25
    assert set(
        page.eval_on_selector_all(
            "td[data-col='data.source']", "cells => cells.map(c => c.textContent.trim())"
        )
    ) == {"mail"}
    shot(page, "12-filter-on-data-source")


def test_page_numbers_first_last_and_go_to(page, owner, wide):  # noqa: F811
    project, ids = wide
    page.login(owner)
    page.open(f"/projects/{project.pk}/data?size=10")
    assert found(page) == 75
    assert page_numbers(page) == ["1", "2", "3", "…", "8"]
    assert page.inner_text("[data-page-of]") == "Page 1 of 8"
    assert row_ids(page) == ids[:10]
    shot(page, "13-pager-page-1")

    page.click("[data-page-link='3']")
    page.wait_for_selector("[data-page-link='3'].current")
    assert row_ids(page) == ids[20:30]
    # next and previous walk by keyset and land on the same pages as the numbers
    page.click("[data-next-page]")
    page.wait_for_selector("[data-page-link='4'].current")
    assert row_ids(page) == ids[30:40] and "after=" in page.url
    page.click("[data-previous-page]")
    page.wait_for_selector("[data-page-link='3'].current")
    assert row_ids(page) == ids[20:30] and "before=" in page.url
    assert page.inner_text("[data-page-of]") == "Page 3 of 8"
    shot(page, "14-pager-page-3")

    page.click("[data-last-page]")
    page.wait_for_selector("[data-page-link='8'].current")
    assert row_ids(page) == ids[70:]
    assert page.locator("[data-next-page]").count() == 0
    page.click("[data-previous-page]")
    page.wait_for_selector("[data-page-link='7'].current")
    assert row_ids(page) == ids[60:70]  # the last page kept the pages' bounds
    shot(page, "15-pager-after-last")

    page.fill("[data-goto-input]", "5")
    page.click("[data-goto-page] button")
    page.wait_for_selector("[data-page-link='5'].current")
    assert row_ids(page) == ids[40:50]
    page.fill("[data-goto-input]", "99")  # past the end: the last page
    page.click("[data-goto-page] button")
    page.wait_for_selector("[data-page-link='8'].current")
    assert row_ids(page) == ids[70:]
    page.click("[data-first-page]")
    page.wait_for_selector("[data-page-link='1'].current")
    assert row_ids(page) == ids[:10]

    # sorted the other way, with a filter: the same pager over what is found
    page.open(
        f"/projects/{project.pk}/data?size=10&order=-tasks:id&f=data.rating&op=less&v=2&t=Number"
    )
    assert found(page) == 30
    assert page_numbers(page) == ["1", "2", "3"]
    page.click("[data-last-page]")
    page.wait_for_selector("[data-page-link='3'].current")
    expected = [i for i in reversed(ids) if (ids.index(i) % 5) < 2]
    assert row_ids(page) == expected[20:]
    shot(page, "16-pager-filtered-sorted-last")


def test_row_click_quick_view_and_ctrl_click_new_tab(page, owner, wide):  # noqa: F811
    project, ids = wide
    page.login(owner)
    page.open(f"/projects/{project.pk}/data?size=10&f=data.source&op=equal&v=phone&t=String")
    assert found(page) == 25
    target = row_ids(page)[1]
    with page.context.expect_page() as new_tab:
        page.click(f"tr[data-task-id='{target}'] td[data-col=id]", modifiers=["Control"])
    tab = new_tab.value
    tab.wait_for_load_state()
    assert f"/tasks/{target}" in tab.url and "f=data.source" in tab.url
    tab.wait_for_selector("body.editor-ready", timeout=20000)
    tab.screenshot(
        path=str(
            __import__("tests.datamanager.test_browser", fromlist=["SHOTS"]).SHOTS
            / "17-ctrl-click-new-tab.png"
        )
    )
    # the editor's Next and Previous follow the filter (source = phone: every third task)
    assert tab.get_attribute("[data-next-task]", "data-next-task") == str(row_ids(page)[2])
    assert tab.get_attribute("[data-previous-task]", "data-previous-task") == str(row_ids(page)[0])
    tab.click("[data-next-task]")
    tab.wait_for_url(f"**/tasks/{row_ids(page)[2]}?*")
    tab.close()
    assert page.url.endswith("t=String")  # the list itself did not move
    # a plain click opens the row in the quick view
    page.click(f"tr[data-task-id='{target}'] td[data-col='data.source']")
    page.wait_for_selector(f"[data-quick-editor][data-loaded-task='{target}']", timeout=20000)
    page.wait_for_timeout(300)
    shot(page, "18-row-click-quick-view")


def test_ground_truth_manager_clears_its_filters(page, owner, labeled):  # noqa: F811
    project = labeled["project"]
    page.login(owner)
    page.open(
        f"/projects/{project.pk}/ground-truth?f=annotations_results&op=contains&v=Positive&t=String"
    )
    page.wait_for_function("() => document.querySelector('[data-gt-matched]')?.textContent === '3'")
    shot(page, "19-ground-truth-filtered")
    page.click("[data-clear-filters]")
    page.wait_for_function(
        "() => document.querySelector('[data-gt-matched]')?.textContent === '12'"
    )
    assert page.locator("[data-filter-row]").count() == 1
    assert page.input_value("[data-filter-row] [data-filter-column]") == ""
    assert "?" not in page.url
    shot(page, "20-ground-truth-filters-cleared")
