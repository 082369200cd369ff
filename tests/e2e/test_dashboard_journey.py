"""The leader's dashboard in a real browser: the charts draw (no console error, nothing fetched off
the app), a click on a sub-area's bar and on a community's row drills down, the phone shows it all
without sideways scrolling."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from ..views.helpers import XIANGJIANG, grid_id

CHARTS = ("#chart-trend", "#chart-categories", "#chart-areas", "#chart-emergency")


def click_bar(page, chart: str, index: int) -> None:
    """Click the middle of the ``index``-th bar (from the top) of a horizontal bar chart."""
    page.locator(chart).scroll_into_view_if_needed()
    x, y = page.evaluate("""([selector, index]) => {
        const chart = echarts.getInstanceByDom(document.querySelector(selector));
        const data = chart.getOption().series[0].data;
        const row = data.length - 1 - index;  // drawn bottom-up
        const end = chart.convertToPixel({seriesIndex: 0}, [data[row].value, row]);
        const start = chart.convertToPixel({seriesIndex: 0}, [0, row]);
        return [(start[0] + end[0]) / 2, end[1]];
    }""", [chart, index])
    box = page.locator(chart).bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)


def test_leader_opens_the_dashboard_and_drills_down(journey, session):
    street_id, community_id = grid_id(session, "410611001"), grid_id(session, XIANGJIANG)
    leader = journey.user().login("leader")
    page = leader.page
    page.goto("/")
    page.get_by_role("link", name="数据大屏").first.click()
    page.wait_for_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_role("heading", name=re.compile("数据大屏 · 淇滨区"))).to_be_visible()
    for chart in CHARTS:
        expect(page.locator(f"{chart} canvas")).to_have_count(1)
    assert page.evaluate("document.querySelector('#chart-trend canvas').width") > 0
    leader.screenshot("dashboard-leader-desk")

    click_bar(page, "#chart-areas", 0)  # 九州路街道 ranks first (3 of 8 resolved)
    page.wait_for_url(re.compile(rf"/dashboard/{street_id}$"))
    expect(page.get_by_role("heading", name=re.compile("九州路街道"))).to_be_visible()
    expect(page.locator("#chart-areas canvas")).to_have_count(1)
    page.locator(f".gridgov-areas a[data-area='{community_id}']").click()
    page.wait_for_url(re.compile(rf"/dashboard/{community_id}$"))
    expect(page.get_by_role("heading", name=re.compile("湘江社区"))).to_be_visible()
    expect(page.locator(".breadcrumb")).to_contain_text("淇滨区")
    expect(page.locator("#chart-trend canvas")).to_have_count(1)

    # ranked by on-time rate, the chart redraws in place
    page.goto("/dashboard/")
    page.locator("[data-rank=on_time]").click()
    expect(page.locator("[data-rank=on_time]")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("echarts.getInstanceByDom(document.querySelector('#chart-areas'))"
                         ".getOption().xAxis[0].max") == 100


def test_the_dashboard_on_a_phone(journey, session):
    leader = journey.user(phone=True).login("leader")
    page = leader.page
    page.goto("/dashboard/")
    for chart in CHARTS:
        expect(page.locator(f"{chart} canvas")).to_have_count(1)
    leader.assert_fits()
    leader.screenshot("dashboard-leader-phone")
    community = grid_id(session, "410611002")
    page.locator(f".gridgov-areas a[data-area='{community}']").click()  # a stacked card's name
    page.wait_for_url(re.compile(rf"/dashboard/{community}$"))
    leader.assert_fits()
