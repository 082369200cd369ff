"""The points bank over HTTP, per role: volunteers on their phones, secretaries at the counter."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from app.models import Grid, LedgerEntry, PointsAccount, Redemption, RewardItem, ServiceRecord, StockMovement
from app.models.users import GridgovUser
from app.services import points

from .helpers import JINSHAN, PNG, XIANGJIANG, grid_id, pixels, volunteer_in


def my_account(session, username="volunteer") -> PointsAccount:
    user = session.scalar(select(GridgovUser).where(GridgovUser.username == username))
    return points.account_of_volunteer(session, user.volunteer_id)


def item(session, name) -> RewardItem:
    return session.scalar(select(RewardItem).where(RewardItem.name == name))


def counts(session):
    session.expire_all()
    return tuple(session.scalar(select(func.count()).select_from(m)) for m in (LedgerEntry, StockMovement, Redemption))


def test_volunteer_sees_balance_and_ledger(login, session):
    account = my_account(session)
    html = login("volunteer").get("/points/me/").get_data(as_text=True)
    assert f'<strong id="balance">{account.balance}</strong>' in html
    for line in points.ledger(session, account.id):
        assert line.entry.reason in html
    assert "待领取" in html  # the demo volunteer has a pending redemption


def test_volunteer_redeems_in_two_steps_once(login, session):
    from tests.services.test_points import give

    account = give(session, my_account(session), 100)
    bag = item(session, "环保购物袋")  # 20 points, 湘江社区
    balance, stock = account.balance, bag.stock
    browser = login("volunteer")
    before_preview = counts(session)
    page = browser.get("/points/redeem/").get_data(as_text=True)
    assert f'name="qty-{bag.id}"' in page and "纯棉毛巾" not in page  # 金山社区's item is not offered here
    preview = browser.post("/points/redeem/", {"step": "preview", f"qty-{bag.id}": "2"}).get_data(as_text=True)
    assert f'<strong id="after">{balance - 40}</strong>' in preview
    key = re.search(r'name="request_key" value="([0-9a-f]+)"', preview).group(1)
    assert counts(session) == before_preview  # the preview writes nothing
    before = counts(session)
    form = {"step": "confirm", "request_key": key, f"qty-{bag.id}": "2"}
    first = browser.post("/points/redeem/", form, token_from="/points/redeem/")
    second = browser.post("/points/redeem/", form, token_from="/points/redeem/")  # a double submit
    assert first.status_code == second.status_code == 302
    assert counts(session) == (before[0] + 1, before[1] + 1, before[2] + 1)
    session.expire_all()
    assert session.get(PointsAccount, account.id).balance == balance - 40
    assert session.get(RewardItem, bag.id).stock == stock - 2
    assert points.check_invariants(session) == []


def test_bad_redemptions_over_http_change_nothing(login, session):
    account = my_account(session)
    rice = item(session, "东北大米 5kg")
    towel = item(session, "纯棉毛巾")
    browser = login("volunteer")
    before = counts(session)
    for form, message in (
        ({f"qty-{rice.id}": "0"}, "请至少选择一件物品"),
        ({f"qty-{rice.id}": "-2"}, "数量须为 1 至 99 的整数"),
        ({f"qty-{rice.id}": "abc"}, "数量须为 1 至 99 的整数"),
        ({f"qty-{rice.id}": str(account.balance // rice.price + 1)}, "积分不足"),
        ({f"qty-{towel.id}": "1"}, "不在本社区兑换范围内"),
    ):
        html = browser.post("/points/redeem/", {"step": "confirm", "request_key": "x" * 32, **form},
                            token_from="/points/redeem/").get_data(as_text=True)
        assert message in html, message
    assert counts(session) == before


def test_volunteer_cannot_open_another_account(login, session):
    mine = my_account(session)
    others = session.scalars(select(PointsAccount.id).where(PointsAccount.id != mine.id, PointsAccount.volunteer_id.is_not(None))).all()
    browser = login("volunteer")
    for account_id in others[:3]:
        assert browser.get(f"/points/redeem/{account_id}").status_code == 404
        assert browser.post(f"/points/redeem/{account_id}", {"step": "confirm", "qty-1": "1"},
                            token_from="/points/redeem/").status_code == 404
        assert browser.get(f"/pointsaccountmodelview/show/{account_id}").status_code in (403, 404)
    assert browser.get(f"/points/redeem/{mine.id}").status_code == 200


def test_secretary_awards_her_records_once(login, session):
    community = grid_id(session, XIANGJIANG)
    from app.models import Volunteer

    unawarded = session.scalars(
        select(ServiceRecord.id).join(Volunteer).where(
            Volunteer.community_id == community, ServiceRecord.rule_id.is_not(None),
            ~ServiceRecord.id.in_(select(LedgerEntry.service_record_id).where(LedgerEntry.kind == "earn")))
    ).all()
    assert unawarded
    browser = login("secretary")
    form = {"action": "award", "rowid": unawarded}
    browser.get("/volunteermodelview/list/")
    response = browser.post("/servicerecordmodelview/action_post", form, token_from="/servicerecordmodelview/list/?psize_ServiceRecordModelView=50")
    assert response.status_code == 302  # back to the list she acted on, not the page before it
    assert response.headers["Location"].endswith("/servicerecordmodelview/list/?psize_ServiceRecordModelView=50")
    entries = counts(session)[0]
    browser.post("/servicerecordmodelview/action_post", form, token_from="/servicerecordmodelview/list/")
    assert counts(session)[0] == entries  # a second click awards nothing more
    assert points.awarded_record_ids(session, unawarded) == set(unawarded)

    other = session.scalar(select(ServiceRecord.id).join(Volunteer).where(Volunteer.community_id == grid_id(session, JINSHAN)))
    response = browser.post("/servicerecordmodelview/action_post", {"action": "award", "rowid": [other]},
                            token_from="/servicerecordmodelview/list/")
    assert response.status_code == 404
    assert counts(session)[0] == entries
    assert points.check_invariants(session) == []


def test_counter_hands_over_and_cancels(login, session):
    account = my_account(session)
    pending = session.scalar(select(Redemption).where(Redemption.account_id == account.id, Redemption.status == "pending"))
    # secretary2 (another community) cannot touch it
    other = login("secretary2")
    assert other.post("/redemptionmodelview/action_post", {"action": "cancel_redemption", "rowid": [pending.id]},
                      token_from="/redemptionmodelview/list/").status_code == 404
    balance = account.balance
    browser = login("secretary")
    browser.post("/redemptionmodelview/action_post", {"action": "cancel_redemption", "rowid": [pending.id]},
                 token_from="/redemptionmodelview/list/")
    session.expire_all()
    assert session.get(Redemption, pending.id).status == "cancelled"
    assert session.get(PointsAccount, account.id).balance == balance + pending.total_points
    # cancelling again refunds nothing
    browser.post("/redemptionmodelview/action_post", {"action": "cancel_redemption", "rowid": [pending.id]},
                 token_from="/redemptionmodelview/list/")
    session.expire_all()
    assert session.get(PointsAccount, account.id).balance == balance + pending.total_points
    assert points.check_invariants(session) == []
    # volunteers and leaders have no counter
    assert login("leader").post("/redemptionmodelview/action_post", {"action": "hand_over", "rowid": [pending.id]},
                                token_from="/redemptionmodelview/list/").status_code in (302, 403)
    session.expire_all()
    assert session.get(Redemption, pending.id).status == "cancelled"


def test_secretary_redeems_on_behalf_of_her_volunteers_only(login, session):
    mine = points.account_of_volunteer(session, volunteer_in(session, XIANGJIANG).id)
    theirs = points.account_of_volunteer(session, volunteer_in(session, JINSHAN).id)
    browser = login("secretary")
    assert browser.get(f"/points/redeem/{mine.id}").status_code == 200
    assert browser.get(f"/points/redeem/{theirs.id}").status_code == 404
    assert "代为兑换" in browser.get(f"/pointsaccountmodelview/show/{mine.id}").get_data(as_text=True)


def test_secretary_manages_her_catalog(login, session):
    browser = login("secretary")
    before = session.scalar(select(func.count()).select_from(RewardItem))
    response = browser.post("/rewarditemmodelview/add", {
        "community": grid_id(session, XIANGJIANG), "name": "雨伞", "price": "60", "restock": "10", "active": "y"})
    assert response.status_code == 302
    umbrella = item(session, "雨伞")
    assert umbrella.stock == 10 and umbrella.community_id == grid_id(session, XIANGJIANG)
    response = browser.post(f"/rewarditemmodelview/edit/{umbrella.id}", {
        "community": grid_id(session, XIANGJIANG), "name": "雨伞", "price": "60", "restock": "5", "active": "y"},
        token_from=f"/rewarditemmodelview/edit/{umbrella.id}")
    assert response.status_code == 302
    session.expire_all()
    assert session.get(RewardItem, umbrella.id).stock == 15
    # no district-wide item and no item for another community
    html = browser.post("/rewarditemmodelview/add", {"name": "全区物品", "price": "60", "restock": "1"}).get_data(as_text=True)
    assert "只有区级可以提供全区通兑的物品" in html
    browser.post("/rewarditemmodelview/add", {"community": grid_id(session, JINSHAN), "name": "越界", "price": "60"})
    assert session.scalar(select(func.count()).select_from(RewardItem)) == before + 1
    assert points.check_invariants(session) == []


def test_honour_roll_is_scoped(login, session):
    html = login("secretary2").get("/points/honour/").get_data(as_text=True)
    assert "金山社区" in html and "湘江社区" not in html
    html = login("dispatcher").get("/points/honour/").get_data(as_text=True)
    assert "金山社区" in html and "湘江社区" in html and "九州路街道" in html


def test_ledger_cannot_be_edited_through_the_screens(login, session):
    entry = session.scalar(select(LedgerEntry.id).limit(1))
    browser = login("admin")
    assert browser.get(f"/ledgerentrymodelview/show/{entry}").status_code == 200
    for url in (f"/ledgerentrymodelview/edit/{entry}", f"/ledgerentrymodelview/delete/{entry}",
                "/ledgerentrymodelview/add", f"/pointsaccountmodelview/edit/{entry}"):
        assert browser.get(url).status_code == 404
        assert browser.post(url, {}, token_from="/ledgerentrymodelview/list/").status_code == 404
    session.expire_all()
    assert session.get(LedgerEntry, entry) is not None


def test_corrections_are_compensating_entries(login, session):
    account = points.account_of_volunteer(session, volunteer_in(session, XIANGJIANG).id)
    balance, entries = account.balance, counts(session)[0]
    browser = login("secretary")
    show = f"/pointsaccountmodelview/show/{account.id}"
    browser.post(f"/points/adjust/{account.id}", {"amount": "-3", "reason": "重复登记更正"}, token_from=show)
    session.expire_all()
    assert session.get(PointsAccount, account.id).balance == balance - 3
    assert counts(session)[0] == entries + 1
    for form in ({"amount": "0", "reason": "x"}, {"amount": "5", "reason": " "}, {"amount": "abc", "reason": "x"},
                 {"amount": str(-(balance + 100)), "reason": "超额"}):
        browser.post(f"/points/adjust/{account.id}", form, token_from=show)
    assert counts(session)[0] == entries + 1
    other = points.account_of_volunteer(session, volunteer_in(session, JINSHAN).id)
    assert browser.post(f"/points/adjust/{other.id}", {"amount": "5", "reason": "x"}, token_from=show).status_code == 404
    assert login("volunteer").post(f"/points/adjust/{account.id}", {"amount": "5", "reason": "x"},
                                   token_from="/points/me/").status_code in (302, 403)
    session.expire_all()
    assert session.get(PointsAccount, account.id).balance == balance - 3
    assert points.check_invariants(session) == []


def test_reward_pictures_are_stored_and_served_locally(login, session, app):
    import io
    import os

    browser = login("secretary")
    response = browser.post("/rewarditemmodelview/add", {
        "community": grid_id(session, XIANGJIANG), "name": "保温杯", "price": "90", "restock": "3", "active": "y",
        "picture_file": (io.BytesIO(PNG), "cup.png"),
    }, content_type="multipart/form-data")
    assert response.status_code == 302
    cup = item(session, "保温杯")
    assert cup.picture and cup.picture.endswith(".png")
    assert os.path.exists(os.path.join(app.config["INSTANCE_DIR"], "uploads", "rewards", cup.picture))
    served = browser.get(f"/points/picture/{cup.picture}")
    assert served.status_code == 200 and pixels(served.data) == pixels(PNG)
    assert app.test_client().get(f"/points/picture/{cup.picture}").status_code in (302, 401, 403)
    # served only where its item is seen: not to another community's secretary or a department
    assert login("secretary2").get(f"/points/picture/{cup.picture}").status_code == 404
    assert login("department").get(f"/points/picture/{cup.picture}").status_code in (403, 404)
    assert login("street").get(f"/points/picture/{cup.picture}").status_code == 200
    assert login("admin").get(f"/points/picture/{cup.picture}").status_code == 200
    assert browser.get("/points/picture/..%2Fsecret_key").status_code == 404
    html = browser.post("/rewarditemmodelview/add", {
        "community": grid_id(session, XIANGJIANG), "name": "坏图", "price": "90",
        "picture_file": (io.BytesIO(b"MZ..."), "virus.exe"),
    }, content_type="multipart/form-data").get_data(as_text=True)
    assert "jpg" in html  # the form again, naming the allowed kinds
    assert item(session, "坏图") is None


def test_a_new_reward_picture_replaces_the_old_file(login, session, app):
    import io
    import os

    directory = os.path.join(app.config["INSTANCE_DIR"], "uploads", "rewards")
    browser = login("secretary")
    form = {"community": grid_id(session, XIANGJIANG), "name": "雨衣", "price": "50", "active": "y"}
    browser.post("/rewarditemmodelview/add", {**form, "restock": "2", "picture_file": (io.BytesIO(PNG), "a.png")},
                 content_type="multipart/form-data")
    coat = item(session, "雨衣")
    old = coat.picture
    assert os.path.exists(os.path.join(directory, old))
    files = set(os.listdir(directory))
    # a refused change (more stock taken away than there is) keeps the old picture and adds none
    html = browser.post(f"/rewarditemmodelview/edit/{coat.id}", {**form, "restock": "-5",
                        "picture_file": (io.BytesIO(PNG), "b.png")}, content_type="multipart/form-data",
                        token_from=f"/rewarditemmodelview/edit/{coat.id}").get_data(as_text=True)
    assert "库存" in html
    session.expire_all()
    assert session.get(RewardItem, coat.id).picture == old and set(os.listdir(directory)) == files
    response = browser.post(f"/rewarditemmodelview/edit/{coat.id}", {**form, "picture_file": (io.BytesIO(PNG), "c.png")},
                            content_type="multipart/form-data", token_from=f"/rewarditemmodelview/edit/{coat.id}")
    assert response.status_code == 302
    session.expire_all()
    new = session.get(RewardItem, coat.id).picture
    assert new != old and set(os.listdir(directory)) == files - {old} | {new}


def test_secretary_cannot_withdraw_district_items(login, session):
    soap = item(session, "洗衣液 2kg")  # district-wide, visible to her
    browser = login("secretary")
    browser.post(f"/rewarditemmodelview/delete/{soap.id}", {}, token_from="/rewarditemmodelview/list/")
    session.expire_all()
    assert session.get(RewardItem, soap.id) is not None


def test_volunteers_start_on_their_points(login):
    response = login("volunteer").get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/points/me/")


def test_a_roll_ranks_one_level_below_what_it_covers(login, session):
    dispatcher = login("dispatcher")  # the district: its own board and its two streets'
    html = dispatcher.get("/points/honour/").get_data(as_text=True)
    street = session.scalar(select(Grid).where(Grid.code == "410611001"))  # 九州路街道
    assert "按区县" in html and "按街道" in html and "按社区" not in html and "选择街道" in html
    assert f"street={street.id}" in html
    html = dispatcher.get(f"/points/honour/?street={street.id}").get_data(as_text=True)
    assert "按社区" in html and "湘江社区" in html and "金山社区" not in html  # 金山 is in the other street
    assert "按区县" not in html and "全部街道" in html
    # the street officer's roll covers one street: its communities at once; another street's id shows nothing of it
    html = login("street").get("/points/honour/").get_data(as_text=True)
    assert "按社区" in html and "湘江社区" in html
    other = session.scalar(select(Grid.id).where(Grid.code == "410611002"))
    html = login("street").get(f"/points/honour/?street={other}").get_data(as_text=True)
    assert "金山社区" not in html
    assert login("street").get("/points/honour/?street=abc&year=x&district=y").status_code == 200
    # a city (a second district): the administrator's roll ranks districts, each linked to its own
    qibin = session.scalar(select(Grid.id).where(Grid.code == "410611"))
    session.add(Grid(code="410602", name="鹤山区", level="district", kind="comprehensive"))
    session.commit()
    admin = login("admin")
    html = admin.get("/points/honour/").get_data(as_text=True)
    assert "按区县" in html and "按街道" not in html and "选择区县" in html and f"district={qibin}" in html
    html = admin.get(f"/points/honour/?district={qibin}").get_data(as_text=True)
    assert "按街道" in html and "九州路街道" in html and "按社区" not in html and "全部区县" in html
    html = admin.get(f"/points/honour/?street={street.id}").get_data(as_text=True)
    assert "按社区" in html and f"district={qibin}" in html  # back to the street's district
    assert "全部区县" in html and "全部街道" not in html  # and up to the city's roll, which ranks districts
    assert f"district={qibin}" not in login("street").get(f"/points/honour/?street={street.id}").get_data(as_text=True)
    # the dispatcher's scope is 淇滨区: the other district's roll shows none of 淇滨区's streets
    heshan = session.scalar(select(Grid.id).where(Grid.code == "410602"))
    response = dispatcher.get(f"/points/honour/?district={heshan}")
    assert response.status_code == 200 and "九州路街道" not in response.get_data(as_text=True)
