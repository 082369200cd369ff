"""Issue 24 over HTTP, per role: facts priced into points stay as priced (3), points rules belong
to a scope and every bound holds (4), pages that gather rows show each viewer their own (7),
nothing typed is cut short and deadlines stay near (12), a secretary saves her own community (14)."""
from __future__ import annotations

import datetime

from sqlalchemy import func, select

from app.models import (Department, Grid, Incident, LedgerEntry, PointsAccount, PointsRule,
                        ServiceRecord, StockMovement, Volunteer, Whistle)
from app.services import points

from .helpers import JINSHAN, XIANGJIANG, grid_id, volunteer_in

SONGSHAN = "410611001002"  # 嵩山社区: the same street as 湘江


def awarded_record(session) -> ServiceRecord:
    community = grid_id(session, XIANGJIANG)
    return session.scalar(
        select(ServiceRecord).join(Volunteer).where(
            Volunteer.community_id == community,
            ServiceRecord.id.in_(select(LedgerEntry.service_record_id).where(LedgerEntry.kind == "earn")))
        .order_by(ServiceRecord.id))


def record_form(record, **changes):
    form = {"volunteer": record.volunteer_id, "date": record.date.isoformat(), "hours": str(record.hours),
            "rule": record.rule_id, "activity": record.activity}
    form.update(changes)
    return form


# --- 3. facts priced into points stay as priced ------------------------------------------------
def test_an_awarded_service_record_keeps_what_priced_it(login, session):
    record = awarded_record(session)
    other = session.scalar(select(Volunteer.id).where(Volunteer.community_id == grid_id(session, XIANGJIANG),
                                                      Volunteer.id != record.volunteer_id))
    browser = login("secretary")
    edit = f"/servicerecordmodelview/edit/{record.id}"
    for change in ({"volunteer": other}, {"hours": "24"}, {"date": "2026-01-02"}):
        html = browser.post(edit, record_form(record, **change), token_from=edit).get_data(as_text=True)
        assert "已为这条服务记录发放积分" in html
    # what did not price it may still be corrected
    response = browser.post(edit, record_form(record, activity="清理楼道（补记）"), token_from=edit)
    assert response.status_code == 302
    session.expire_all()
    kept = session.get(ServiceRecord, record.id)
    assert (kept.volunteer_id, kept.hours, kept.date) == (record.volunteer_id, record.hours, record.date)
    assert kept.activity == "清理楼道（补记）"
    assert points.check_invariants(session) == []


def test_a_closed_incident_keeps_its_rating(session):
    closed = session.scalar(select(Incident).where(Incident.status == "closed").limit(1))
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError
    import pytest

    for statement in ("UPDATE incidents SET rating = 1 WHERE id = :id",
                      "UPDATE incidents SET status = 'reopened' WHERE id = :id",
                      "UPDATE incidents SET category_id = category_id + 1 WHERE id = :id"):
        with pytest.raises(DBAPIError):
            session.execute(text(statement), {"id": closed.id})
        session.rollback()


# --- 4. points rules belong to a scope; bounds hold ---------------------------------------------
def test_a_secretary_keeps_her_communitys_rules_not_the_districts(login, session):
    district_rule = session.scalar(select(PointsRule).where(PointsRule.name == "清洁家园"))
    browser = login("secretary")
    edit = f"/pointsrulemodelview/edit/{district_rule.id}"
    form = {"name": "清洁家园", "unit": "hour", "points": "10000", "active": "y"}
    assert browser.get(edit).status_code == 200  # she reads it…
    html = browser.post(edit, {**form, "points": "12"}, token_from=edit).get_data(as_text=True)
    assert "只有区级可以维护全区的积分规则" in html  # …but the district keeps it
    session.expire_all()
    assert session.get(PointsRule, district_rule.id).points == 10
    # her own rule, for her community
    response = browser.post("/pointsrulemodelview/add", {"community": grid_id(session, XIANGJIANG),
                                                         "name": "湘江护河", "unit": "hour", "points": "6",
                                                         "active": "y"})
    assert response.status_code == 302
    own = session.scalar(select(PointsRule).where(PointsRule.name == "湘江护河"))
    assert own.community_id == grid_id(session, XIANGJIANG)
    # not for another community, and no district-wide rule
    browser.post("/pointsrulemodelview/add", {"community": grid_id(session, JINSHAN), "name": "越界规则",
                                              "unit": "hour", "points": "6", "active": "y"})
    browser.post("/pointsrulemodelview/add", {"name": "全区规则", "unit": "hour", "points": "6", "active": "y"})
    assert session.scalar(select(func.count()).select_from(PointsRule).where(
        PointsRule.name.in_(("越界规则", "全区规则")))) == 0
    # secretary2 does not see 湘江's own rule at all
    other = login("secretary2")
    assert "湘江护河" not in other.get("/pointsrulemodelview/list/").get_data(as_text=True)
    assert other.get(f"/pointsrulemodelview/show/{own.id}").status_code == 404
    # the district's dispatcher keeps the district's rules, within the bound
    dispatcher = login("dispatcher")
    html = dispatcher.post(edit, {**form, "points": "10000"}, token_from=edit).get_data(as_text=True)
    assert session.get(PointsRule, district_rule.id).points == 10
    response = dispatcher.post(edit, {**form, "points": "12"}, token_from=edit)
    assert response.status_code == 302
    session.expire_all()
    assert session.get(PointsRule, district_rule.id).points == 12


