"""The users' journeys in a real browser (Chromium), in Chinese; one again in English."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.models import PointsAccount, RewardItem
from app.services import points as bank

from ..services.test_points import give
from ..views.test_points import my_account


TEXTS = {
    "zh": {"ledger": "积分流水", "redeem": "积分兑换", "next": "下一步", "confirm": "确认兑换"},
    "en": {"ledger": "Points ledger", "redeem": "Redeem rewards", "next": "Next", "confirm": "Confirm"},
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_volunteer_on_a_phone_checks_points_and_redeems(journey, session, lang):
    text = TEXTS[lang]
    account = give(session, my_account(session), 100)
    session.commit()
    balance = account.balance
    bag = session.scalar(select(RewardItem).where(RewardItem.name == "环保购物袋"))  # 20 points
    volunteer = journey.user(phone=True).login("volunteer", lang=lang)
    page = volunteer.page
    page.goto("/points/me/")
    assert page.locator("html").get_attribute("lang").startswith(lang)
    assert page.locator("#balance").inner_text() == str(balance)
    assert page.get_by_text(text["ledger"]).is_visible()
    volunteer.assert_fits()
    volunteer.screenshot(f"3-volunteer-points-phone-{lang}")

    page.get_by_role("link", name=text["redeem"]).click()
    page.fill(f"#qty-{bag.id}", "2")
    assert page.locator("#after").inner_text() == str(balance - 40)  # computed as she types
    volunteer.assert_fits()
    page.get_by_role("button", name=text["next"]).click()
    assert page.locator("#after").inner_text() == str(balance - 40)
    volunteer.screenshot(f"3-volunteer-redeem-confirm-phone-{lang}")
    page.get_by_role("button", name=text["confirm"], exact=True).click()
    page.wait_for_url(re.compile(r"/points/me/"))
    assert page.locator("#balance").inner_text() == str(balance - 40)
    assert page.get_by_text("环保购物袋 × 2").first.is_visible()
    session.expire_all()
    assert session.get(PointsAccount, account.id).balance == balance - 40
    assert bank.check_invariants(session) == []

    # another volunteer's account, typed in the address bar
    other = session.scalar(select(PointsAccount.id).where(PointsAccount.id != account.id,
                                                          PointsAccount.volunteer_id.is_not(None)))
    response = page.goto(f"/points/redeem/{other}")
    assert response.status == 404
    response = page.goto(f"/pointsaccountmodelview/show/{other}")
    assert response.status in (403, 404) or "/login" in page.url or "权限" in page.content()


def test_dispatcher_declares_a_response_and_a_grid_checks_in(journey, session):
    from app.models import EmergencyResponse, Grid, ResponseTask

    dispatcher = journey.user().login("dispatcher")
    page = dispatcher.page
    page.goto("/emergencyresponsemodelview/declare")
    street = session.scalar(select(Grid).where(Grid.code == "410611001"))
    page.select_option("#level", "III")
    page.select_option("#area", str(street.id))
    page.fill("#title", "防汛三级响应")
    page.fill("#directive", "立即排查地下车库和低洼地带")
    page.get_by_role("button", name="启动并一键下达到每个网格").click()
    page.wait_for_url(re.compile(r"/emergencyresponsemodelview/show/\d+"))
    declared = session.scalar(select(EmergencyResponse).order_by(EmergencyResponse.id.desc()))
    tasks = session.scalar(select(func.count()).select_from(ResponseTask).where(ResponseTask.response_id == declared.id))
    assert page.get_by_text(f"报告进度: 0 / {tasks}").is_visible()

    worker = journey.user(phone=True).login("worker")
    worker.page.goto("/emergencyresponsemodelview/tasks/")
    assert worker.page.get_by_text("立即排查地下车库和低洼地带").is_visible()
    worker.page.locator("input[name=note]").first.fill("已排查，无积水")
    worker.page.get_by_role("button", name="已完成，报告").first.click()
    worker.page.wait_for_load_state()
    assert worker.page.get_by_text("已报告").first.is_visible()
    worker.assert_fits()
    worker.screenshot("5-grid-checks-in-phone")

    page.reload()
    assert page.get_by_text(f"报告进度: 1 / {tasks}").is_visible()
    dispatcher.screenshot("5-response-progress")


def test_admin_creates_a_secretary_who_sees_only_her_community(journey, session):
    from app.models import Grid
    from flask_appbuilder.security.sqla.models import Role

    role = session.scalar(select(Role.id).where(Role.name == "Community secretary"))
    jinshan = session.scalar(select(Grid).where(Grid.code == "410611002001"))
    admin = journey.user().login("admin")
    page = admin.page
    page.goto("/users/add")
    page.fill("#first_name", "金")
    page.fill("#last_name", "新书记")
    page.fill("#username", "jinshan2")
    page.fill("#email", "jinshan2@example.gov.cn")
    page.select_option("#roles", str(role), force=True)
    page.select_option("#grid", str(jinshan.id), force=True)
    page.fill("#password", "JinShan@2026x")
    page.fill("#conf_password", "JinShan@2026x")
    assert page.locator("#roles option:checked").inner_text() == "社区书记"
    admin.screenshot("1-admin-adds-a-secretary")
    page.locator("form#model_form button[type=submit], form#model_form input[type=submit]").first.click()
    page.wait_for_load_state()
    assert page.get_by_text("记录已添加").is_visible(), page.locator(".alert, .text-danger").all_inner_texts()
    from app.models import GridgovUser

    created = session.scalar(select(GridgovUser).where(GridgovUser.username == "jinshan2"))
    assert created.grid_id == jinshan.id and [r.name for r in created.roles] == ["Community secretary"]

    secretary = journey.user().login("jinshan2", "JinShan@2026x")
    page = secretary.page
    menus = page.locator(".navbar-nav > li > a.dropdown-toggle").all_inner_texts()
    admin_menus = admin.page.locator(".navbar-nav > li > a.dropdown-toggle").all_inner_texts()
    assert any("用户权限" in m for m in admin_menus) and not any("用户权限" in m for m in menus), menus
    assert any("网格与部门" in m for m in menus)
    page.goto("/gridmodelview/list/")
    assert page.get_by_text("金山社区").first.is_visible()
    assert page.get_by_text("湘江社区").count() == 0
    secretary.screenshot("1-new-secretary-sees-her-community")
    xiangjiang = session.scalar(select(Grid.id).where(Grid.code == "410611001001"))
    assert page.goto(f"/gridmodelview/show/{xiangjiang}").status == 404
    assert page.goto("/users/list/").status in (302, 403) or "/users/list" not in page.url

