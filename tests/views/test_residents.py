"""一户一档 over HTTP, per role: who sees phones and ID numbers in clear, who sees the sensitive
tags (list, record, export, search, picker), the access log of each look, scope, the forms'
messages, and a visit that raises an incident."""
from __future__ import annotations

import csv
import io
import json
import re

import pytest
from sqlalchemy import func, select

from app.models import GridgovUser, Incident, PersonalDataAccess, Resident, Visit
from app.services.local_time import local_today

from .helpers import FULL_MOBILE_RE, JINSHAN, WORKER_BLOCK, XIANGJIANG, grid_id, record_count

FULL_ID_RE = re.compile(r"(?<![\dX])\d{17}[\dX](?![\dX])")


def sensitive_resident(session) -> Resident:
    """A demo resident of the grid worker's block who carries a sensitive tag (seed/demo.py)."""
    return session.scalar(select(Resident).join(Resident.grid).where(
        Resident.tags.contains(["community_correction"])).order_by(Resident.id))


def csv_text(response) -> str:
    return response.get_data(as_text=True).lstrip("\ufeff")


@pytest.mark.parametrize("username, clear, sensitive", [
    ("secretary", True, True), ("worker", True, False), ("street", False, True), ("leader", False, False),
    ("dispatcher", False, False), ("admin", True, True),
])
def test_who_sees_numbers_and_sensitive_tags_in_list_record_and_export(login, session, username, clear, sensitive):
    person = sensitive_resident(session)
    assert person is not None and person.phone
    browser = login(username)
    search = f"?_flt_0_name={person.name}"
    listed = browser.get(f"/residentmodelview/list/{search}").get_data(as_text=True)
    assert person.name in listed
    record = browser.get(f"/residentmodelview/show/{person.id}").get_data(as_text=True)
    exported = csv_text(browser.get(f"/residentmodelview/export/csv{search}"))
    for page in (listed, record, exported):
        assert (person.phone in page) is clear
        assert (person.id_number in page) is clear
        assert (person.phone[-4:] in page)  # the mask shows the last four digits
        assert ("社区矫正对象" in page) is sensitive, username


def test_a_sensitive_tag_cannot_be_searched_for_without_its_permission(login, session):
    person = sensitive_resident(session)
    url = "/residentmodelview/list/?_flt_0_tags=community_correction"
    assert person.name in login("secretary").get(url).get_data(as_text=True)
    html = login("worker").get(url).get_data(as_text=True)
    assert person.name not in html and record_count(html) == 0
    assert "community_correction" not in login("worker").get("/residentmodelview/list/").get_data(as_text=True)


def test_the_search_by_last_four_digits_never_shows_the_whole_number_to_a_masked_role(login, session):
    person = sensitive_resident(session)
    html = login("leader").get(f"/residentmodelview/list/?_flt_0_name={person.phone[-4:]}").get_data(as_text=True)
    assert person.name in html
    assert not FULL_MOBILE_RE.search(html) and not FULL_ID_RE.search(html)
    # a part of a number other than its last four digits finds nobody
    html = login("leader").get(f"/residentmodelview/list/?_flt_0_name={person.phone[:7]}").get_data(as_text=True)
    assert record_count(html) == 0


def test_the_picker_finds_a_resident_by_initials_and_labels_the_phone_masked(login, session):
    person = sensitive_resident(session)
    answer = login("worker").get(f"/visitmodelview/pick/resident?q={person.name_initials}").get_json()
    labels = [row["text"] for row in answer["results"]]
    assert any(person.name in label for label in labels)
    assert not any(FULL_MOBILE_RE.search(label) for label in labels)


def test_each_look_in_clear_is_logged_and_a_masked_look_is_not(login, session):
    person = sensitive_resident(session)

    def looks(viewer):
        viewer_id = select(GridgovUser.id).where(GridgovUser.username == viewer).scalar_subquery()
        return session.scalar(select(PersonalDataAccess.fields).where(
            PersonalDataAccess.subject_table == "residents", PersonalDataAccess.subject_id == person.id,
            PersonalDataAccess.viewer_id == viewer_id).order_by(PersonalDataAccess.id.desc()).limit(1))

    login("secretary").get(f"/residentmodelview/show/{person.id}")
    assert set(looks("secretary")) == {"phone", "id_number", "tags", "visit_due"}  # the due date tells of a tag too
    login("worker").get(f"/residentmodelview/show/{person.id}")
    assert set(looks("worker")) == {"phone", "id_number"}  # the tags it is not shown are not logged
    login("leader").get(f"/residentmodelview/show/{person.id}")
    assert looks("leader") is None


def test_another_community_sees_none_of_these_residents(login, session):
    person = sensitive_resident(session)
    other = login("secretary2")
    assert other.get(f"/residentmodelview/show/{person.id}").status_code == 404
    assert other.get(f"/residentmodelview/edit/{person.id}").status_code == 404
    assert person.name not in other.get(f"/residentmodelview/list/?_flt_0_name={person.phone}").get_data(as_text=True)
    assert login("department").get("/residentmodelview/list/").status_code in (302, 403)
    assert login("volunteer").get("/residentmodelview/list/").status_code in (302, 403)


def form_of(person, **changes) -> dict:
    data = {"grid": person.grid_id, "household": person.household_id or "", "relation": person.relation or "",
            "name": person.name, "id_number": person.id_number, "phone": person.phone or "",
            "ethnicity": person.ethnicity or "", "residence_status": person.residence_status,
            "moved_in": person.moved_in.isoformat() if person.moved_in else "", "moved_out": "",
            "workplace": person.workplace or "", "tags": list(person.tags)}
    data.update(changes)
    return data