def test_a_community_rule_prices_only_its_own_volunteers(login, session):
    own = PointsRule(name="湘江护河", unit="hour", points=6, community_id=grid_id(session, XIANGJIANG))
    session.add(own)
    session.commit()
    browser = login("admin")
    outsider = volunteer_in(session, JINSHAN)
    before = session.scalar(select(func.count()).select_from(ServiceRecord))
    html = browser.post("/servicerecordmodelview/add", {
        "volunteer": outsider.id, "date": "2026-06-01", "hours": "2", "rule": own.id, "activity": "护河"},
        token_from="/servicerecordmodelview/add").get_data(as_text=True)
    assert "请选择全区或该志愿者所在社区的活动类型" in html
    assert session.scalar(select(func.count()).select_from(ServiceRecord)) == before


def test_adjustments_and_stock_changes_are_bounded(login, session):
    account = points.account_of_volunteer(session, volunteer_in(session, XIANGJIANG).id)
    entries = session.scalar(select(func.count()).select_from(LedgerEntry))
    browser = login("secretary")
    show = f"/pointsaccountmodelview/show/{account.id}"
    for amount in ("2147483647", "10001", "-10001", "99999999999999999999"):
        html = browser.post(f"/points/adjust/{account.id}", {"amount": amount, "reason": "更正"}, token_from=show,
                            follow_redirects=True).get_data(as_text=True)
    assert "最多 10,000" in html
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == entries
    response = browser.post(f"/points/adjust/{account.id}", {"amount": "10000", "reason": "更正"}, token_from=show)
    assert response.status_code == 302
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == entries + 1
    # a reason is never cut short
    browser.post(f"/points/adjust/{account.id}", {"amount": "5", "reason": "长" * 201}, token_from=show)
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == entries + 1
    movements = session.scalar(select(func.count()).select_from(StockMovement))
    item_id = session.scalar(select(points.RewardItem.id).where(points.RewardItem.community_id == grid_id(session, XIANGJIANG)))
    edit = f"/rewarditemmodelview/edit/{item_id}"
    item = session.get(points.RewardItem, item_id)
    browser.post(edit, {"community": item.community_id, "name": item.name, "price": str(item.price),
                        "restock": "10001", "active": "y"}, token_from=edit)
    assert session.scalar(select(func.count()).select_from(StockMovement)) == movements


def test_the_database_holds_the_bounds(session):
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    account = session.scalar(select(PointsAccount.id).limit(1))
    for statement, params in (
            ("INSERT INTO points_entries (account_id, kind, amount, reason) VALUES (:a, 'adjust', 2147483647, 'x')",
             {"a": account}),
            ("UPDATE points_rules SET points = 10000 WHERE name = '清洁家园'", {}),
            ("INSERT INTO stock_movements (item_id, kind, change) SELECT min(id), 'restock', 10001 FROM reward_items", {})):
        with pytest.raises(DBAPIError):
            session.execute(text(statement), params)
        session.rollback()


# --- 7. pages that gather rows show each viewer their own ----------------------------------------
def test_a_whistle_over_two_communities_shows_each_its_own_incidents(login, session):
    from app.services import incidents, whistles
    from tests.services.test_incidents import actor

    def at_street(code, title):
        worker_grid = session.scalar(select(Grid.id).where(Grid.code.like(code + "-%"), Grid.level == "block"))
        admin = actor(session, "admin")
        incident = incidents.report(session, admin, incidents.Report(grid_id=worker_grid, category_id=session.scalar(
            select(Incident.category_id).limit(1)), title=title))
        for level in ("community", "street"):
            incidents.act(session, admin, incident.id, "escalate", note="需上级协调")
        return incident

    mine, theirs = at_street(XIANGJIANG, "湘江河道淤积"), at_street(SONGSHAN, "嵩山路面塌陷")
    departments = session.scalars(select(Department.id).where(Department.kind == "functional").limit(1)).all()
    whistle = whistles.blow(session, actor(session, "street"), [mine.id, theirs.id], "联合整治", "street", departments,
                            datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=24))
    html = login("secretary").get(f"/whistlemodelview/show/{whistle.id}").get_data(as_text=True)
    assert "湘江河道淤积" in html and "嵩山路面塌陷" not in html
    assert "另有 1 件事件不在您的范围内" in html
    html = login("street").get(f"/whistlemodelview/show/{whistle.id}").get_data(as_text=True)
    assert "湘江河道淤积" in html and "嵩山路面塌陷" in html


