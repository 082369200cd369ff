"""巡查 in a real browser: a grid worker on a phone clocks in, starts a patrol, walks (the test moves
the phone's location), reports an incident on the way, comes back and stops; the patrol holds the
track and the incident, and the community secretary sees the patrol, its track and the week's
compliance."""
from __future__ import annotations

import time

from playwright.sync_api import expect
from sqlalchemy import func, select, text

from app.models import ClockIn, Grid, GridgovUser, Incident, IncidentCategory, Patrol

START = (35.7461, 114.2951)
STEP = 0.00004  # 4.4 m north a step: a walk, not a jump


def walk(worker, steps: int, offset: int) -> None:
    """Move the phone north a step at a time, a little under a second apart."""
    for i in range(steps):
        worker.context.set_geolocation({"latitude": START[0] + STEP * (offset + i), "longitude": START[1],
                                        "accuracy": 8})
        worker.page.wait_for_timeout(900)


def test_a_worker_patrols_on_a_phone_reports_on_the_way_and_the_secretary_sees_it(journey, session):
    worker = journey.user(phone=True)
    worker.context.grant_permissions(["geolocation"])
    worker.context.set_geolocation({"latitude": START[0], "longitude": START[1], "accuracy": 8})
    worker.login("worker")
    page = worker.page
    page.goto("/")
    page.locator("a.btn[href='/patrolmodelview/patrol/']").click()
    page.wait_for_url("**/patrolmodelview/patrol/")  # the new page, not the home page it leaves
    page.wait_for_load_state()
    worker.assert_fits()
    page.get_by_role("button", name="在此打卡").click()
    expect(page.locator(".alert-success")).to_contain_text("打卡成功")
    page.get_by_role("button", name="开始巡查").click()
    expect(page.locator("#patrol")).to_be_visible()
    worker.screenshot("patrol-1-under-way-phone")
    walk(worker, 6, 0)
    expect(page.locator("#patrol-status")).to_contain_text("轨迹已保存", timeout=15000)

    # an incident on the way: reported from the patrol page, then back to it
    page.get_by_role("link", name="事件上报").click()
    category = session.scalar(select(IncidentCategory.id).where(IncidentCategory.name == "安全隐患"))
    page.locator(f"input[name=category][value='{category}']").check(force=True)
    page.fill("#title", "巡查发现井盖松动")
    page.select_option("#grid", str(session.scalar(select(Grid.id).where(Grid.code == "410611001001-01-01"))))
    page.get_by_role("button", name="上报", exact=True).click()
    expect(page.locator("body")).to_contain_text("巡查发现井盖松动")
    page.goto("/patrolmodelview/patrol/")
    walk(worker, 6, 6)
    expect(page.locator("#patrol-status")).to_contain_text("轨迹已保存", timeout=15000)
    worker.assert_fits()
    worker.screenshot("patrol-2-walked-phone")
    page.get_by_role("button", name="结束巡查").click()
    expect(page.locator(".alert-success")).to_contain_text("巡查已结束")
    expect(page.locator("svg.gridgov-track")).to_be_visible()
    worker.assert_fits()
    worker.screenshot("patrol-3-stopped-phone")

    session.expire_all()
    me = session.scalar(select(GridgovUser.worker_id).where(GridgovUser.username == "worker"))
    patrol = session.scalar(select(Patrol).where(Patrol.worker_id == me))
    assert patrol.ended_at is not None and patrol.points >= 8 and patrol.jumps == 0
    assert patrol.distance_m > 20
    incident = session.scalar(select(Incident).where(Incident.title == "巡查发现井盖松动"))
    assert incident.patrol_id == patrol.id
    assert session.scalar(select(ClockIn.worker_id).where(ClockIn.worker_id == me)) == me

    secretary = journey.user().login("secretary")
    page = secretary.page
    page.goto("/patrolmodelview/list/")
    page.locator(f"a[href*='/patrolmodelview/show/{patrol.id}']").first.click()
    expect(page.locator("svg.gridgov-track")).to_be_visible()
    expect(page.get_by_role("link", name="巡查发现井盖松动")).to_be_visible()
    secretary.screenshot("patrol-4-secretary-sees-patrol")
    page.goto("/")
    page.locator("a.btn[href='/patrolmodelview/compliance/']").click()
    expect(page.locator("h2")).to_contain_text("巡查达标情况")
    secretary.assert_labelled()
    secretary.screenshot("patrol-5-secretary-compliance")


def test_points_kept_on_the_phone_beyond_a_batch_are_all_sent(journey, session):
    """A phone long without signal holds more points than the server takes at once (2000): they go
    a batch after another, none lost."""
    worker = journey.user(phone=True)
    worker.login("worker")
    page = worker.page
    page.goto("/patrolmodelview/patrol/")
    page.get_by_role("button", name="开始巡查").click()
    expect(page.locator("#patrol")).to_be_visible()
    me = session.scalar(select(GridgovUser.worker_id).where(GridgovUser.username == "worker"))
    session.execute(Patrol.__table__.update().where(Patrol.worker_id == me, Patrol.ended_at.is_(None))
                    .values(started_at=func.now() - text("interval '1 hour'")))
    session.commit()
    page.reload()
    page.evaluate("""() => {
        const box = document.getElementById("patrol");
        const start = parseInt(box.getAttribute("data-started"), 10);
        const points = [];
        for (let i = 1; i <= 2500; i++) {
            points.push({lat: 35.7461 + 0.00001 * i, lon: 114.2951, t: start + 1000 * i, acc: 8});
        }
        localStorage.setItem("gridgov-patrol-points", JSON.stringify({
            patrol: box.getAttribute("data-patrol"), url: box.getAttribute("data-points-url"),
            csrf: box.getAttribute("data-csrf"), points: points}));
    }""")
    page.reload()
    deadline = time.time() + 30
    stored = 0
    while time.time() < deadline:
        session.expire_all()
        stored = session.scalar(select(Patrol).where(Patrol.worker_id == me, Patrol.ended_at.is_(None))).points
        if stored == 2500:
            break
        page.wait_for_timeout(500)
    assert stored == 2500
