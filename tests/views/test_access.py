"""Every path to a row enforces the user's scope, per role, over HTTP."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.models import Department, Grid, ServiceRecord, Volunteer, Worker

from .helpers import FULL_MOBILE_RE, JINSHAN, XIANGJIANG, grid_id, record_count, volunteer_in, worker_in


def ids(session):
    """Rows of the secretary's community (湘江) and of another community (金山)."""
    return {
        "own_worker": worker_in(session, XIANGJIANG).id,
        "other_worker": worker_in(session, JINSHAN).id,
        "own_volunteer": volunteer_in(session, XIANGJIANG).id,
        "other_volunteer": volunteer_in(session, JINSHAN).id,
        "own_grid": grid_id(session, XIANGJIANG + "-01"),
        "other_grid": grid_id(session, JINSHAN + "-01"),
    }


@pytest.mark.parametrize("username,grids,workers,volunteers", [
    ("admin", 45, None, 24),
    ("dispatcher", 45, None, 24),
    ("leader", 45, None, 24),
    ("street", 1 + 3 + 6 + 12, None, 12),
    ("secretary", 1 + 2 + 4, 17, 4),
    ("secretary2", 1 + 2 + 4, 17, 4),
    ("worker", 3, 3 + 2 * 2, 0),
])
def test_lists_show_only_the_scope(login, session, username, grids, workers, volunteers):
    browser = login(username)
    assert record_count(browser.get("/gridmodelview/list/").get_data(as_text=True)) == grids
    if workers is not None:
        assert record_count(browser.get("/workermodelview/list/").get_data(as_text=True)) == workers
    assert record_count(browser.get("/volunteermodelview/list/").get_data(as_text=True)) == volunteers


def test_secretary_cannot_reach_another_community_by_url(login, session):
    rows = ids(session)
    browser = login("secretary")
    for url in (f"/workermodelview/show/{rows['other_worker']}", f"/workermodelview/edit/{rows['other_worker']}",
                f"/volunteermodelview/show/{rows['other_volunteer']}", f"/gridmodelview/show/{rows['other_grid']}",
                f"/gridmodelview/edit/{rows['other_grid']}", f"/gridmodelview/tree/{rows['other_grid']}",
                "/workermodelview/show/999999", "/workermodelview/show/abc"):
        assert browser.get(url).status_code == 404, url
    assert browser.get(f"/workermodelview/show/{rows['own_worker']}").status_code == 200

    other = session.get(Worker, rows["other_worker"])
    name, phone = other.name, other.phone
    response = browser.post(f"/workermodelview/edit/{rows['other_worker']}",
                            {"name": "改名", "phone": "13900000000"}, token_from="/workermodelview/list/")
    assert response.status_code == 404
    response = browser.post(f"/workermodelview/delete/{rows['other_worker']}", {}, token_from="/workermodelview/list/")
    assert response.status_code == 404
    session.expire_all()
    other = session.get(Worker, rows["other_worker"])
    assert (other.name, other.phone) == (name, phone)