def test_a_response_page_shows_a_secretary_her_own_grids(login, session):
    from app.services import emergencies
    from tests.services.test_incidents import actor

    district = session.scalar(select(Grid.id).where(Grid.level == "district"))
    response = emergencies.declare(session, actor(session, "dispatcher"), district, "III", "防汛", "排查低洼地带")
    html = login("secretary").get(f"/emergencyresponsemodelview/show/{response.id}").get_data(as_text=True)
    assert "湘江社区" in html
    for elsewhere in ("嵩山社区", "金山社区", "金山街道"):
        assert elsewhere not in html, elsewhere
    whole = emergencies.totals(session, response.id)
    assert f"共 {whole.total} 个网格" in html
    html = login("dispatcher").get(f"/emergencyresponsemodelview/show/{response.id}").get_data(as_text=True)
    assert "嵩山社区" in html and "金山社区" in html


def test_a_departments_page_names_only_the_communities_one_sees(login, session):
    xiangjiang, jinshan = (session.get(Grid, grid_id(session, code)) for code in (XIANGJIANG, JINSHAN))
    unit = Department(name="测试联建单位", kind="paired_unit")
    unit.communities = [xiangjiang, jinshan]
    session.add(unit)
    session.commit()
    html = login("secretary").get(f"/departmentmodelview/show/{unit.id}").get_data(as_text=True)
    assert "湘江社区" in html and "金山社区" not in html and "另有 1 个社区" in html
    html = login("dispatcher").get(f"/departmentmodelview/show/{unit.id}").get_data(as_text=True)
    assert "湘江社区" in html and "金山社区" in html


# --- 12. nothing typed is cut short; deadlines stay near ---------------------------------------
def test_a_long_reporter_name_is_refused_not_cut(login, session):
    browser = login("worker")
    category = session.scalar(select(Incident.category_id).limit(1))
    grid = session.scalar(select(Grid.id).where(Grid.code == XIANGJIANG + "-01-01"))
    html = browser.post("/incidentmodelview/report", {"category": category, "grid": grid, "title": "名字过长",
                                                      "reporter_name": "张" * 100_000}).get_data(as_text=True)
    assert "反映人姓名最多 50 个字" in html
    assert session.scalar(select(Incident.id).where(Incident.title == "名字过长")) is None


def test_a_whistle_deadline_stays_within_thirty_days(login, session):
    from app.services import whistles
    from app.services.errors import ValidationError
    from tests.services.test_incidents import actor
    from tests.services.test_whistles import street_incident
    import pytest

    incident = street_incident(session)
    functional = session.scalars(select(Department.id).where(Department.kind == "functional").limit(1)).all()
    before = session.scalar(select(func.count()).select_from(Whistle))
    for deadline in (datetime.datetime(9999, 12, 31, tzinfo=datetime.timezone.utc),
                     datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=31)):
        with pytest.raises(ValidationError):
            whistles.blow(session, actor(session, "street"), [incident.id], "联合执法", "street", functional, deadline)
        session.rollback()
    browser = login("street")
    html = browser.post("/whistlemodelview/blow", {"incidents": incident.id, "reason": "联合执法", "level": "street",
                                                   "departments": functional, "deadline": "9999-12-31T09:00"},
                        token_from="/whistlemodelview/blow").get_data(as_text=True)
    assert "30 天" in html
    assert session.scalar(select(func.count()).select_from(Whistle)) == before


# --- 14. a secretary saves her own community ------------------------------------------------------
def test_a_secretary_saves_her_community_and_cannot_move_it(login, session):
    community = session.get(Grid, grid_id(session, XIANGJIANG))
    other_street = session.scalar(select(Grid.id).where(Grid.level == "street", Grid.id != community.parent_id))
    browser = login("secretary")
    edit = f"/gridmodelview/edit/{community.id}"
    assert browser.get(edit).status_code == 200
    form = {"parent": community.parent_id, "code": community.code, "name": community.name, "level": "community",
            "kind": community.kind, "households": "3200", "population": str(community.population)}
    if community.leader_id:
        form["leader"] = community.leader_id
    response = browser.post(edit, form, token_from=edit)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    session.expire_all()
    assert session.get(Grid, community.id).households == 3200
    html = browser.post(edit, {**form, "parent": other_street, "households": "1"}, token_from=edit).get_data(as_text=True)
    assert "选项无效" in html or "只能" in html
    session.expire_all()
    kept = session.get(Grid, community.id)
    assert (kept.parent_id, kept.households) == (community.parent_id, 3200)


