"""The users' journeys in a real browser (Chromium), in Chinese; one again in English."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.models import PointsAccount, RewardItem
from app.services import points

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
    expect(page.locator("#balance")).to_have_text(str(balance))
    expect(page.get_by_text(text["ledger"])).to_be_visible()
    volunteer.assert_fits()
    volunteer.screenshot(f"3-volunteer-points-phone-{lang}")

    page.get_by_role("link", name=text["redeem"]).click()
    page.wait_for_url(re.compile(r"/points/redeem/"))  # loaded: its script attached to the form
    page.fill(f"#qty-{bag.id}", "2")
    expect(page.locator("#after")).to_have_text(str(balance - 40))  # computed as she types
    volunteer.assert_fits()
    volunteer.assert_labelled()
    submit(page, page.get_by_role("button", name=text["next"]))  # the same address, the confirming page
    expect(page.get_by_role("button", name=text["confirm"], exact=True)).to_be_visible()
    expect(page.locator("#after")).to_have_text(str(balance - 40))
    volunteer.screenshot(f"3-volunteer-redeem-confirm-phone-{lang}")
    page.get_by_role("button", name=text["confirm"], exact=True).click()
    page.wait_for_url(re.compile(r"/points/me/"))
    expect(page.locator("#balance")).to_have_text(str(balance - 40))
    expect(page.get_by_text("环保购物袋 × 2").first).to_be_visible()
    session.expire_all()
    assert session.get(PointsAccount, account.id).balance == balance - 40
    assert points.check_invariants(session) == []

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
    dispatcher.assert_labelled()
    page.get_by_role("button", name="启动并一键下达到每个网格").click()
    page.wait_for_url(re.compile(r"/emergencyresponsemodelview/show/\d+"))
    declared = session.scalar(select(EmergencyResponse).order_by(EmergencyResponse.id.desc()))
    tasks = session.scalar(select(func.count()).select_from(ResponseTask).where(ResponseTask.response_id == declared.id))
    expect(page.get_by_text(f"报告进度: 0 / {tasks}")).to_be_visible()

    worker = journey.user(phone=True).login("worker")
    worker.page.goto("/emergencyresponsemodelview/tasks/")
    expect(worker.page.get_by_text("立即排查地下车库和低洼地带")).to_be_visible()
    worker.page.locator("input[name=note]").first.fill("已排查，无积水")
    submit(worker.page, worker.page.get_by_role("button", name="已完成，报告").first)
    expect(worker.page.get_by_text("已报告").first).to_be_visible()
    worker.assert_fits()
    worker.screenshot("5-grid-checks-in-phone")

    page.reload()
    expect(page.get_by_text(f"报告进度: 1 / {tasks}")).to_be_visible()
    dispatcher.screenshot("5-response-progress")


def test_admin_creates_a_secretary_who_sees_only_her_community(journey, session):
    from app.models import Grid
    from flask_appbuilder.security.sqla.models import Role

    role = session.scalar(select(Role.id).where(Role.name == "Community secretary"))
    jinshan = session.scalar(select(Grid).where(Grid.code == "410611002001"))
    admin = journey.user().login("admin")
    page = admin.page
    page.goto("/users/add")
    page.fill("#last_name", "金")
    page.fill("#first_name", "新书记")
    page.fill("#username", "jinshan2")
    page.fill("#email", "jinshan2@example.gov.cn")
    page.select_option("#roles", str(role), force=True)
    assert page.locator("#grid option").count() <= 1  # no list of every grid in the page
    page.locator("#grid + .select2 .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").press_sequentially("不存在的网格")
    expect(page.locator(".select2-container--open .select2-results__message")).to_have_text("未找到结果")
    page.keyboard.press("Escape")
    pick(page, "#grid", "金山", jinshan.code, jinshan.id)
    page.fill("#password", "JinShan@2026x")
    page.fill("#conf_password", "JinShan@2026x")
    assert page.locator("#roles option:checked").inner_text() == "社区书记"
    admin.assert_labelled()
    admin.screenshot("1-admin-adds-a-secretary")
    save(page)
    shown(page, "记录已添加", ".alert, .text-danger")
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
    expect(page.get_by_text("金山社区").first).to_be_visible()
    assert page.get_by_text("湘江社区").count() == 0
    secretary.screenshot("1-new-secretary-sees-her-community")
    xiangjiang = session.scalar(select(Grid.id).where(Grid.code == "410611001001"))
    assert page.goto(f"/gridmodelview/show/{xiangjiang}").status == 404
    assert page.goto("/users/list/").status in (302, 403) or "/users/list" not in page.url



def act(user, action: str, note: str | None = None, **selects) -> None:
    """Submit the incident page's form of one action (its button is that action's label)."""
    form = user.page.locator(f"form:has(input[name=action][value={action}])")
    if note is not None:
        form.locator("textarea[name=note]").fill(note)
    for name, value in selects.items():
        form.locator(f"select[name={name}]").select_option(value)
    submit(user.page, form.locator("button[type=submit]"))


def department_officer(app, username: str, department: str) -> None:
    from app.extensions import db
    from app.models import Department

    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.add_user(username, "市政", "专员", f"{username}@example.gov.cn", sm.find_role("Department officer"),
                           password="ShiZheng@2026x")
        user.department_id = db.session.scalar(select(Department.id).where(Department.name == department))
        db.session.commit()
        db.session.remove()


def test_an_incident_from_the_phone_to_a_closed_whistle(journey, session, app):
    from app.models import Grid, Incident, IncidentCategory, Whistle

    department_officer(app, "shizheng", "淇滨区市政工程处")
    worker = journey.user(phone=True).login("worker")
    page = worker.page
    page.goto("/incidentmodelview/report")
    category = session.scalar(select(IncidentCategory.id).where(IncidentCategory.name == "安全隐患"))
    page.locator(f"input[name=category][value='{category}']").check(force=True)
    page.fill("#title", "路面塌陷")
    page.select_option("#grid", str(session.scalar(select(Grid.id).where(Grid.code == "410611001001-01-01"))))
    page.fill("#description", "小区门口路面塌陷，下方疑似管线破损")
    page.fill("#reporter_phone", "13800138000")
    worker.assert_fits()
    worker.assert_labelled()
    worker.screenshot("4-worker-reports-phone")
    page.get_by_role("button", name="上报", exact=True).click()
    page.wait_for_url(re.compile(r"/incidentmodelview/show/\d+"))
    incident_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    worker.assert_fits()
    act(worker, "escalate", "涉及管线，需社区协调")

    secretary = journey.user().login("secretary")
    secretary.page.goto(f"/incidentmodelview/show/{incident_id}")
    act(secretary, "escalate", "需街道协调城管和市政")

    street = journey.user().login("street")
    page = street.page
    page.goto(f"/whistlemodelview/blow?incident={incident_id}")
    for name in ("淇滨区城市管理局", "淇滨区市政工程处"):
        page.get_by_label(name).check()
    page.fill("#reason", "路面塌陷涉及城管与市政管线")
    street.assert_labelled()
    page.get_by_role("button", name="吹哨").click()
    page.wait_for_url(re.compile(r"/whistlemodelview/show/\d+"))
    whistle_url = page.url

    for username, password, result in (("department", None, "已设置围挡，疏导交通"),
                                       ("shizheng", "ShiZheng@2026x", "已修复破损管线并回填")):
        officer = journey.user().login(username, password)
        officer.page.goto(whistle_url)
        submit(officer.page, officer.page.get_by_role("button", name="报到"))
        officer.page.locator("textarea[name=result]").fill(result)
        submit(officer.page, officer.page.get_by_role("button", name="提交处置结果"))
        expect(officer.page.get_by_text(result)).to_be_visible()

    page.goto(f"/incidentmodelview/show/{incident_id}")
    act(street, "accept")
    if page.locator("form:has(input[name=action][value=handle])").count():
        act(street, "handle")
    act(street, "resolve", "城管、市政联合处置完毕")
    rater = street if page.locator("form:has(input[name=action][value=rate])").count() else \
        secretary.page.goto(f"/incidentmodelview/show/{incident_id}") and secretary
    act(rater, "rate", rating="5")
    session.expire_all()
    incident = session.get(Incident, incident_id)
    assert incident.status == "closed" and incident.rating == 5

    page.goto(whistle_url)
    for rating in page.locator("select[name^=rating-]").all():  # no rating is chosen for the blower
        assert rating.input_value() == ""
        rating.select_option("5")
    submit(page, page.get_by_role("button", name="结束吹哨"))
    street.screenshot("4-whistle-closed")
    session.expire_all()
    whistle = session.scalar(select(Whistle).order_by(Whistle.id.desc()))
    assert whistle.status == "closed" and sorted(s.rating for s in whistle.summonses) == [5, 5]


def submit(page, button) -> None:
    """Click a form's button and wait for the page the server answers with (loaded)."""
    with page.expect_navigation():
        button.click()