def test_a_grid_worker_editing_a_resident_keeps_the_sensitive_tag_he_is_not_shown(login, session):
    person = sensitive_resident(session)
    worker = login("worker")
    form = worker.get(f"/residentmodelview/edit/{person.id}").get_data(as_text=True)
    assert "community_correction" not in form
    response = worker.post(f"/residentmodelview/edit/{person.id}",
                           form_of(person, tags=["elderly_alone"], workplace="淇滨区第一中学"))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    session.expire_all()
    saved = session.get(Resident, person.id)
    assert saved.tags == ["elderly_alone", "community_correction"] and saved.workplace == "淇滨区第一中学"


def test_the_add_form_names_a_bad_id_number_and_saves_nothing(login, session):
    secretary = login("secretary")
    building = grid_id(session, WORKER_BLOCK + "-01")
    before = session.scalar(select(Resident.id).order_by(Resident.id.desc()).limit(1))
    data = {"grid": building, "name": "新居民", "id_number": "410611198001010000", "phone": "13800001111",
            "residence_status": "registered", "tags": []}
    html = secretary.post("/residentmodelview/add", data).get_data(as_text=True)
    assert "请输入有效的18位居民身份证号" in html or "身份证" in html
    assert session.scalar(select(Resident.id).order_by(Resident.id.desc()).limit(1)) == before
    data["id_number"] = "11010519491231002X"
    response = secretary.post("/residentmodelview/add", data)
    assert response.status_code == 302
    made = session.scalar(select(Resident).where(Resident.id_number == "11010519491231002X"))
    assert (made.gender, made.name_initials, made.grid_id) == ("female", "xjm", building)


def test_a_visit_recorded_on_the_form_raises_its_incident(login, session):
    person = sensitive_resident(session)
    worker = login("worker")
    category = session.scalar(select(Incident.category_id).limit(1))
    response = worker.post("/visitmodelview/add", {
        "resident": person.id, "household": "", "visited_at": "", "method": "home",
        "found": "楼道灯不亮，老人夜里出行不便", "follow_up": "", "incident_category": str(category),
        "incident_title": "", "incident_urgency": ""})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    made = session.scalar(select(Visit).where(Visit.resident_id == person.id).order_by(Visit.id.desc()))
    assert made.incident_id is not None and made.visitor.username == "worker"
    incident = session.get(Incident, made.incident_id)
    assert incident.title == "楼道灯不亮，老人夜里出行不便" and incident.grid_id == person.grid_id


def test_the_visits_due_list_holds_the_due_residents_of_the_area(login, session):
    from app.services.scope import grid_scope, visible

    html = login("worker").get("/residentmodelview/list/?_flt_0_next_visit_due=due").get_data(as_text=True)
    scope = grid_scope(session, grid_id(session, WORKER_BLOCK))
    # the worker may not see the sensitive tags: the residents due by the others only
    due = session.scalars(select(Resident.name).where(visible(scope, Resident), Resident.care_visit_due <= local_today())).all()
    hidden = session.scalars(select(Resident.name).where(
        visible(scope, Resident), Resident.next_visit_due <= local_today(), Resident.care_visit_due.is_(None))).all()
    assert hidden and not set(hidden) & set(re.findall(r'<td data-label="姓名">([^<]+)</td>', html))
    assert due and record_count(html) == len(due)
    assert set(re.findall(r'<td data-label="姓名">([^<]+)</td>', html)) == set(due)
    overdue = login("worker").get("/residentmodelview/list/?_flt_0_next_visit_due=overdue").get_data(as_text=True)
    late = session.scalar(select(func.count()).select_from(Resident).where(
        visible(scope, Resident), Resident.care_visit_due < local_today()))
    assert record_count(overdue) == late < len(due)  # one never visited is due from today, not overdue


@pytest.mark.parametrize("username, clear, logs", [("secretary", True, True), ("street", False, True),
                                                   ("dispatcher", False, False), ("leader", False, False)])
def test_a_page_writes_its_looks_once_and_only_what_it_shows_in_clear(login, session, username, clear, logs):
    """After the page: list, record and edit form each write their looks (one row per resident
    shown, once), naming only the columns shown in clear (the street officer: the sensitive tags,
    not the numbers); a role shown nothing in clear, or a page that failed, writes nothing."""
    person = sensitive_resident(session)
    browser = login(username)

    def logged(place) -> list:
        session.expire_all()
        return list(session.scalars(select(PersonalDataAccess.fields).where(
            PersonalDataAccess.subject_table == "residents", PersonalDataAccess.place == place)))

    listed = browser.get("/residentmodelview/list/?psize_ResidentModelView=20")
    shown = browser.get(f"/residentmodelview/show/{person.id}")
    assert listed.status_code == shown.status_code == 200
    html = listed.get_data(as_text=True) + shown.get_data(as_text=True)
    assert bool(FULL_MOBILE_RE.search(html)) == clear
    looks = logged("/residentmodelview/list/") + logged(f"/residentmodelview/show/{person.id}")
    assert len(logged("/residentmodelview/list/")) == (min(record_count(listed.get_data(as_text=True)), 20) if logs else 0)
    assert len(logged(f"/residentmodelview/show/{person.id}")) == (1 if logs else 0)
    assert all(("phone" in fields) == clear and ("id_number" in fields) == clear for fields in looks)
    if clear:
        assert browser.get(f"/residentmodelview/edit/{person.id}").status_code == 200
        assert len(logged(f"/residentmodelview/edit/{person.id}")) == 1
    before = session.scalar(select(func.count()).select_from(PersonalDataAccess))
    assert browser.get("/residentmodelview/show/99999999").status_code == 404
    assert session.scalar(select(func.count()).select_from(PersonalDataAccess)) == before
