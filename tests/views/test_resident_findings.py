"""What a review found in 一户一档, each a request that once failed: refused visits shown as messages, a year-one visit refused, a resident without a phone added, the visit due date telling no one of a sensitive tag."""
from __future__ import annotations

from sqlalchemy import func, select

from app.models import Resident, Visit

from .helpers import WORKER_BLOCK, grid_id


def _worker_resident(session, *, tagged=None) -> Resident:
    query = select(Resident).join(Resident.grid).where(Resident.moved_out.is_(None), Resident.household_id.is_not(None))
    if tagged is not None:
        query = query.where(Resident.tags.contains([tagged]))
    return session.scalar(query.order_by(Resident.id))


def _visit(browser, resident_id, **fields):
    data = {"resident": resident_id, "household": "", "visited_at": "", "method": "home", "found": "走访情况",
            "follow_up": "", "incident_category": "", "incident_title": "", "incident_urgency": ""}
    data.update(fields)
    return browser.post("/visitmodelview/add", data)


def test_a_visit_the_service_refuses_shows_its_message_not_a_500(login, session):
    # process_form deletes the incident_* fields from the form before _save; a refusal re-renders it
    person = _worker_resident(session)
    response = _visit(login("worker"), person.id, visited_at="2030-01-01 10:00")
    assert response.status_code == 200, response.status_code


def test_a_visit_to_a_moved_out_resident_is_refused_with_a_message_not_a_500(login, session):
    person = _worker_resident(session)
    worker = login("worker")
    worker.post(f"/residentmodelview/move_out/{person.id}", {"on": "2026-01-01"})
    response = _visit(worker, person.id)
    assert response.status_code == 200, response.status_code


def test_a_visit_dated_year_one_is_refused_and_does_not_break_every_page(login, session):
    person = _worker_resident(session)
    worker = login("worker")
    before = session.scalar(select(func.count()).select_from(Visit))
    _visit(worker, person.id, visited_at="0001-01-01 00:00")
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Visit)) == before
    assert worker.get("/residentmodelview/list/").status_code == 200
    assert worker.get("/visitmodelview/list/").status_code == 200


def test_a_resident_without_a_mobile_phone_can_be_added(login, session):
    # a child or an old person has no phone: the model, the database and the import allow none
    response = login("secretary").post("/residentmodelview/add", {
        "grid": grid_id(session, WORKER_BLOCK), "household": "", "relation": "", "name": "无手机",
        "id_number": "11010519491231002X", "phone": "", "ethnicity": "", "residence_status": "registered",
        "moved_in": "", "moved_out": "", "workplace": ""})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def test_the_visits_due_do_not_tell_a_worker_who_carries_only_a_sensitive_tag(login, session):
    # a resident whose tags the worker sees empty but who has a next visit due carries a sensitive tag
    person = session.scalar(select(Resident).where(Resident.tags == ["community_correction"],
                                                   Resident.next_visit_due.is_not(None)).order_by(Resident.id))
    assert person is not None
    html = login("worker").get(f"/residentmodelview/show/{person.id}").get_data(as_text=True)
    assert person.next_visit_due.isoformat() not in html