def test_restock_commits_as_a_user_action(session):
    """Finding 15: ``restock`` took a parameter named ``commit`` that hid the commit function."""
    from app.services.scope import EVERYTHING

    item_id = session.scalar(select(points.RewardItem.id).limit(1))
    stock = session.get(points.RewardItem, item_id).stock
    points.restock(session, EVERYTHING, item_id, 7, "补货", None)
    session.expire_all()
    assert session.get(points.RewardItem, item_id).stock == stock + 7


# --- found by the attack on the fixes ---------------------------------------------------------------
def test_a_secretary_cannot_take_a_district_rule_or_item_into_her_community(login, session):
    rule = session.scalar(select(PointsRule).where(PointsRule.name == "清洁家园"))
    browser = login("secretary")
    edit = f"/pointsrulemodelview/edit/{rule.id}"
    browser.post(edit, {"community": grid_id(session, XIANGJIANG), "name": rule.name, "unit": "hour",
                        "points": "1000", "active": "y"}, token_from=edit)
    session.expire_all()
    kept = session.get(PointsRule, rule.id)
    assert (kept.community_id, kept.points) == (None, 10)
    item = session.scalar(select(points.RewardItem).where(points.RewardItem.community_id.is_(None)))
    edit = f"/rewarditemmodelview/edit/{item.id}"
    browser.post(edit, {"community": grid_id(session, XIANGJIANG), "name": item.name, "price": "1", "active": "y"},
                 token_from=edit)
    session.expire_all()
    assert session.get(points.RewardItem, item.id).community_id is None


def test_a_rule_in_use_keeps_its_owner(session):
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError):
        session.execute(text("UPDATE points_rules SET community_id = :c WHERE name = '清洁家园'"),
                        {"c": grid_id(session, XIANGJIANG)})
    session.rollback()


def test_a_moved_volunteers_record_is_not_priced_by_the_old_communitys_rule(session):
    from app.services.scope import EVERYTHING

    own = PointsRule(name="湘江护河", unit="hour", points=6, community_id=grid_id(session, XIANGJIANG))
    session.add(own)
    volunteer = volunteer_in(session, XIANGJIANG)
    session.flush()
    record = ServiceRecord(volunteer_id=volunteer.id, date=datetime.date(2026, 6, 1), hours=2, activity="护河",
                           rule_id=own.id)
    session.add(record)
    session.commit()
    volunteer.community_id = grid_id(session, JINSHAN)
    session.commit()
    result = points.award(session, EVERYTHING, [record.id], None)
    assert result.elsewhere == [record] and not result.awarded
    assert points.awarded_record_ids(session, [record.id]) == set()


def test_digits_that_are_not_0_to_9_name_no_row(login, session):
    browser = login("secretary")
    for url in ("/gridmodelview/show/%C2%B2", "/gridmodelview/edit/%C2%B2", "/points/honour/?street=%C2%B2",
                "/gridmodelview/list/?page_GridModelView=%C2%B2", "/gridmodelview/pick/parent?q=a&page=%C2%B2",
                "/points/picture/a%00b.jpg"):
        assert browser.get(url).status_code in (200, 302, 404), url
    admin = login("admin")
    incident = session.scalar(select(Incident.id).where(Incident.status == "accepted").limit(1)) or 1
    response = admin.post(f"/incidentmodelview/act/{incident}", {"action": "dispatch", "department": "²"},
                          token_from="/incidentmodelview/list/")
    assert response.status_code in (302, 404)
    response = login("street").post("/whistlemodelview/blow", {"incidents": "²", "reason": "x", "level": "street",
                                                               "departments": "①", "deadline": "2026-12-31T09:00"},
                                    token_from="/whistlemodelview/blow")
    assert response.status_code == 200


def test_a_locked_account_counts_once_however_its_name_is_spelled(app, session):
    from app.services.logins import account_key

    assert account_key(session, "dİspatcher") == account_key(session, "DISPATCHER") == "dispatcher"
    assert account_key(session, "nobody-here") == "nobody-here"


def test_no_token_login_beside_the_login_limit(client):
    """FAB's JWT login skipped the login limit (and answered 500 once the account was locked)."""
    for _ in range(7):
        response = client.post("/api/v1/security/login", json={"username": "street", "password": "bad", "provider": "db"})
        assert response.status_code == 404


def test_a_refusal_no_view_caught_is_a_page_not_a_500(login, app, monkeypatch):
    from app.services.errors import ValidationError

    def refuse():
        raise ValidationError("不行")

    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setitem(app.view_functions, "HomeView.index", refuse)
    response = login("secretary").get("/")
    assert response.status_code == 400 and "不行" in response.get_data(as_text=True)
