"""Bad input gets a clear message in the user's language, nothing is saved, never a 500."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.models import Grid, Volunteer, Worker

from .helpers import XIANGJIANG, grid_id, volunteer_in

GOOD_WORKER = {
    "name": "赵新民", "role": "grid_worker", "phone": "13912345678", "id_number": "11010519491231002X",
    "employment": "full_time", "start_date": "2024-03-01",
}


def count(session, model):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def post_worker(browser, session, **changes):
    data = {**GOOD_WORKER, "grid": grid_id(session, XIANGJIANG + "-01"), **changes}
    return browser.post("/workermodelview/add", data)


def test_good_worker_is_saved(login, session):
    before = count(session, Worker)
    response = post_worker(login("secretary"), session)
    assert response.status_code == 302
    assert count(session, Worker) == before + 1
    saved = session.scalar(select(Worker).where(Worker.name == "赵新民"))
    assert saved.phone == "13912345678" and saved.id_number == "11010519491231002X"


@pytest.mark.parametrize("changes,message", [
    ({"phone": "12345678901"}, "请输入有效的大陆手机号"),
    ({"phone": "1391234567"}, "请输入有效的大陆手机号"),
    ({"id_number": "110105194912310021"}, "请输入有效的 18 位居民身份证号码"),
    ({"id_number": "11010519490230002X"}, "请输入有效的 18 位居民身份证号码"),
    ({"name": ""}, "必填"),
    ({"name": "张" * 51}, "50"),
    ({"start_date": "2099-01-01"}, "入职日期不能晚于今天"),
])
def test_bad_worker_is_refused_in_chinese(login, session, changes, message):
    before = count(session, Worker)
    response = post_worker(login("secretary"), session, **changes)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html, html[html.find("alert"):][:500]
    assert count(session, Worker) == before


def test_every_bad_field_is_named_at_once(login, session):
    """A malformed phone and ID are reported beside a missing date, not one submit later."""
    before = count(session, Worker)
    response = post_worker(login("secretary"), session, phone="1391234567", id_number="110105194912310021",
                           start_date="")
    html = response.get_data(as_text=True)
    for message in ("请输入有效的大陆手机号", "请输入有效的 18 位居民身份证号码", "该字段是必填字段"):
        assert message in html, message
    assert count(session, Worker) == before


def test_messages_follow_the_language(login, session):
    response = post_worker(login("secretary", lang="en"), session, phone="12345")
    html = response.get_data(as_text=True)
    assert "Enter a valid mainland mobile number" in html


def test_duplicate_grid_code(login, session):
    before = count(session, Grid)
    response = login("secretary").post("/gridmodelview/add", {
        "parent": grid_id(session, XIANGJIANG), "code": XIANGJIANG + "-01", "name": "重复小区",
        "level": "block", "kind": "comprehensive", "households": "0", "population": "0",
    })
    assert response.status_code == 200
    assert "已经存在" in response.get_data(as_text=True)
    assert count(session, Grid) == before


def test_level_must_be_below_parent(login, session):
    before = count(session, Grid)
    response = login("secretary").post("/gridmodelview/add", {
        "parent": grid_id(session, XIANGJIANG + "-01-01"), "code": "NEW-B1", "name": "错层网格",
        "level": "block", "kind": "comprehensive", "households": "0", "population": "0",
    })
    assert response.status_code == 200
    assert "网格的层级必须低于其上级网格的层级" in response.get_data(as_text=True)
    assert count(session, Grid) == before


def test_no_cycles(login, session):
    community = session.scalar(select(Grid).where(Grid.code == XIANGJIANG))
    block_id = grid_id(session, XIANGJIANG + "-01")
    browser = login("street")
    response = browser.post(f"/gridmodelview/edit/{community.id}", {
        "parent": block_id, "code": community.code, "name": community.name, "level": "community",
        "kind": "comprehensive", "households": "0", "population": "0",
    }, token_from=f"/gridmodelview/edit/{community.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "网格的层级必须低于其上级网格的层级" in html or "网格不能移到自身或其下级网格之下" in html
    session.expire_all()
    assert session.get(Grid, community.id).parent_id == community.parent_id


def test_bad_volunteer_and_service_record(login, session):
    browser = login("secretary")
    before = count(session, Volunteer)
    response = browser.post("/volunteermodelview/add", {
        "community": grid_id(session, XIANGJIANG), "name": "钱多多", "kind": "sunk_party_member",
        "phone": "13812345678",
    })
    assert response.status_code == 200
    assert "下沉党员须填写所在单位" in response.get_data(as_text=True)
    response = browser.post("/volunteermodelview/add", {
        "community": grid_id(session, XIANGJIANG + "-01"), "name": "钱多多", "kind": "resident",
        "phone": "13812345678",
    })
    assert response.status_code == 200
    assert "所属社区必须是社区级网格" in response.get_data(as_text=True)
    assert count(session, Volunteer) == before


@pytest.mark.parametrize("hours,message", [
    ("NaN", "不是有效的小数"), ("Infinity", "不是有效的小数"), ("1e400", "数值过大：整数部分最多 3 位"),
    ("2.25", "小数位数过多：最多 1 位"), ("-1", "服务时长须大于 0"),
])
def test_bad_service_hours_are_refused_in_chinese(login, session, hours, message):
    from app.models import ServiceRecord

    before = count(session, ServiceRecord)
    response = login("secretary").post("/servicerecordmodelview/add", {
        "volunteer": volunteer_in(session, XIANGJIANG).id, "date": "2026-01-01", "hours": hours, "activity": "巡河"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html, html[html.find("alert"):][:500]
    assert count(session, ServiceRecord) == before


def test_bad_ids_in_urls_are_404_not_500(login):
    browser = login("secretary")
    for url in ("/gridmodelview/show/abc", "/gridmodelview/edit/-1", "/gridmodelview/tree/x",
                "/volunteermodelview/show/99999999999999999999"):
        assert browser.get(url).status_code == 404, url
