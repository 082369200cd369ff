"""What the walk through the screens found (issue 26), over HTTP per role: no preselected choice in
an action form, one figure for a grid's households and population, the honour roll of the user's
own community, 是/否 and blanks in FAB's screens, the change-password link, the role editor and the
words that mean two things."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from app.models import Grid, GridRecords, Incident, Volunteer
from app.services import grids as grid_service
from app.services import points
from app.services.scope import scope_for_user

from .helpers import WORKER_BLOCK, XIANGJIANG, grid_id, worker_in

FIRE_LANE = "消防通道被占用"  # a demo incident reported at a building of 湘江社区


def first_option(html: str, name: str) -> str:
    select_html = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select_html, f"no <select name={name}>"
    return re.search(r"<option([^>]*)>([^<]*)</option>", select_html.group(1)).groups()


def test_incident_actions_preselect_no_worker_department_or_rating(login, session):
    incident = session.scalar(select(Incident).where(Incident.title == FIRE_LANE))
    page = f"/incidentmodelview/show/{incident.id}"
    worker = login("worker")
    worker.post(f"/incidentmodelview/act/{incident.id}", {"action": "accept"}, token_from=page)
    worker.post(f"/incidentmodelview/act/{incident.id}", {"action": "escalate", "note": "需要社区协调"}, token_from=page)
    secretary = login("secretary")
    secretary.post(f"/incidentmodelview/act/{incident.id}", {"action": "accept"}, token_from=page)
    html = secretary.get(page).get_data(as_text=True)
    for name in ("worker", "department"):
        attributes, text = first_option(html, name)
        assert 'value=""' in attributes and text == "请选择", name
        assert "selected" not in re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S).group(0)
    session.expire_all()
    before = (session.get(Incident, incident.id).status, len(session.get(Incident, incident.id).events))
    for action, field, message in (("assign", "worker", "请选择当前承办网格下属网格的工作人员"),
                                   ("dispatch", "department", "请选择一个职能部门")):
        html = secretary.post(f"/incidentmodelview/act/{incident.id}", {"action": action, field: ""},
                              token_from=page, follow_redirects=True).get_data(as_text=True)
        assert message in html, action
    session.expire_all()
    assert (session.get(Incident, incident.id).status, len(session.get(Incident, incident.id).events)) == before


def test_rating_and_whistle_and_response_forms_start_on_please_choose(login, session):
    incident = session.scalar(select(Incident).where(Incident.status == "resolved"))
    if incident is not None:
        for user in ("admin",):
            html = login(user).get(f"/incidentmodelview/show/{incident.id}").get_data(as_text=True)
            if 'name="rating"' in html:
                assert first_option(html, "rating")[1] == "请选择"
    dispatcher = login("dispatcher")
    html = dispatcher.get("/emergencyresponsemodelview/declare").get_data(as_text=True)
    assert first_option(html, "level")[1] == "请选择" and first_option(html, "area")[1] == "请选择"
    html = dispatcher.post("/emergencyresponsemodelview/declare", {"level": "", "area": "", "title": "防汛",
                                                                    "directive": "立即巡查"}).get_data(as_text=True)
    assert "请选择响应级别" in html
    html = login("admin").get("/whistlemodelview/blow").get_data(as_text=True)
    assert first_option(html, "level")[1] == "请选择"  # the administrator blows at either level: no default


def test_a_required_closed_list_in_a_form_starts_empty_and_must_be_chosen(login, session):
    secretary = login("secretary")
    html = secretary.get("/gridmodelview/add").get_data(as_text=True)
    assert first_option(html, "level") == (' value=""', "请选择")
    before = session.scalar(select(func.count()).select_from(Grid))
    html = secretary.post("/gridmodelview/add", {"parent": grid_id(session, XIANGJIANG), "code": "WALK-1", "name": "新网格",
                                                 "level": "", "kind": "", "households": "0", "population": "0"}
                          ).get_data(as_text=True)
    assert "请从列表中选择一项" in html
    assert session.scalar(select(func.count()).select_from(Grid)) == before
    html = login("secretary", lang="en").get("/gridmodelview/add").get_data(as_text=True)
    assert first_option(html, "level")[1] == "Please choose"


def _cells(html: str) -> list[list[str]]:
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)] for row in rows]


def test_a_grids_households_and_population_are_one_figure_in_tree_list_and_record(login, session):
    community = grid_id(session, XIANGJIANG)
    block = grid_id(session, WORKER_BLOCK)
    counted = grid_service.counted_figures(session, [community, block])
    # the demo records every building's households and residents: those count, not the typed figures
    buildings = session.execute(select(func.sum(GridRecords.households), func.sum(GridRecords.residents))
                                .join(Grid, Grid.id == GridRecords.grid_id).where(Grid.parent_id == block)).one()
    assert counted[block][1:] == tuple(buildings) and counted[community][1] > counted[block][1] > 0
    secretary = login("secretary")
    for pk in (community, block):
        households, population = counted[pk][1:]
        tree = secretary.get(f"/gridmodelview/tree/{pk}").get_data(as_text=True)
        assert f"<td>{households}</td><td>{population}</td>" in tree
        record = secretary.get(f"/gridmodelview/show/{pk}").get_data(as_text=True)
        assert re.search(rf"户数</th><td><span[^>]*>{households}</span>", record), pk
        assert re.search(rf"人口</th><td><span[^>]*>{population}</span>", record), pk
    code = session.get(Grid, community).code
    listed = [row for row in _cells(secretary.get("/gridmodelview/list/").get_data(as_text=True)) if code in row]
    assert listed and listed[0][-2:] == [str(counted[community][1]), str(counted[community][2])]


def test_the_grid_list_counts_its_figures_in_one_query(app, login):
    from .helpers import statements_of

    for user in ("secretary", "admin"):
        response, statements = statements_of(app, login(user), "/gridmodelview/list/")
        assert response.status_code == 200 and "<td>None</td>" not in response.get_data(as_text=True)
        assert sum("FILTER (WHERE NOT (EXISTS" in s for s in statements) == 1, user


def test_volunteer_and_worker_see_their_communitys_honour_roll(login, session):
    volunteer_user = login("volunteer")
    from app.models import GridgovUser

    user = session.scalar(select(GridgovUser).where(GridgovUser.username == "volunteer"))
    volunteer = session.get(Volunteer, user.volunteer_id)
    html = volunteer_user.get("/points/honour/").get_data(as_text=True)
    community = session.get(Grid, volunteer.community_id)
    assert community.name in html
    import datetime

    roll = points.honour_roll(session, points.roll_scope(session, scope_for_user(session, user)),
                              datetime.date.today().year)
    names = {row.name for rows in roll["communities"].values() for row in rows}
    assert len(names) > 1 and all(name in html for name in names)
    worker_user = session.scalar(select(GridgovUser).where(GridgovUser.username == "worker"))
    assert session.get(Grid, worker_user.grid_id).level != "community"
    html = login("worker").get("/points/honour/").get_data(as_text=True)
    assert "本年度尚无积分记录" not in html and all(name in html for name in names)
    # another community's volunteers are not on it
    html2 = login("secretary2").get("/points/honour/").get_data(as_text=True)
    assert community.name not in html2


def test_fab_screens_show_yes_no_and_blanks(login):
    admin = login("admin")
    info = admin.get("/users/userinfo/").get_data(as_text=True)
    assert ">True<" not in info and ">是<" in info
    users = admin.get("/users/list/").get_data(as_text=True)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", users)
    assert "True" not in cells and "None" not in cells and "是" in cells
    shown = admin.get("/users/show/1").get_data(as_text=True)
    assert ">None<" not in shown and ">True<" not in shown


def test_every_role_finds_the_change_password_page_from_user_info(login):
    for user, lang, words in (("worker", None, "修改密码"), ("volunteer", "en", "Change my password"),
                              ("admin", None, "修改密码")):
        browser = login(user, lang=lang)
        info = browser.get("/users/userinfo/").get_data(as_text=True)
        assert words in info and "/resetmypassword/form" in info, user
        form = browser.get("/resetmypassword/form").get_data(as_text=True)
        assert ("当前密码" if lang is None else "Current password") in form


def test_the_role_editor_names_permissions_in_the_users_language(login, session):
    admin = login("admin")
    roles = admin.get("/roles/list/").get_data(as_text=True)
    assert "can_list" not in roles and "GridModelView" not in roles and "区级调度员" in roles
    assert "网格（导出为 Excel 和 CSV、查看列表、查看详情" in roles
    from app.models import GridgovUser

    role_id = session.scalar(select(GridgovUser).where(GridgovUser.username == "dispatcher")).roles[0].id
    edit = admin.get(f"/roles/edit/{role_id}").get_data(as_text=True)
    assert "can list on" not in edit and "事件 · 处置事件" in edit and "事件 · 导出为 Excel 和 CSV" in edit
    english = login("admin", lang="en").get(f"/roles/show/{role_id}").get_data(as_text=True)
    assert "Incidents (Export to Excel and CSV, Handle incidents" in english and "can_act" not in english


def test_words_with_two_meanings_read_right_where_they_are(login, session):
    secretary = login("secretary")
    figures = secretary.get("/incidentmodelview/figures/").get_data(as_text=True)
    assert "操作人" not in figures and "原状态" not in figures and "已办结待评价" not in figures
    assert "统计维度" in figures and "起始日期" in figures and "已办结" in figures
    report = login("worker").get("/incidentmodelview/report").get_data(as_text=True)
    assert "事发地点" in report and "住址" not in report
    worker = worker_in(session, WORKER_BLOCK)
    shown = secretary.get(f"/workermodelview/show/{worker.id}").get_data(as_text=True)
    assert "姓名" in shown and ">名称<" not in shown
    volunteers = secretary.get("/volunteermodelview/list/").get_data(as_text=True)
    assert "姓名" in volunteers
    timeline = secretary.get("/incidenteventmodelview/list/").get_data(as_text=True)
    assert "操作人" in timeline  # the timeline's "By" keeps its own sense


def test_a_required_relation_in_a_form_starts_empty_and_must_be_chosen(login, session):
    from app.models import DeadlineRule

    admin = login("admin")
    html = admin.get("/deadlinerulemodelview/add").get_data(as_text=True)
    assert first_option(html, "category")[1] == "请选择" and first_option(html, "urgency")[1] == "请选择"
    before = session.scalar(select(func.count()).select_from(DeadlineRule))
    html = admin.post("/deadlinerulemodelview/add", {"category": "", "urgency": "critical", "hours": "5"}
                      ).get_data(as_text=True)
    assert "该字段是必填字段" in html  # WTForms' own message, in the user's language
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(DeadlineRule)) == before
