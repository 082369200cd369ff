"""Issue 29 attacked over HTTP: patrols and micro-wishes fed what a careless or hostile client
sends, and the pages asked for what the role must not read."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.models import AuditEntry, ClockIn, Grid, Patrol, PatrolRule, PersonalDataAccess

from .test_patrols import patrol_of, the_worker


def open_patrol(login, session):
    browser = login("worker")
    browser.post("/patrolmodelview/start", token_from="/patrolmodelview/patrol/")
    patrol = session.scalar(select(Patrol).where(Patrol.worker_id == the_worker(session).id, Patrol.ended_at.is_(None)))
    return browser, patrol, browser.token("/patrolmodelview/patrol/")


@pytest.mark.parametrize("point", [
    {"lat": 10 ** 400, "lon": 114.2951, "t": 0},
    {"lat": 35.7, "lon": -(10 ** 400), "t": 0},
    {"lat": 35.7, "lon": 114.2951, "t": 10 ** 400},
])
def test_a_number_too_large_for_a_float_is_refused_not_a_500(login, session, point):
    browser, patrol, token = open_patrol(login, session)
    point = {key: (value + patrol.started_at.timestamp() * 1000 if key == "t" and value == 0 else value)
             for key, value in point.items()}
    body = json.dumps({"points": [point]})
    answer = browser.client.post(f"/patrolmodelview/points/{patrol.id}", data=body,
                                 headers={"X-CSRFToken": token, "Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.get_json()["error"]
    stopped = browser.post(f"/patrolmodelview/stop/{patrol.id}", {"points": body.replace('{"points": ', "")[:-1]},
                           token_from="/patrolmodelview/patrol/")
    assert stopped.status_code == 302
    session.refresh(patrol)
    assert patrol.points == 0


def test_a_point_with_an_accuracy_too_large_for_a_float_is_left_out(login, session):
    browser, patrol, token = open_patrol(login, session)
    body = json.dumps({"points": [{"lat": 35.7, "lon": 114.2951, "t": patrol.started_at.timestamp() * 1000 + 1000,
                                   "acc": 10 ** 400}]})
    answer = browser.client.post(f"/patrolmodelview/points/{patrol.id}", data=body,
                                 headers={"X-CSRFToken": token, "Content-Type": "application/json"})
    assert answer.status_code == 200 and answer.get_json()["added"] == 0


def test_the_default_patrol_rule_cannot_be_deleted(login, session):
    default = session.scalar(select(PatrolRule).where(PatrolRule.district_id.is_(None)))
    browser = login("dispatcher")
    page = browser.post(f"/patrolrulemodelview/delete/{default.id}", token_from="/patrolrulemodelview/list/",
                        follow_redirects=True).get_data(as_text=True)
    assert "默认" in page
    session.expire_all()
    assert session.get(PatrolRule, default.id) is not None
    assert login("worker").get("/patrolmodelview/patrol/").status_code == 200


def test_clock_in_location_is_not_in_the_audit_trail(login, session):
    browser = login("worker")
    browser.post("/patrolmodelview/clock_in", {"latitude": "35.7461234", "longitude": "114.2951234", "accuracy": "9"},
                 token_from="/patrolmodelview/patrol/")
    assert session.scalar(select(func.count()).select_from(ClockIn)) == 1
    rows = session.scalars(select(AuditEntry).where(AuditEntry.table_name == "clock_ins")).all()
    assert rows and not any("35.746" in str(row.__dict__) or "114.295" in str(row.__dict__) for row in rows)


def test_the_default_patrol_rule_is_not_moved_to_a_district(login, session):
    default = session.scalar(select(PatrolRule).where(PatrolRule.district_id.is_(None)))
    district = session.scalar(select(Grid).where(Grid.level == "district", Grid.id.not_in(
        select(PatrolRule.district_id).where(PatrolRule.district_id.is_not(None)))).order_by(Grid.id))
    page = login("dispatcher").post(f"/patrolrulemodelview/edit/{default.id}", {
        "district": district.id, "min_patrols": 2, "min_minutes": 60, "min_metres": 1000, "max_speed": "12"},
        token_from=f"/patrolrulemodelview/edit/{default.id}").get_data(as_text=True)
    assert "默认" in page
    session.expire_all()
    assert session.get(PatrolRule, default.id).district_id is None


@pytest.mark.parametrize("username, logged", [("secretary", True), ("street", True), ("worker", False), ("admin", False)])
def test_a_track_shown_to_who_leads_the_area_is_in_the_access_log(login, session, username, logged):
    me = the_worker(session)
    patrol = patrol_of(session, me)
    page = login(username).get(f"/patrolmodelview/show/{patrol.id}").get_data(as_text=True)
    assert ("gridgov-track" in page) == (username != "admin")
    rows = session.scalars(select(PersonalDataAccess).where(PersonalDataAccess.subject_table == "workers",
                                                            PersonalDataAccess.subject_id == me.id)).all()
    assert [row.fields for row in rows] == ([["track"]] if logged else [])
    if logged:
        listed = login("admin").get(f"/personaldataaccessmodelview/list/?_flt_0_subject_table=workers"
                                    f"&_flt_0_subject_id={me.id}").get_data(as_text=True)
        assert "巡查轨迹" in listed or "track" in listed