def save(page) -> None:
    """Submit a FAB add or edit form and wait for the page it leads to."""
    submit(page, page.locator("form#model_form button[type=submit], form#model_form input[type=submit]").first)


def shown(page, text: str, messages: str = ".alert, .help-block") -> None:
    """``text`` is shown on the page; if not, the failure says what the page said instead."""
    try:
        expect(page.get_by_text(text).first).to_be_visible()
    except AssertionError as error:
        raise AssertionError(f"{text!r} not shown; the page says {page.locator(messages).all_inner_texts()}") from error


def pick(page, selector: str, text: str, label: str, value: int) -> None:
    """Choose a row in a typed picker as a person does: open it, type part of the name, click
    the row the server offered (the form carries no list of every row to choose from)."""
    page.locator(f"{selector} + .select2 .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").press_sequentially(text)
    page.locator(".select2-container--open .select2-results__option", has_text=label).first.click()
    assert label in page.locator(f"{selector} option:checked").inner_text()
    assert page.input_value(selector) == str(value)


def type_date(page, selector: str, value: str) -> None:
    """Type a date key by key as a person does (the date picker reads keystrokes; a value set
    without them is cleared when the picker closes), then close the picker."""
    page.locator(selector).press_sequentially(value)
    page.keyboard.press("Escape")
    assert page.input_value(selector) == value


