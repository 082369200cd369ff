"""微心愿 and training records over HTTP, per role: who sees a wish (list, show, export, photo), who
may post and take each step, bad input refused with a message and nothing written (never a 500), a
photo that is no picture refused, the volunteer's phone page, the workers under the required hours."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from app.models import MicroWish, Resident, TrainingRecord
from app.services import wishes

from ..services.test_incidents import actor
from .helpers import PNG, JINSHAN, XIANGJIANG, grid_id, worker_in

BUILDING = XIANGJIANG + "-01-01"


def resident(session, code=BUILDING) -> Resident:
    return session.scalar(select(Resident).where(Resident.grid_id == grid_id(session, code)).order_by(Resident.id))


def new_wish(session, title="想要一个新书包", state="posted") -> MicroWish:
    wish = wishes.post(session, actor(session, "worker"),
                       wishes.WishPost(resident_id=resident(session).id, title=title, kind="goods"))
    if state in ("open", "claimed", "done"):
        wishes.act(session, actor(session, "secretary"), wish.id, "open")
    if state in ("claimed", "done"):
        wishes.act(session, actor(session, "volunteer"), wish.id, "claim")
    if state == "done":
        wishes.act(session, actor(session, "volunteer"), wish.id, "done", note="已送到", photo="x.png")
    return wish


def wishes_count(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(MicroWish))


@pytest.mark.parametrize("username, sees", [
    ("secretary", True), ("worker", True), ("street", True), ("dispatcher", True), ("leader", True), ("admin", True),
    ("secretary2", False), ("department", False), ("volunteer", False),
])
def test_who_sees_a_posted_wish_in_list_record_and_export(login, session, username, sees):
    wish = new_wish(session, title="修理漏水龙头")
    browser = login(username)
    listed = browser.get("/microwishmodelview/list/")
    shown = browser.get(f"/microwishmodelview/show/{wish.id}")
    exported = browser.get("/microwishmodelview/export/csv")
    # a department has no micro-wishes page at all
    assert listed.status_code in (200, 403) and shown.status_code in (200, 403, 404)
    if sees:
        assert "修理漏水龙头" in listed.get_data(as_text=True)
        assert shown.status_code == 200 and "修理漏水龙头" in shown.get_data(as_text=True)
        assert "修理漏水龙头" in exported.get_data(as_text=True)
    else:
        assert "修理漏水龙头" not in listed.get_data(as_text=True)
        assert "修理漏水龙头" not in shown.get_data(as_text=True)
        assert "修理漏水龙头" not in exported.get_data(as_text=True)


def test_the_volunteer_sees_an_open_wish_on_the_phone_page_and_claims_it(login, session):
    wish = new_wish(session, title="陪老人去医院", state="open")
    browser = login("volunteer")
    page = browser.get("/microwishmodelview/mine/").get_data(as_text=True)
    assert "陪老人去医院" in page and "认领" in page
    response = browser.post(f"/microwishmodelview/act/{wish.id}", {"action": "claim", "back": "mine"},
                            token_from="/microwishmodelview/mine/")
    assert response.status_code == 302 and response.location.endswith("/microwishmodelview/mine/")
    session.expire_all()
    assert session.get(MicroWish, wish.id).state == "claimed"
    # another volunteer of the community no longer sees it
    other = login("secretary2")  # a staff login of another community: a 404, nothing changed
    assert other.post(f"/microwishmodelview/act/{wish.id}", {"action": "cancel"},
                      token_from="/microwishmodelview/list/").status_code == 404


def test_done_with_a_photo_over_http_and_a_non_picture_refused(login, session, app):
    wish = new_wish(session, state="claimed")
    browser = login("volunteer")
    url = f"/microwishmodelview/act/{wish.id}"
    refused = browser.post(url, {"action": "done", "note": "已送到", "photo": (io.BytesIO(b"<script>x</script>"),
                                                                              "a.jpg")},
                           content_type="multipart/form-data", token_from="/microwishmodelview/mine/",
                           follow_redirects=True)
    assert refused.status_code == 200 and "请上传 JPG、PNG 或 WebP 图片" in refused.get_data(as_text=True)
    session.expire_all()
    assert session.get(MicroWish, wish.id).state == "claimed"
    no_note = browser.post(url, {"action": "done", "note": " ", "photo": (io.BytesIO(PNG), "a.png")},
                           content_type="multipart/form-data", token_from="/microwishmodelview/mine/",
                           follow_redirects=True)
    assert "请在备注中写明做了什么" in no_note.get_data(as_text=True)
    session.expire_all()
    assert session.get(MicroWish, wish.id).state == "claimed"
    done = browser.post(url, {"action": "done", "note": "已送到老人家中", "photo": (io.BytesIO(PNG), "a.png")},
                        content_type="multipart/form-data", token_from="/microwishmodelview/mine/")
    assert done.status_code == 302
    session.expire_all()
    stored = session.get(MicroWish, wish.id)
    assert stored.state == "done" and stored.photo
    assert login("secretary").get(f"/microwishmodelview/photo/{wish.id}").status_code == 200
    assert login("secretary2").get(f"/microwishmodelview/photo/{wish.id}").status_code == 404


@pytest.mark.parametrize("username, allowed", [
    ("worker", True), ("secretary", True), ("street", False), ("leader", False), ("department", False),
    ("volunteer", False),
])
def test_who_may_post(login, session, username, allowed):
    browser = login(username)
    before = wishes_count(session)
    page = browser.get("/microwishmodelview/post")
    data = {"resident": resident(session).id, "title": "修门锁", "kind": "repair"}
    if not allowed:
        assert page.status_code in (302, 403)
        browser.post("/microwishmodelview/post", data, token_from="/resetmypassword/form")
        assert wishes_count(session) == before
        return
    assert page.status_code == 200 and "修门锁" not in page.get_data(as_text=True)
    response = browser.post("/microwishmodelview/post", data)
    assert response.status_code == 302
    assert wishes_count(session) == before + 1


@pytest.mark.parametrize("changes, message", [
    ({"title": ""}, "请给心愿写一个简短的标题"),
    ({"title": "长" * 101}, "标题不超过 100 字"),
    ({"kind": "car"}, "请选择心愿的类别"),
    ({"resident": "abc"}, "请选择本辖区的居民"),
    ({"resident": "99999999999"}, "请选择本辖区的居民"),
    ({"description": "字" * 1001}, "最多 1000 个字"),
])
def test_bad_input_gets_a_message_and_writes_nothing(login, session, changes, message):
    browser = login("worker")
    before = wishes_count(session)
    data = {"resident": resident(session).id, "title": "修门锁", "kind": "repair", **changes}
    response = browser.post("/microwishmodelview/post", data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert wishes_count(session) == before


def test_a_step_refused_gets_a_message_and_changes_nothing(login, session):
    wish = new_wish(session, state="done")
    browser = login("secretary")
    for data, message in (({"action": "rate", "satisfaction": "9"}, "满意度"), ({"action": "fly"}, "未知操作"),
                          ({"action": "cancel"}, "心愿当前状态下不能进行此操作")):
        response = browser.post(f"/microwishmodelview/act/{wish.id}", data, follow_redirects=True,
                                token_from=f"/microwishmodelview/show/{wish.id}")
        assert response.status_code == 200 and message in response.get_data(as_text=True), data
    session.expire_all()
    assert session.get(MicroWish, wish.id).state == "done"
    assert browser.post("/microwishmodelview/act/abc", {"action": "open"},
                        token_from=f"/microwishmodelview/show/{wish.id}").status_code == 404
    ok = browser.post(f"/microwishmodelview/act/{wish.id}", {"action": "rate", "satisfaction": "5"},
                      token_from=f"/microwishmodelview/show/{wish.id}")
    assert ok.status_code == 302
    session.expire_all()
    assert session.get(MicroWish, wish.id).state == "rated"
    assert "获得了 20 积分" in browser.get(f"/microwishmodelview/show/{wish.id}").get_data(as_text=True)


def test_the_show_page_offers_each_role_its_steps(login, session):
    wish = new_wish(session)
    page = lambda name: login(name).get(f"/microwishmodelview/show/{wish.id}").get_data(as_text=True)
    secretary = page("secretary")
    assert "开放认领" in secretary and "派给志愿者" in secretary and "取消心愿" in secretary
    worker = page("worker")
    assert "派给志愿者" not in worker and "取消心愿" in worker  # the poster, while it waits
    assert "取消心愿" not in page("leader") and "派给志愿者" not in page("street")


def test_the_unclaimed_wish_is_on_the_secretarys_home_page(login, session):
    from sqlalchemy import text

    wish = new_wish(session, title="送米面油")
    session.execute(text("UPDATE micro_wishes SET posted_at = posted_at - interval '10 days', "
                         "claim_deadline = claim_deadline - interval '10 days' WHERE id = :id"), {"id": wish.id})
    session.commit()
    home = login("secretary").get("/").get_data(as_text=True)
    assert "无人认领的微心愿" in home and "送米面油" in home and f"/microwishmodelview/show/{wish.id}" in home
    assert "送米面油" not in login("secretary2").get("/").get_data(as_text=True)


# --- training ---------------------------------------------------------------------------------------
def test_training_records_per_role_and_the_under_hours_page(login, session):
    worker = worker_in(session, XIANGJIANG + "-01")
    secretary = login("secretary")
    form = {"worker": worker.id, "date": "2026-02-01", "course": "应急处置实务", "hours": "6.5", "organiser": "区应急局"}
    assert secretary.post("/trainingrecordmodelview/add", form).status_code == 302
    assert session.scalar(select(func.count()).select_from(TrainingRecord).where(
        TrainingRecord.course == "应急处置实务")) == 1
    shown = secretary.get(f"/workermodelview/show/{worker.id}").get_data(as_text=True)
    assert "应急处置实务" in shown and "各年度培训学时" in shown
    assert "应急处置实务" not in login("secretary2").get("/trainingrecordmodelview/list/").get_data(as_text=True)
    # another community's worker is refused, nothing written
    other = worker_in(session, JINSHAN)
    refused = secretary.post("/trainingrecordmodelview/add", {**form, "worker": other.id, "course": "越权课程"})
    assert refused.status_code == 200
    assert session.scalar(select(func.count()).select_from(TrainingRecord).where(TrainingRecord.course == "越权课程")) == 0
    # no one of the demo trained in 2025: every grid worker and leader of her community is listed
    under = secretary.get("/trainingrecordmodelview/under/?year=2025").get_data(as_text=True)
    assert "湘江社区" in under and worker.name in under and "金山社区" not in under
    assert "金山社区" in login("dispatcher").get("/trainingrecordmodelview/under/?year=2025").get_data(as_text=True)
    assert login("department").get("/trainingrecordmodelview/under/").status_code in (302, 403)
    assert login("volunteer").get("/trainingrecordmodelview/list/").status_code in (302, 403)


@pytest.mark.parametrize("hours, message", [
    ("abc", "不是有效的小数"), ("NaN", "不是有效的小数"), ("Infinity", "不是有效的小数"), ("1e400", "数值过大"),
    ("0.05", "小数位数过多：最多 1 位"), ("0", "大于 0"), ("250", "大于 0"),
])
def test_bad_training_hours_are_refused_in_chinese(login, session, hours, message):
    worker = worker_in(session, XIANGJIANG + "-01")
    before = session.scalar(select(func.count()).select_from(TrainingRecord))
    response = login("secretary").post("/trainingrecordmodelview/add", {
        "worker": worker.id, "date": "2026-02-01", "course": "培训", "hours": hours})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(TrainingRecord)) == before
