"""Workers' points over HTTP, per role: a grid worker's "my points" and redemptions of their own
account only (not another's by changing the id in the URL), the secretary's view of her
community's workers' accounts and hand-over, the workers' rules kept as the volunteers' are, the
last month awarded the first time it is needed, and bad input answered with a message, never a 500."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.models import (GridgovUser, LedgerEntry, PointsAccount, Redemption, RewardItem, Worker, WorkerPointsRule,
                        worker_points_months)
from app.services import points, worker_points

from .helpers import JINSHAN, XIANGJIANG, grid_id

BLOCK = "410611001001-01"  # the demo grid worker's block, in 湘江社区


def user(session, username) -> GridgovUser:
    return session.scalar(select(GridgovUser).where(GridgovUser.username == username))


def worker_account(session, username="worker") -> PointsAccount:
    session.expire_all()
    return session.scalar(select(PointsAccount).where(PointsAccount.worker_id == user(session, username).worker_id))


def other_worker_account(session, code=BLOCK) -> PointsAccount:
    """Another worker's account in the demo worker's own block (inside their grid scope)."""
    own = user(session, "worker").worker_id
    return session.scalar(select(PointsAccount).join(Worker, Worker.id == PointsAccount.worker_id)
                          .where(Worker.grid_id == grid_id(session, code), Worker.id != own).order_by(Worker.id))


def give(session, account, amount):
    session.add(LedgerEntry(account_id=account.id, kind="adjust", amount=amount, reason="测试"))
    session.commit()
    session.refresh(account)
    return account


def item(session, name) -> RewardItem:
    return session.scalar(select(RewardItem).where(RewardItem.name == name))


def counts(session):
    session.expire_all()
    return tuple(session.scalar(select(func.count()).select_from(m)) for m in (LedgerEntry, Redemption))


def test_a_worker_sees_their_points_and_the_last_month_is_awarded_on_the_first_view(login, session):
    from tests.services.test_worker_points import days_of, patrol_days

    month = worker_points.last_month()
    assert not worker_points.is_awarded(session, month)
    start = worker_account(session).balance
    patrol_days(session, session.get(Worker, user(session, "worker").worker_id), days_of(month))  # every day
    browser = login("worker")
    html = browser.get("/points/me/").get_data(as_text=True)
    assert worker_points.is_awarded(session, month)
    account = worker_account(session)
    assert account.balance >= start + 50  # the month's patrols (and the demo's visits when due, if in that month)
    assert f"巡查达标奖励（{month:%Y-%m}）" in html
    assert f'<strong id="balance">{account.balance}</strong>' in html
    assert "我的积分" in html and "巡查达标奖励" in html and "走访积分" in html  # the rules they earn by
    assert "服务记录" not in html  # a volunteer's section
    for line in points.ledger(session, account.id):  # each award said in words
        words = "按时走访" if line.entry.visit_id else "巡查达标"
        assert words in html
    # a second view awards nothing more
    browser.get("/points/me/")
    assert worker_account(session).balance == account.balance
    assert points.check_invariants(session) == []


def test_the_workers_home_page_and_menu_lead_to_my_points(login):
    home = login("worker").get("/").get_data(as_text=True)
    assert 'href="/points/me/"' in home and "/points/redeem/" in home
    secretary = login("secretary").get("/").get_data(as_text=True)
    assert "/workerpointsrulemodelview/list/" in secretary


def test_a_worker_redeems_from_their_own_account_in_two_steps(login, session):
    account = give(session, worker_account(session), 100)
    start = account.balance
    bag = item(session, "环保购物袋")  # 20 points, 湘江社区
    browser = login("worker")
    page = browser.get("/points/redeem/").get_data(as_text=True)
    assert f'name="qty-{bag.id}"' in page and "纯棉毛巾" not in page  # 金山社区's item is not offered
    preview = browser.post("/points/redeem/", {"step": "preview", f"qty-{bag.id}": "2"}).get_data(as_text=True)
    key = re.search(r'name="request_key" value="([0-9a-f]+)"', preview).group(1)
    before = counts(session)
    done = browser.post("/points/redeem/", {"step": "confirm", "request_key": key, f"qty-{bag.id}": "2"},
                        token_from="/points/redeem/")
    assert done.status_code == 302 and done.headers["Location"].endswith("/points/me/")
    assert counts(session) == (before[0] + 1, before[1] + 1)
    assert worker_account(session).balance == start - 40
    redemption = session.scalar(select(Redemption).where(Redemption.account_id == account.id))
    # the secretary of the worker's community hands it over
    secretary = login("secretary")
    assert secretary.get(f"/redemptionmodelview/show/{redemption.id}").status_code == 200
    handed = secretary.post("/redemptionmodelview/action_post", {"action": "hand_over", "rowid": str(redemption.id)},
                            token_from="/redemptionmodelview/list/")
    assert handed.status_code == 302
    session.expire_all()
    assert session.get(Redemption, redemption.id).status == "handed_over"
    # the secretary of another community does not see it
    assert login("secretary2").get(f"/redemptionmodelview/show/{redemption.id}").status_code == 404
    assert points.check_invariants(session) == []


def test_a_worker_cannot_reach_another_workers_account_by_its_id(login, session):
    other = give(session, other_worker_account(session), 100)
    bag = item(session, "环保购物袋")
    browser = login("worker")
    before = counts(session)
    assert browser.get(f"/points/redeem/{other.id}").status_code == 404
    for step in ("preview", "confirm"):
        response = browser.post(f"/points/redeem/{other.id}", {"step": step, "request_key": "k" * 32,
                                                               f"qty-{bag.id}": "1"}, token_from="/points/redeem/")
        assert response.status_code == 404
    assert counts(session) == before
    session.expire_all()
    assert session.get(PointsAccount, other.id).balance == other.balance
    # nor read it: the accounts, the ledger and the redemptions are the counter's lists
    for url in (f"/pointsaccountmodelview/show/{other.id}", "/pointsaccountmodelview/list/",
                "/ledgerentrymodelview/list/", "/redemptionmodelview/list/"):
        response = browser.get(url)
        assert response.status_code in (302, 403, 404), url
        assert str(other.balance) not in response.get_data(as_text=True) or response.status_code != 200
    # their own account, by its id, is theirs
    own = worker_account(session)
    assert browser.get(f"/points/redeem/{own.id}").status_code == 200


def test_a_volunteer_cannot_reach_a_workers_account(login, session):
    account = worker_account(session)
    assert login("volunteer").get(f"/points/redeem/{account.id}").status_code == 404


def test_the_secretary_sees_her_communitys_workers_accounts_and_redeems_for_them(login, session):
    own = give(session, worker_account(session), 100)
    elsewhere = session.scalar(select(PointsAccount).join(Worker, Worker.id == PointsAccount.worker_id)
                               .where(Worker.grid_id == grid_id(session, JINSHAN)))
    secretary = login("secretary")
    show = secretary.get(f"/pointsaccountmodelview/show/{own.id}")
    name = session.get(Worker, own.worker_id).name
    assert show.status_code == 200 and f"{name} · 网格员" in show.get_data(as_text=True)  # the holder and their role
    assert secretary.get(f"/pointsaccountmodelview/show/{elsewhere.id}").status_code == 404
    assert secretary.get(f"/points/redeem/{own.id}").status_code == 200
    assert secretary.get(f"/points/redeem/{elsewhere.id}").status_code == 404
    # her own page of points is the accounts list (she holds no account of her own here)
    assert secretary.get("/points/me/").status_code in (302, 403)


@pytest.mark.parametrize("quantity", ["-1", "abc", "100", "1e3", "", "0"])
def test_bad_quantities_are_a_message_never_a_500(login, session, quantity):
    give(session, worker_account(session), 100)
    bag = item(session, "环保购物袋")
    browser = login("worker")
    before = counts(session)
    response = browser.post("/points/redeem/", {"step": "confirm", "request_key": "x" * 32, f"qty-{bag.id}": quantity})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "alert" in html and ("1 至 99" in html or "至少选择" in html), html[-2000:]
    assert counts(session) == before


def test_too_few_points_and_an_item_of_another_community_are_refused_with_a_message(login, session):
    rice, towel = item(session, "东北大米 5kg"), item(session, "纯棉毛巾")  # 200 points; 金山社区's
    browser = login("worker")
    before = counts(session)
    balance = worker_account(session).balance
    assert balance < 200
    said = {rice.id: f"积分不足：需要 200 积分，当前余额 {balance}。", towel.id: "「纯棉毛巾」不在本社区兑换范围内。"}
    for chosen in (rice, towel):
        response = browser.post("/points/redeem/", {"step": "confirm", "request_key": "y" * 32,
                                                    f"qty-{chosen.id}": "1"})
        assert response.status_code == 200
        assert said[chosen.id] in response.get_data(as_text=True)
    assert counts(session) == before


def test_a_worker_login_not_linked_to_a_worker_is_told_so(login, session):
    from app.extensions import db  # noqa: F401  (the app's session is not used: a plain update)

    session.execute(GridgovUser.__table__.update().where(GridgovUser.username == "worker").values(worker_id=None))
    session.commit()
    response = login("worker").get("/points/me/", follow_redirects=True)
    assert response.status_code == 200
    assert "未关联工作人员档案" in response.get_data(as_text=True)


def test_workers_rules_are_kept_as_the_volunteers_rules_are(login, session):
    xiangjiang = grid_id(session, XIANGJIANG)
    secretary = login("secretary")
    form = {"community": str(xiangjiang), "name": "湘江走访奖", "award": "visit_due", "points": "3",
            "monthly_cap": "10", "min_share": "", "active": "y", "description": ""}
    response = secretary.post("/workerpointsrulemodelview/add", form)
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    made = session.scalar(select(WorkerPointsRule).where(WorkerPointsRule.name == "湘江走访奖"))
    assert (made.community_id, made.points, made.monthly_cap, made.min_share) == (xiangjiang, 3, 10, None)
    # the whole district's rules are the district's: refused with a message, nothing written
    refused = secretary.post("/workerpointsrulemodelview/add", {**form, "community": "", "name": "全区走访奖"})
    assert refused.status_code == 200 and "全区" in refused.get_data(as_text=True)
    # a patrol rule needs its share of days; a share of 101 % is not one
    bad = secretary.post("/workerpointsrulemodelview/add", {**form, "name": "湘江巡查奖", "award": "patrol_month",
                                                             "min_share": "101", "monthly_cap": ""})
    assert bad.status_code == 200
    assert session.scalar(select(func.count()).select_from(WorkerPointsRule)) == 3
    # a worker reads them on their page, not in a list to edit
    assert login("worker").get("/workerpointsrulemodelview/add").status_code in (302, 403)


def test_the_accounts_list_awards_the_last_month_once(login, session):
    secretary = login("secretary")
    assert secretary.get("/pointsaccountmodelview/list/").status_code == 200
    assert session.execute(select(func.count()).select_from(worker_points_months)).scalar() == 1
    assert secretary.get("/pointsaccountmodelview/list/").status_code == 200
    assert session.execute(select(func.count()).select_from(worker_points_months)).scalar() == 1


def test_a_paid_visit_is_not_deleted_and_the_secretary_is_told_why(login, session):
    from tests.services.test_worker_points import FEB, MARCH_TENTH, block_residents, visit

    paid = visit(session, block_residents(session, tagged=True)[0].id)
    worker_points.award_month(session, FEB, today=MARCH_TENTH)
    secretary = login("secretary")
    response = secretary.post(f"/visitmodelview/delete/{paid.id}", {}, token_from=f"/visitmodelview/show/{paid.id}",
                              follow_redirects=True)
    assert response.status_code == 200
    assert "已为此次走访发放积分" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(type(paid), paid.id) is not None