def test_secretary_adds_a_building_and_its_worker_edits_a_volunteer_and_awards_points(journey, session):
    from app.models import Grid, PointsAccount, PointsRule, ServiceRecord, Volunteer, Worker

    block = session.scalar(select(Grid).where(Grid.code == "410611001001-01"))  # 湘江社区's first block
    secretary = journey.user().login("secretary")
    page = secretary.page

    # a building grid under her block
    page.goto("/gridmodelview/add")
    pick(page, "#parent", block.name, block.code, block.id)
    page.fill("#code", "410611001001-01-09")
    page.fill("#name", f"{block.name}9号楼")
    page.select_option("#level", "building")
    page.select_option("#kind", "comprehensive")
    page.fill("#households", "64")
    page.fill("#population", "170")
    secretary.assert_labelled()
    save(page)
    shown(page, "记录已添加")
    building = session.scalar(select(Grid).where(Grid.code == "410611001001-01-09"))
    assert building.parent_id == block.id and building.level == "building"

    # a worker for it: a malformed phone is refused with a message, nothing is saved
    page.goto("/workermodelview/add")
    pick(page, "#grid", "9号楼", building.code, building.id)
    page.fill("#name", "楼栋长新")
    page.select_option("#role", "building_leader")
    page.select_option("#employment", "part_time")
    page.fill("#phone", "1380013800")  # ten digits
    save(page)
    shown(page, "请输入有效的大陆手机号")
    secretary.assert_labelled()
    secretary.screenshot("2-secretary-refused-a-malformed-phone")
    assert session.scalar(select(func.count()).select_from(Worker).where(Worker.grid_id == building.id)) == 0
    page.fill("#phone", "13800138001")
    type_date(page, "#start_date", "2026-11-01")
    save(page)
    shown(page, "记录已添加")
    worker = session.scalar(select(Worker).where(Worker.grid_id == building.id))
    assert worker.name == "楼栋长新" and worker.phone == "13800138001"

    # edit one of her volunteers
    community = block.parent_id
    volunteer = session.scalar(select(Volunteer).where(Volunteer.community_id == community).order_by(Volunteer.id.desc()))
    page.goto(f"/volunteermodelview/edit/{volunteer.id}")
    page.fill("#skills", "水电维修、老人陪护")
    save(page)
    shown(page, "记录已更新")
    session.expire_all()
    assert session.get(Volunteer, volunteer.id).skills == "水电维修、老人陪护"

    # record a service and award its points from the list's action menu
    rule = session.scalar(select(PointsRule).where(PointsRule.name == "防汛隐患排查"))
    page.goto("/servicerecordmodelview/add")
    pick(page, "#volunteer", volunteer.name, volunteer.name, volunteer.id)
    type_date(page, "#date", "2026-11-20")
    page.fill("#hours", "3")
    page.select_option("#rule", str(rule.id), force=True)
    page.fill("#activity", "防汛隐患排查（地下车库）")
    secretary.assert_labelled()
    save(page)
    shown(page, "记录已添加")
    record = session.scalar(select(ServiceRecord).where(ServiceRecord.activity == "防汛隐患排查（地下车库）"))
    account = session.scalar(select(PointsAccount).where(PointsAccount.volunteer_id == volunteer.id))
    before = account.balance if account else 0

    page.goto("/servicerecordmodelview/list/")
    page.get_by_role("button", name="操作").click()
    page.get_by_role("link", name="发放积分").click()  # nothing ticked yet: told so, in Chinese
    expect(page.locator("#modal-alert .modal-text")).to_have_text("未选择任何记录")
    page.locator("#modal-alert button").click()
    page.locator(f"input.action_check[value='{record.id}']").check()
    page.get_by_role("button", name="操作").click()
    page.get_by_role("link", name="发放积分").click()
    expect(page.locator("#modal-confirm .modal-text")).to_have_text("确定为选中的服务记录发放积分吗？")
    with page.expect_navigation():
        page.locator("#modal-confirm-ok").click()
    assert "/servicerecordmodelview/list" in page.url  # back on the list, the points now shown
    row = page.locator(f"tr:has(input.action_check[value='{record.id}'])")
    secretary.screenshot("2-secretary-awarded-points")
    session.expire_all()
    awarded = session.get(ServiceRecord, record.id).points_awarded
    hours = 3 if rule.unit == "hour" else 1
    assert awarded == rule.points * hours
    shown(page, f"已为 1 条服务记录发放 {awarded} 积分。", ".alert")
    expect(row.locator("td").last).to_have_text(str(awarded))
    account = session.scalar(select(PointsAccount).where(PointsAccount.volunteer_id == volunteer.id))
    assert account.balance == before + awarded
    assert points.check_invariants(session) == []


