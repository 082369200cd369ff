"""一户一档 in a real browser: a grid worker on a phone finds a resident by the last four digits of
their phone, records a visit from the resident's page and raises an incident with it; the visit
and the incident are both there, the resident is no longer due, and the phone never showed the
sensitive tag the worker may not see."""
from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import func, select

from app.models import Grid, Incident, Resident, Visit
from app.services.local_time import local_today

from .test_journeys import save


def test_a_grid_worker_finds_a_resident_by_four_digits_records_a_visit_and_raises_an_incident(journey, session):
    # a resident of the worker's block due a visit for a tag of care the worker sees
    person = session.scalar(select(Resident).join(Resident.grid).where(
        Grid.code.startswith("410611001001-01"), Resident.care_visit_due <= local_today()).order_by(Resident.id))
    assert person is not None and person.phone
    four = person.phone[-4:]
    incidents_before = session.scalar(select(func.count()).select_from(Incident))

    worker = journey.user(phone=True).login("worker")
    page = worker.page
    page.goto("/")
    # the to-dos name the resident due a visit; the quick button opens the residents' find box
    expect(page.locator("#todo-visits")).to_contain_text(person.name)
    with page.expect_navigation():
        page.locator(".gridgov-quick a[href='/residentmodelview/list/']").click()
    page.locator("#find-person").fill(four)
    with page.expect_navigation():
        page.locator("#find-person").press("Enter")
    row = page.locator("table.gridgov-list > tbody > tr", has_text=person.name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(person.phone)  # the worker manages the residents: the phone in clear
    expect(page.locator("body")).not_to_contain_text("社区矫正")  # no sensitive tag on the worker's phone
    worker.assert_fits()
    worker.screenshot("7-worker-finds-resident-phone")

    with page.expect_navigation():
        row.locator(f"a[href='/residentmodelview/show/{person.id}']").first.click()
    with page.expect_navigation():
        page.locator("#record-visit").click()
    expect(page.locator("#resident option:checked")).to_contain_text(person.name)
    page.select_option("#method", "home")
    page.fill("#found", "楼道声控灯坏了，老人夜间上下楼不便")
    page.select_option("#incident_category", label="公共服务")
    worker.assert_labelled()
    worker.assert_fits()
    worker.screenshot("7-worker-records-visit-phone")
    save(page)

    session.expire_all()
    visit = session.scalar(select(Visit).where(Visit.resident_id == person.id).order_by(Visit.id.desc()))
    assert visit is not None and visit.found == "楼道声控灯坏了，老人夜间上下楼不便"
    assert visit.incident_id is not None
    incident = session.get(Incident, visit.incident_id)
    assert incident.grid_id == person.grid_id and incident.status == "reported"
    assert session.scalar(select(func.count()).select_from(Incident)) == incidents_before + 1
    assert session.get(Resident, person.id).next_visit_due > local_today()  # visited: no longer due

    # the incident is one tap away on the visit's record, and the worker's to-dos hold it
    page.goto(f"/visitmodelview/show/{visit.id}")
    expect(page.locator("body")).to_contain_text(incident.title)
    page.goto("/")
    expect(page.locator(f".gridgov-todo a[href='/incidentmodelview/show/{incident.id}']")).to_be_visible()
