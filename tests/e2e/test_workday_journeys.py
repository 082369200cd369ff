"""The working day in a real browser: a secretary assigns and the worker's phone home shows it; a
street officer urges an overdue incident and the holder's to-dos show it; the dispatcher declares
a response from the button on the home page."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select, text, update

from app.models import Grid, Incident, IncidentCategory, Worker
from app.models.users import GridgovUser
from app.services import incidents

from .test_journeys import act, submit

BLOCK = "410611001001-01"  # the demo worker's block
BUILDING = BLOCK + "-01"  # one of its buildings


def reported(session, username: str, title: str, code: str = BUILDING) -> Incident:
    user = session.scalar(select(GridgovUser).where(GridgovUser.username == username))
    grid = session.scalar(select(Grid.id).where(Grid.code == code))
    category = session.scalar(select(IncidentCategory.id).where(IncidentCategory.name == "环境卫生"))
    return incidents.report(session, incidents.actor_from_user(session, user),
                            incidents.Report(grid_id=grid, category_id=category, title=title))


def test_the_secretary_assigns_and_the_worker_phone_home_shows_it(journey, session):
    incident = reported(session, "secretary", "单元门禁损坏", BLOCK)
    worker_id = session.scalar(select(Worker.id).join(Grid, Worker.grid_id == Grid.id)
                               .where(Grid.path.descendant_of(select(Grid.path).where(Grid.code == BLOCK)
                                                              .scalar_subquery()),
                                      Worker.role.in_(("grid_worker", "grid_leader")))
                               .order_by(Worker.id))
    assert worker_id is not None
    secretary = journey.user().login("secretary")
    secretary.page.goto(f"/incidentmodelview/show/{incident.id}")
    act(secretary, "accept")
    act(secretary, "assign", worker=str(worker_id))
    session.expire_all()
    assert session.get(Incident, incident.id).status == "dispatched"

    worker = journey.user(phone=True).login("worker")
    page = worker.page
    page.goto("/")
    item = page.locator(f".gridgov-todo a[href='/incidentmodelview/show/{incident.id}']")
    expect(item).to_contain_text("单元门禁损坏")
    expect(item).to_contain_text("已分派")
    expect(page.locator(".gridgov-todos .badge")).to_be_visible()
    worker.assert_fits()
    worker.screenshot("6-worker-home-phone")
    with page.expect_navigation():
        item.click()
    expect(page.locator("form:has(input[name=action][value=start])")).to_be_visible()


def test_the_street_urges_an_overdue_incident_and_the_holder_sees_it(journey, session):
    incident = reported(session, "worker", "楼顶漏水")
    session.execute(update(Incident).where(Incident.id == incident.id).values(
        deadline_from=text("now() - interval '75 hours'"), deadline=text("now() - interval '3 hours'")))
    session.commit()
    street = journey.user().login("street")
    page = street.page
    page.goto("/")
    expect(page.locator(f"#todo-overdue_below a[href='/incidentmodelview/show/{incident.id}']")).to_be_visible()
    page.goto(f"/incidentmodelview/show/{incident.id}")
    form = page.locator("form:has(input[name=action][value=urge])")
    form.locator("textarea[name=note]").fill("请今天下班前处理完毕")
    street.assert_labelled()
    submit(page, form.locator("button[type=submit]"))
    expect(page.locator(".gridgov-timeline")).to_contain_text("请今天下班前处理完毕")
    street.screenshot("6-street-urges")

    worker = journey.user(phone=True).login("worker")
    worker.page.goto("/")
    item = worker.page.locator(".gridgov-todo-urgent", has=worker.page.locator(
        f"a[href='/incidentmodelview/show/{incident.id}']"))
    expect(item).to_contain_text("被催办")
    expect(item).to_contain_text("超期")
    worker.assert_fits()
    worker.screenshot("6-worker-urged-phone")


def test_the_dispatcher_declares_from_the_home_button(journey, session):
    from app.models import EmergencyResponse

    dispatcher = journey.user().login("dispatcher")
    page = dispatcher.page
    page.goto("/")
    with page.expect_navigation():
        page.locator(".gridgov-quick a[href='/emergencyresponsemodelview/declare']").click()
    street = session.scalar(select(Grid).where(Grid.code == "410611001"))
    page.select_option("#level", "III")
    page.select_option("#area", str(street.id))
    page.fill("#title", "寒潮三级响应")
    page.fill("#directive", "检查独居老人取暖设施")
    submit(page, page.get_by_role("button", name="启动并一键下达到每个网格"))
    page.wait_for_url(re.compile(r"/emergencyresponsemodelview/show/\d+"))
    declared = session.scalar(select(EmergencyResponse).order_by(EmergencyResponse.id.desc()))
    assert declared.title == "寒潮三级响应"
    page.goto("/")
    expect(page.locator(".gridgov-response").first).to_contain_text("寒潮三级响应")
    dispatcher.screenshot("6-dispatcher-home")