def test_bulk_delete_cannot_reach_outside_the_scope(login, session):
    rows = ids(session)
    browser = login("secretary")
    before = session.scalar(select(func.count()).select_from(ServiceRecord))
    other_record = session.scalar(select(ServiceRecord.id).where(ServiceRecord.volunteer_id == rows["other_volunteer"]))
    from app.models import LedgerEntry

    awarded = select(LedgerEntry.service_record_id).where(LedgerEntry.kind == "earn", LedgerEntry.service_record_id.is_not(None))
    own_record = session.scalar(select(ServiceRecord.id).where(
        ServiceRecord.volunteer_id == rows["own_volunteer"], ~ServiceRecord.id.in_(awarded)))
    rewarded = session.scalar(select(ServiceRecord.id).where(
        ServiceRecord.volunteer_id == rows["own_volunteer"], ServiceRecord.id.in_(awarded)))
    response = browser.post("/servicerecordmodelview/action_post",
                            {"action": "muldelete", "rowid": [own_record, other_record]},
                            token_from="/servicerecordmodelview/list/")
    assert response.status_code == 404
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(ServiceRecord)) == before
    response = browser.post("/servicerecordmodelview/action_post", {"action": "muldelete", "rowid": [own_record]},
                            token_from="/servicerecordmodelview/list/")
    assert response.status_code == 302
    session.expire_all()
    assert session.get(ServiceRecord, own_record) is None
    assert session.scalar(select(func.count()).select_from(ServiceRecord)) == before - 1
    # a record that earned points stays: the ledger refers to it
    response = browser.post("/servicerecordmodelview/action_post", {"action": "muldelete", "rowid": [rewarded]},
                            token_from="/servicerecordmodelview/list/")
    assert response.status_code == 302
    assert "该服务记录已发放积分，不能删除" in browser.get(response.headers["Location"]).get_data(as_text=True)
    session.expire_all()
    assert session.get(ServiceRecord, rewarded) is not None


def test_single_row_actions_need_post_and_scope(login, session):
    rows = ids(session)
    browser = login("secretary")
    assert browser.get(f"/workermodelview/action/muldelete/{rows['own_worker']}").status_code == 405
    response = browser.post(f"/workermodelview/action/muldelete/{rows['other_worker']}", {},
                            token_from="/workermodelview/list/")
    assert response.status_code == 404
    session.expire_all()
    assert session.get(Worker, rows["other_worker"]) is not None


def test_secretary_cannot_create_outside_her_community(login, session):
    rows = ids(session)
    browser = login("secretary")
    before = session.scalar(select(func.count()).select_from(Worker))
    response = browser.post("/workermodelview/add", {
        "grid": rows["other_grid"], "name": "外人", "role": "grid_worker", "phone": "13912345678",
        "employment": "full_time", "start_date": "2024-01-01", "training_hours": "10",
    })
    assert response.status_code == 200  # the form again, with its error
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Worker)) == before

    grids_before = session.scalar(select(func.count()).select_from(Grid))
    response = browser.post("/gridmodelview/add", {
        "parent": grid_id(session, JINSHAN), "code": "OUT-9", "name": "越界小区", "level": "block",
        "kind": "comprehensive", "households": "0", "population": "0",
    })
    assert response.status_code == 200
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Grid)) == grids_before


def test_relation_choices_are_scoped(login, session):
    browser = login("secretary")
    html = browser.get("/workermodelview/add").get_data(as_text=True)
    assert "金山社区" not in html
    offered = [row["id"] for row in browser.get("/workermodelview/pick/grid?q=").get_json()["results"]]
    assert grid_id(session, XIANGJIANG + "-01") in offered and grid_id(session, JINSHAN) not in offered
    search = browser.get("/workermodelview/list/").get_data(as_text=True)
    assert "金山社区" not in search


def test_rest_api_is_scoped(login, session):
    browser = login("secretary")
    response = browser.get("/api/v1/grids/")
    assert response.status_code == 200
    assert response.get_json()["count"] == 7
    assert browser.get(f"/api/v1/grids/{grid_id(session, JINSHAN)}").status_code == 404
    assert browser.get(f"/api/v1/grids/{grid_id(session, XIANGJIANG)}").status_code == 200
    assert login("volunteer").get("/api/v1/grids/").status_code in (401, 403)


def test_volunteer_sees_only_own_record(login, session):
    browser = login("volunteer")
    from app.models.users import GridgovUser

    me = session.scalar(select(GridgovUser).where(GridgovUser.username == "volunteer")).volunteer_id
    other = session.scalar(select(Volunteer.id).where(Volunteer.id != me).order_by(Volunteer.id))
    assert browser.get(f"/volunteermodelview/show/{me}").status_code == 200
    assert browser.get(f"/volunteermodelview/show/{other}").status_code == 404
    assert browser.get(f"/volunteermodelview/edit/{other}").status_code in (403, 404)
    assert record_count(browser.get("/volunteermodelview/list/").get_data(as_text=True)) == 1
    assert browser.get("/gridmodelview/list/").status_code == 403  # no permission


