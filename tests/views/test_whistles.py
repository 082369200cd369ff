"""吹哨报到 over HTTP: the street blows, departments report in and answer, the street closes."""
from __future__ import annotations

import datetime
import re

from sqlalchemy import func, select, text

from app.models import Department, Whistle
from app.services.points import TIMEZONE

from .helpers import record_count


def street_incident(session):
    from tests.services.test_whistles import street_incident as make

    return make(session)


def department_id(session, name):
    return session.scalar(select(Department.id).where(Department.name == name))


def deadline(hours=24):
    return (datetime.datetime.now(TIMEZONE) + datetime.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


def test_whistle_from_blowing_to_closing(login, session):
    incident = street_incident(session)
    street = login("street")
    page = street.get(f"/incidentmodelview/show/{incident.id}").get_data(as_text=True)
    assert "/whistlemodelview/blow?incident=" in page
    form = street.get(f"/whistlemodelview/blow?incident={incident.id}").get_data(as_text=True)
    assert f'value="{incident.id}"\n          checked' in form or f'value="{incident.id}" checked' in form.replace("\n          ", " ")
    urban, municipal = department_id(session, "淇滨区城市管理局"), department_id(session, "淇滨区市政工程处")
    response = street.post("/whistlemodelview/blow", {
        "incidents": [incident.id], "departments": [urban, municipal], "level": "street",
        "reason": "违建涉及城管与市政", "deadline": deadline()})
    assert response.status_code == 302
    whistle = session.scalar(select(Whistle).order_by(Whistle.id.desc()))
    assert response.headers["Location"].endswith(f"/whistlemodelview/show/{whistle.id}")
    assert record_count(street.get("/whistlemodelview/list/?_flt_0_status=open").get_data(as_text=True)) == 1  # 九州路's own

    officer = login("department")  # 城管
    show = f"/whistlemodelview/show/{whistle.id}"
    page = officer.get(show).get_data(as_text=True)
    assert "未报到" in page or "尚未" in page
    assert officer.get(f"/incidentmodelview/show/{incident.id}").status_code == 200  # summoned: it may see it
    listed = officer.get("/incidentmodelview/list/").get_data(as_text=True)  # and its list shows it alone
    assert record_count(listed) == 1 and f"/incidentmodelview/show/{incident.id}" in listed
    timeline = officer.get("/incidenteventmodelview/list/").get_data(as_text=True)
    assert record_count(timeline) == session.scalar(text("SELECT count(*) FROM incident_events WHERE incident_id = :id"),
                                                    {"id": incident.id})
    mine = next(s.id for s in whistle.summonses if s.department_id == urban)
    theirs = next(s.id for s in whistle.summonses if s.department_id == municipal)
    officer.post(f"/whistlemodelview/report_in/{mine}", {"whistle": whistle.id}, token_from=show)
    officer.post(f"/whistlemodelview/result/{mine}", {"whistle": whistle.id, "result": "已拆除违建"}, token_from=show)
    html = officer.post(f"/whistlemodelview/report_in/{theirs}", {"whistle": whistle.id}, token_from=show,
                        follow_redirects=True).get_data(as_text=True)
    assert "只有被召集的部门可以报到并提交处置结果" in html
    html = street.post(f"/whistlemodelview/close/{whistle.id}", {f"rating-{mine}": "5", f"rating-{theirs}": "4"},
                       token_from=show, follow_redirects=True).get_data(as_text=True)
    assert "仍在等待" in html
    session.expire_all()
    assert session.get(Whistle, whistle.id).status == "open"


def test_bad_whistles_over_http(login, session):
    incident = street_incident(session)
    before = session.scalar(select(func.count()).select_from(Whistle))
    street = login("street")
    base = {"incidents": [incident.id], "level": "street", "reason": "原因", "deadline": deadline()}
    for form, message in (
        ({**base, "departments": []}, "请至少召集一个部门"),
        ({**base, "departments": [department_id(session, "淇滨区城市管理局")], "deadline": deadline(-2)}, "报到时限必须晚于现在"),
        ({**base, "departments": [department_id(session, "淇滨区城市管理局")], "deadline": "tomorrow"}, "请填写报到时限"),
        ({**base, "departments": [department_id(session, "淇滨区城市管理局")], "reason": ""}, "请说明吹哨原因"),
    ):
        html = street.post("/whistlemodelview/blow", form).get_data(as_text=True)
        assert message in html, message
    assert session.scalar(select(func.count()).select_from(Whistle)) == before
    assert login("secretary").get("/whistlemodelview/blow").status_code == 403
    assert login("department").post("/whistlemodelview/blow", {**base, "departments": [1]},
                                    token_from="/whistlemodelview/list/").status_code == 403


def test_whistle_list_filters(login, session):
    from sqlalchemy import text

    from tests.services.test_whistles import blow

    first = blow(session, street_incident(session))
    second = blow(session, street_incident(session), names=("淇滨区应急管理局",))
    session.execute(text("ALTER TABLE whistles DISABLE TRIGGER USER"))  # age the first whistle past its deadline
    session.execute(text("UPDATE whistles SET blown_at = now() - interval '3 days', deadline = now() - interval '1 day' "
                         "WHERE id = :id"), {"id": first.id})
    # the second is due in two hours: not overdue (the link's time is Beijing time, not UTC)
    session.execute(text("UPDATE whistles SET deadline = now() + interval '2 hours' WHERE id = :id"), {"id": second.id})
    session.execute(text("ALTER TABLE whistles ENABLE TRIGGER USER"))
    session.commit()
    street = login("street")
    page = street.get("/whistlemodelview/list/").get_data(as_text=True)
    overdue_link = re.search(r'href="(/whistlemodelview/list/\?[^"]*_flt_1_deadline=[^"]+)"', page).group(1).replace("&amp;", "&")
    assert record_count(street.get(overdue_link).get_data(as_text=True)) == 1
    emergency = department_id(session, "淇滨区应急管理局")
    assert record_count(street.get(f"/whistlemodelview/list/?_flt_0_departments={emergency}").get_data(as_text=True)) == 1
    assert record_count(street.get("/whistlemodelview/list/?_flt_0_status=open").get_data(as_text=True)) == 2
    assert second.id != first.id


def test_board_shows_each_departments_state(login, session):
    board = login("dispatcher").get("/whistlemodelview/board/").get_data(as_text=True)
    assert "地下车库积水严重" in board  # the demo whistle of 金山街道
    assert "淇滨区应急管理局" in board and "已调派两台抽水泵" in board and "未报到" in board
    assert "地下车库积水严重" not in login("street").get("/whistlemodelview/board/").get_data(as_text=True)
    urban = login("department").get("/whistlemodelview/board/").get_data(as_text=True)
    assert "地下车库积水严重" not in urban  # 城管 was not summoned


def test_bad_ratings_and_dispatches_over_http(login, session):
    from sqlalchemy import select as sql_select

    from app.models import Incident

    incident = session.scalar(sql_select(Incident).where(Incident.title == "消防通道被占用"))
    worker = login("worker")
    page = f"/incidentmodelview/show/{incident.id}"
    worker.post(f"/incidentmodelview/act/{incident.id}", {"action": "accept"}, token_from=page)
    paired = session.scalar(sql_select(Department.id).where(Department.kind == "paired_unit"))
    html = worker.post(f"/incidentmodelview/act/{incident.id}", {"action": "dispatch", "department": paired},
                       token_from=page, follow_redirects=True).get_data(as_text=True)
    assert "请选择一个职能部门" in html
    for action, form in (("handle", {}), ("resolve", {"note": "已清理"})):
        worker.post(f"/incidentmodelview/act/{incident.id}", {"action": action, **form}, token_from=page)
    html = worker.post(f"/incidentmodelview/act/{incident.id}", {"action": "rate", "rating": "5"},
                       token_from=page, follow_redirects=True).get_data(as_text=True)
    assert "办结人以外" in html  # whoever resolved it does not rate it
    html = login("secretary").post(f"/incidentmodelview/act/{incident.id}", {"action": "rate", "rating": "9"},
                                   token_from=page, follow_redirects=True).get_data(as_text=True)
    assert "评价须为 1 至 5 的整数" in html
    session.expire_all()
    incident = session.get(Incident, incident.id)
    assert incident.status == "resolved" and incident.rating is None and incident.department_id is None


def test_the_board_says_how_many_and_pages_them(login, session, monkeypatch):
    from app.services import whistles

    from tests.services.test_whistles import blow, street_incident

    blow(session, street_incident(session))
    monkeypatch.setattr(whistles, "BOARD_PAGE", 1)
    dispatcher = login("dispatcher")
    total = session.scalar(text("SELECT count(*) FROM whistles WHERE status = 'open'"))
    assert total >= 2
    first = dispatcher.get("/whistlemodelview/board/").get_data(as_text=True)
    assert f"共 {total} 个进行中" in first and f"第 1 页，共 {total} 页" in first and "时限更晚的" in first
    assert first.count('class="panel ') == 1
    last = dispatcher.get(f"/whistlemodelview/board/?page={total - 1}").get_data(as_text=True)
    assert "时限更早的" in last and "时限更晚的" not in last
    beyond = dispatcher.get("/whistlemodelview/board/?page=999")
    assert beyond.status_code == 302 and beyond.headers["Location"].endswith(f"page={total - 1}")
    assert dispatcher.get("/whistlemodelview/board/?page=-3").status_code == 200
    assert dispatcher.get("/whistlemodelview/board/?page=abc").status_code == 200
    huge = dispatcher.get("/whistlemodelview/board/?page=100000000000000000000")  # beyond a bigint offset
    assert huge.status_code == 302 and huge.headers["Location"].endswith(f"page={total - 1}")