def noisy_png(path, width: int = 4000, height: int = 3000):
    """A phone-sized picture of more than 4 MB (made without Pillow): a PNG of noise, which
    hardly compresses."""
    import os
    import struct
    import zlib

    low = bytes.maketrans(bytes(range(256)), bytes(96 + (i & 0x3f) for i in range(256)))
    raw = b"".join(b"\x00" + os.urandom(width * 3).translate(low) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b""))
    return path


def test_a_phone_photo_is_made_small_enough_and_nothing_typed_is_lost(journey, session, app, tmp_path):
    from app.models import Grid, Incident, IncidentCategory

    limit = app.config["MAX_CONTENT_LENGTH"]
    photo = noisy_png(tmp_path / "IMG_0001.png")
    assert photo.stat().st_size > limit
    unreadable = tmp_path / "IMG_0002.jpg"  # too large, and no browser can shrink it
    unreadable.write_bytes(b"\xff\xd8\xff" + bytes(limit))

    worker = journey.user(phone=True).login("worker")
    page = worker.page
    page.goto("/incidentmodelview/report")
    category = session.scalar(select(IncidentCategory.id).where(IncidentCategory.name == "安全隐患"))
    grid = str(session.scalar(select(Grid.id).where(Grid.code == "410611001001-01-01")))
    page.locator(f"input[name=category][value='{category}']").check(force=True)
    page.fill("#title", "井盖缺失")
    page.select_option("#grid", grid)
    page.fill("#description", "三号楼北侧井盖缺失，夜间危险")

    # a photo still too large: the user is told, nothing is sent
    page.set_input_files("#photo", str(unreadable))
    page.get_by_role("button", name="上报", exact=True).click()
    expect(page.locator("#photo-status")).to_contain_text("照片压缩后仍超过 4 MB")
    assert page.url.endswith("/incidentmodelview/report")

    # the form comes again (a refusal, a page left): what was typed is back
    page.goto("/incidentmodelview/report")
    expect(page.locator("#title")).to_have_value("井盖缺失")
    expect(page.locator("#description")).to_have_value("三号楼北侧井盖缺失，夜间危险")
    assert page.locator(f"input[name=category][value='{category}']").is_checked()
    assert page.locator("#grid").input_value() == grid

    page.set_input_files("#photo", str(photo))
    page.get_by_role("button", name="上报", exact=True).click()
    page.wait_for_url(re.compile(r"/incidentmodelview/show/\d+"), timeout=60_000)
    incident_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    session.expire_all()
    incident = session.get(Incident, incident_id)
    assert incident.title == "井盖缺失" and incident.photo.endswith(".jpg")
    sent = page.request.get(f"/incidentmodelview/photo/{incident_id}").body()
    assert sent[:3] == b"\xff\xd8\xff" and len(sent) < limit
    worker.screenshot("4-worker-reported-with-a-large-photo-phone")

    # the report is made: a new report starts empty
    page.goto("/incidentmodelview/report")
    expect(page.locator("#title")).to_have_value("")