def test_department_officer_sees_own_department(login, session):
    browser = login("department")
    html = browser.get("/departmentmodelview/list/").get_data(as_text=True)
    assert record_count(html) == 1 and "淇滨区城市管理局" in html
    other = session.scalar(select(Department.id).where(Department.name == "淇滨区民政局"))
    assert browser.get(f"/departmentmodelview/show/{other}").status_code == 404


def test_leader_reads_but_cannot_write_and_sees_masked_phones(login, session):
    rows = ids(session)
    browser = login("leader")
    html = browser.get("/workermodelview/list/").get_data(as_text=True)
    assert record_count(html) > 0
    assert not FULL_MOBILE_RE.search(html)
    assert "****" in html
    show = browser.get(f"/workermodelview/show/{rows['own_worker']}").get_data(as_text=True)
    worker = session.get(Worker, rows["own_worker"])
    assert worker.phone not in show and worker.id_number not in show
    assert browser.get(f"/workermodelview/edit/{rows['own_worker']}").status_code == 403
    response = browser.post(f"/workermodelview/delete/{rows['own_worker']}", {}, token_from="/workermodelview/list/")
    assert response.status_code in (302, 403)
    session.expire_all()
    assert session.get(Worker, rows["own_worker"]) is not None


def test_secretary_sees_full_phones_of_her_people(login, session):
    rows = ids(session)
    worker = session.get(Worker, rows["own_worker"])
    html = login("secretary").get(f"/workermodelview/show/{rows['own_worker']}").get_data(as_text=True)
    assert worker.phone in html


def test_menus_follow_the_role(login):
    admin = login("admin").get("/").get_data(as_text=True)
    assert "/users/list/" in admin
    volunteer = login("volunteer").get("/points/me/").get_data(as_text=True)
    assert "/gridmodelview/list/" not in volunteer and "/users/list/" not in volunteer
    assert "/volunteermodelview/list/" in volunteer and "/points/redeem/" in volunteer
    secretary = login("secretary").get("/").get_data(as_text=True)
    assert "/gridmodelview/list/" in secretary and "/users/list/" not in secretary
    assert "/rewarditemmodelview/list/" in secretary


def test_anonymous_is_sent_to_login(client):
    response = client.get("/workermodelview/list/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# For each role: a worker, volunteer and grid outside the user's scope (403 where the role has
# no permission on the screen at all, 404 where it has but the row is not in its scope).
OUTSIDE = {
    "street": JINSHAN,
    "secretary": JINSHAN,
    "secretary2": XIANGJIANG,
    "worker": XIANGJIANG + "-02",
    "department": XIANGJIANG,
    "volunteer": JINSHAN,
}


@pytest.mark.parametrize("username", sorted(OUTSIDE))
def test_typed_ids_outside_the_scope_are_not_shown(login, session, username):
    code = OUTSIDE[username]
    community = code if len(code) == 12 else code[:12]
    worker = worker_in(session, code)
    volunteer = volunteer_in(session, community)
    grid = grid_id(session, code)
    browser = login(username)
    for url in (f"/workermodelview/show/{worker.id}", f"/workermodelview/edit/{worker.id}",
                f"/volunteermodelview/show/{volunteer.id}", f"/volunteermodelview/edit/{volunteer.id}",
                f"/gridmodelview/show/{grid}", f"/gridmodelview/edit/{grid}", f"/gridmodelview/tree/{grid}",
                f"/api/v1/grids/{grid}"):
        response = browser.get(url)
        assert response.status_code in (401, 403, 404), (url, response.status_code)
        assert worker.name not in response.get_data(as_text=True)
