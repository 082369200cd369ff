"""The users' journeys in a real browser (Chromium), in Chinese; one again in English."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.models import PointsAccount, RewardItem
from app.services import points as bank

from ..services.test_points import give
from ..views.test_points import my_account


def test_volunteer_on_a_phone_checks_points_and_redeems(journey, session):
    account = give(session, my_account(session), 100)
    session.commit()
    balance = account.balance
    bag = session.scalar(select(RewardItem).where(RewardItem.name == "环保购物袋"))  # 20 points
    volunteer = journey.user(phone=True).login("volunteer")
    page = volunteer.page
    page.goto("/points/me/")
    assert page.locator("html").get_attribute("lang").startswith("zh")
    assert page.locator("#balance").inner_text() == str(balance)
    assert page.get_by_text("积分流水").is_visible()
    volunteer.assert_fits()
    volunteer.screenshot("3-volunteer-points-phone")

    page.get_by_role("link", name="积分兑换").click()
    page.fill(f"#qty-{bag.id}", "2")
    assert page.locator("#after").inner_text() == str(balance - 40)  # computed as she types
    volunteer.assert_fits()
    page.get_by_role("button", name="下一步").click()
    assert page.locator("#after").inner_text() == str(balance - 40)
    volunteer.screenshot("3-volunteer-redeem-confirm-phone")
    page.get_by_role("button", name="确认兑换").click()
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
