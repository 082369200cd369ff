"""巡查日志 over HTTP, per role: who sees which patrols (list, record, export, the JSON endpoint, a
worker's days, the week's compliance), who is shown a track, the phone page's actions, bad input
answered with a message and nothing written, and the patrol rules kept by the district."""
from __future__ import annotations

import datetime
import re

import pytest
from sqlalchemy import func, select, text

from app.models import ClockIn, Grid, GridgovUser, Patrol, PatrolRule, Worker
from app.services.local_time import TIMEZONE, local_today

from .helpers import JINSHAN, WORKER_BLOCK, XIANGJIANG, grid_id, record_count


def the_worker(session) -> Worker:
    """The demo grid worker's record (the login ``worker`` is it)."""
    return session.scalar(select(Worker).join(GridgovUser, GridgovUser.worker_id == Worker.id)
                          .where(GridgovUser.username == "worker"))


def another_worker(session, code: str, besides: int | None = None) -> Worker:
    return session.scalar(select(Worker).join(Grid, Worker.grid_id == Grid.id)
                          .where(Grid.code == code, Worker.id != (besides or 0)).order_by(Worker.id))


def patrol_of(session, worker: Worker, days_ago=1, minutes=70, metres=1500, track=True) -> Patrol:
    started = datetime.datetime.combine(local_today() - datetime.timedelta(days=days_ago), datetime.time(9), TIMEZONE)
    patrol = Patrol(worker_id=worker.id, grid_id=worker.grid_id, started_at=started,
                    ended_at=started + datetime.timedelta(minutes=minutes), distance_m=metres, duration_s=minutes * 60,
                    latitudes=[35.7461, 35.7512] if track else [], longitudes=[114.2951, 114.2987] if track else [],
                    seconds=[0, minutes * 60] if track else [])
    session.add(patrol)
    session.commit()
    return patrol


@pytest.fixture
def patrols(session):
    """A patrol of the demo worker, of another worker of his block, and of a worker of 金山社区."""
    me = the_worker(session)
    neighbour = another_worker(session, WORKER_BLOCK, besides=me.id)
    jinshan = another_worker(session, JINSHAN + "-01")
    return {"own": patrol_of(session, me).id, "neighbour": patrol_of(session, neighbour).id,
            "jinshan": patrol_of(session, jinshan).id}


@pytest.mark.parametrize("username, seen", [
    ("worker", {"own"}),
    ("secretary", {"own", "neighbour"}),
    ("secretary2", {"jinshan"}),
    ("street", {"own", "neighbour"}),
    ("dispatcher", {"own", "neighbour", "jinshan"}),
    ("leader", {"own", "neighbour", "jinshan"}),
    ("admin", {"own", "neighbour", "jinshan"}),
])
def test_each_role_sees_its_patrols_in_list_record_and_export(login, session, patrols, username, seen):
    browser = login(username)
    assert record_count(browser.get("/patrolmodelview/list/").get_data(as_text=True)) == len(seen)
    for name, pk in patrols.items():
        assert browser.get(f"/patrolmodelview/show/{pk}").status_code == (200 if name in seen else 404), name
    exported = browser.get("/patrolmodelview/export/csv").get_data(as_text=True)
    assert len(exported.strip().splitlines()) == 1 + len(seen)
    assert "35.74" not in exported and "114.29" not in exported  # no point of a track


@pytest.mark.parametrize("username", ["department", "volunteer"])
def test_departments_and_volunteers_see_no_patrol(login, session, patrols, username):
    browser = login(username)
    for url in ("/patrolmodelview/list/", f"/patrolmodelview/show/{patrols['own']}", "/patrolmodelview/export/csv",
                "/patrolmodelview/compliance/", "/patrolmodelview/patrol/"):
        assert browser.get(url).status_code in (302, 403, 404), url


@pytest.mark.parametrize("username, track", [("worker", True), ("secretary", True), ("street", True),
                                             ("leader", True), ("admin", False)])
def test_the_track_is_drawn_for_the_worker_and_who_leads_the_area_only(login, session, patrols, username, track):
    page = login(username).get(f"/patrolmodelview/show/{patrols['own']}").get_data(as_text=True)
    assert ("gridgov-track" in page and "<polyline" in page) == track


def test_the_phone_page_starts_feeds_and_stops_a_patrol(login, session):
    browser = login("worker")
    page = browser.get("/patrolmodelview/patrol/").get_data(as_text=True)
    assert 'id="patrol-start"' in page and 'id="clock-in"' in page
    assert browser.post("/patrolmodelview/start", token_from="/patrolmodelview/patrol/").status_code == 302
    again = browser.post("/patrolmodelview/start", token_from="/patrolmodelview/patrol/", follow_redirects=True)
    assert "巡查正在进行" in again.get_data(as_text=True) or "under way" in again.get_data(as_text=True)
    patrol = session.scalar(select(Patrol).where(Patrol.worker_id == the_worker(session).id, Patrol.ended_at.is_(None)))
    assert session.scalar(select(func.count()).select_from(Patrol).where(Patrol.ended_at.is_(None))) == 1
    token = browser.token("/patrolmodelview/patrol/")
    start_ms = patrol.started_at.timestamp() * 1000
    points = [{"lat": 35.7461 + 0.0002 * i, "lon": 114.2951, "t": start_ms + 2000 * i, "acc": 8} for i in range(4)]
    url = f"/patrolmodelview/points/{patrol.id}"
    answer = browser.client.post(url, json={"points": points}, headers={"X-CSRFToken": token})
    assert answer.status_code == 200 and answer.get_json()["added"] == 4
    answer = browser.client.post(url, json={"points": points}, headers={"X-CSRFToken": token})
    assert answer.get_json()["added"] == 0 and answer.get_json()["points"] == 4
    # without the CSRF token: refused
    assert browser.client.post(url, json={"points": points}).status_code == 400
    # not a track: a message, nothing stored
    for body in ({"points": "nonsense"}, [1, 2], {"points": [{"lat": 200, "lon": 1, "t": start_ms}]}):
        answer = browser.client.post(url, json=body, headers={"X-CSRFToken": token})
        assert answer.status_code == 400 and answer.get_json()["error"]
    answer = browser.client.post(url, data="{not json", headers={"X-CSRFToken": token, "Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.get_json()["error"]
    assert browser.client.post("/patrolmodelview/points/abc", json={"points": []},
                               headers={"X-CSRFToken": token}).status_code == 404
    stopped = browser.post(f"/patrolmodelview/stop/{patrol.id}", {"points": "not json"},
                           token_from="/patrolmodelview/patrol/")
    assert stopped.status_code == 302 and f"/patrolmodelview/show/{patrol.id}" in stopped.headers["Location"]
    session.refresh(patrol)
    assert patrol.ended_at is not None and patrol.points == 4 and patrol.distance_m == 67  # 3 × 22.24 m


def test_nobody_else_feeds_or_stops_a_workers_patrol(login, session, patrols):
    open_one = patrol_of(session, another_worker(session, WORKER_BLOCK, besides=the_worker(session).id), days_ago=0)
    open_one.ended_at = None
    session.commit()
    worker = login("worker")
    token = worker.token("/patrolmodelview/patrol/")
    assert worker.client.post(f"/patrolmodelview/points/{open_one.id}", json={"points": []},
                              headers={"X-CSRFToken": token}).status_code == 404
    assert worker.post(f"/patrolmodelview/stop/{open_one.id}", token_from="/patrolmodelview/patrol/").status_code == 404
    secretary = login("secretary")  # who leads sees it, but does not walk it
    token = secretary.token("/patrolmodelview/list/")
    assert secretary.client.post(f"/patrolmodelview/points/{open_one.id}", json={"points": []},
                                 headers={"X-CSRFToken": token}).status_code in (302, 403)
    session.refresh(open_one)
    assert open_one.ended_at is None


def test_clocking_in_needs_a_place_and_happens_once_a_day(login, session):
    browser = login("worker")
    page = browser.post("/patrolmodelview/clock_in", {"latitude": "", "longitude": ""},
                        token_from="/patrolmodelview/patrol/", follow_redirects=True).get_data(as_text=True)
    assert "位置" in page or "location" in page
    assert session.scalar(select(func.count()).select_from(ClockIn)) == 0
    browser.post("/patrolmodelview/clock_in", {"latitude": "35.7461", "longitude": "114.2951", "accuracy": "9"},
                 token_from="/patrolmodelview/patrol/")
    page = browser.post("/patrolmodelview/clock_in", {"latitude": "35.7461", "longitude": "114.2951"},
                        token_from="/patrolmodelview/patrol/", follow_redirects=True).get_data(as_text=True)
    assert "已打卡" in page or "already clocked in" in page
    assert session.scalar(select(func.count()).select_from(ClockIn)) == 1


def test_a_login_that_is_no_worker_is_told_so_on_the_phone_page(login, session):
    session.execute(GridgovUser.__table__.update().where(GridgovUser.username == "worker").values(worker_id=None))
    session.commit()
    page = login("worker").get("/patrolmodelview/patrol/")
    assert page.status_code == 200 and 'id="patrol-start"' not in page.get_data(as_text=True)


def test_a_workers_days_are_theirs_and_their_leaders(login, session, patrols):
    me = the_worker(session)
    week = (local_today() - datetime.timedelta(days=1)).isoformat()
    for username, status in (("worker", 200), ("secretary", 200), ("street", 200), ("secretary2", 404),
                             ("admin", 200)):
        assert login(username).get(f"/patrolmodelview/days/{me.id}?week={week}").status_code == status, username
    neighbour = session.get(Patrol, patrols["neighbour"]).worker_id
    worker = login("worker")
    assert worker.get(f"/patrolmodelview/days/{neighbour}").status_code == 404
    assert worker.get("/patrolmodelview/days/abc").status_code == 404
    assert worker.get(f"/patrolmodelview/days/{me.id}?week=not-a-date").status_code == 200


def test_the_weeks_compliance_per_area_and_role(login, session, patrols):
    me = the_worker(session)
    secretary = login("secretary")
    page = secretary.get("/patrolmodelview/compliance/").get_data(as_text=True)
    assert me.name in page  # one patrol a day at most: short
    assert re.search(rf'href="/patrolmodelview/days/{me.id}\?week=\d{{4}}-\d{{2}}-\d{{2}}">{me.name}</a>', page)
    block = grid_id(session, WORKER_BLOCK)
    assert me.name in secretary.get(f"/patrolmodelview/compliance/?area={block}").get_data(as_text=True)
    assert secretary.get(f"/patrolmodelview/compliance/?area={grid_id(session, JINSHAN)}").status_code == 404
    assert secretary.get("/patrolmodelview/compliance/?area=abc&week=2026-13-45").status_code == 404
    assert secretary.get(f"/patrolmodelview/compliance/?area={block}&week=2026-13-45").status_code == 200
    assert me.name not in login("secretary2").get("/patrolmodelview/compliance/").get_data(as_text=True)
    assert login("worker").get("/patrolmodelview/compliance/").status_code in (302, 403)
    assert login("street").get("/patrolmodelview/compliance/").status_code == 200


def test_the_menu_and_home_page_lead_to_the_patrols(login, session):
    home = login("worker").get("/").get_data(as_text=True)
    assert "/patrolmodelview/patrol/" in home
    home = login("secretary").get("/").get_data(as_text=True)
    assert "/patrolmodelview/compliance/" in home and "/patrolmodelview/list/" in home


def test_the_district_keeps_its_patrol_rule(login, session):
    district = session.scalar(select(Grid).where(Grid.parent_id.is_(None)))
    dispatcher = login("dispatcher")
    bad = dispatcher.post("/patrolrulemodelview/add", {"district": str(district.id), "min_patrols": "0",
                                                       "min_minutes": "60", "min_metres": "1000", "max_speed": "12"})
    assert bad.status_code == 200
    not_district = dispatcher.post("/patrolrulemodelview/add", {
        "district": str(grid_id(session, XIANGJIANG)), "min_patrols": "2", "min_minutes": "60", "min_metres": "1000",
        "max_speed": "12"})
    assert not_district.status_code == 200
    assert session.scalar(select(func.count()).select_from(PatrolRule)) == 1
    good = dispatcher.post("/patrolrulemodelview/add", {"district": str(district.id), "min_patrols": "3",
                                                        "min_minutes": "45", "min_metres": "800", "max_speed": "10"})
    assert good.status_code == 302, good.get_data(as_text=True)[:2000]
    rule = session.scalar(select(PatrolRule).where(PatrolRule.district_id == district.id))
    assert (rule.min_patrols, rule.min_minutes, rule.min_metres, float(rule.max_speed)) == (3, 45, 800, 10.0)
    assert login("secretary").get("/patrolrulemodelview/list/").status_code in (302, 403)


def test_the_administrator_links_a_grid_workers_login_to_a_worker_of_its_grid(login, session):
    browser = login("admin")
    role = session.scalar(text("SELECT id FROM ab_role WHERE name = 'Grid worker'"))
    form = {"last_name": "巡", "first_name": "查员", "username": "xuncha", "email": "xuncha@x.cn", "active": "y",
            "roles": role, "grid": grid_id(session, WORKER_BLOCK), "password": "Strong@Pass12",
            "conf_password": "Strong@Pass12"}
    elsewhere = another_worker(session, JINSHAN + "-01")
    response = browser.post("/users/add", {**form, "worker": elsewhere.id})
    assert session.scalar(select(GridgovUser).where(GridgovUser.username == "xuncha")) is None
    page = response.get_data(as_text=True)
    if response.status_code == 302:
        page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "请选择该账号所属网格内的工作人员" in page
    neighbour = another_worker(session, WORKER_BLOCK, besides=the_worker(session).id)
    assert browser.post("/users/add", {**form, "worker": neighbour.id}).status_code == 302
    assert session.scalar(select(GridgovUser.worker_id).where(GridgovUser.username == "xuncha")) == neighbour.id
    assert "对应的工作人员" in browser.get("/users/add").get_data(as_text=True)


def test_the_compliance_page_sums_up_each_area_and_pages_the_short(login, session, monkeypatch):
    """The street officer's week: each community's patrolling workers and how many fell short
    (hand-counted: the demo worker met the rule every day, no one else patrolled), each linked to
    its own page; the short ones a page at a time, a page past the last going to the last."""
    from app.services import patrols as patrol_service

    me = the_worker(session)
    monday, _ = patrol_service.week_of(local_today() - datetime.timedelta(days=7))
    for offset in range(7):
        days_ago = (local_today() - (monday + datetime.timedelta(days=offset))).days
        patrol_of(session, me, days_ago=days_ago, minutes=65, metres=1100)
        patrol_of(session, me, days_ago=days_ago, minutes=65, metres=1100, track=False)
    street = session.get(Grid, session.scalar(select(GridgovUser.grid_id).where(GridgovUser.username == "street")))
    communities = session.scalars(select(Grid).where(Grid.parent_id == street.id).order_by(Grid.code)).all()
    def patrolling(area):
        return session.scalar(select(func.count()).select_from(Worker).join(Grid, Worker.grid_id == Grid.id)
                              .where(Grid.path.descendant_of(area.path), Worker.role.in_(patrol_service.PATROLLING_ROLES)))

    staff = {c.id: patrolling(c) for c in communities}
    everyone = patrolling(street)  # the communities' and the street's own
    my_path = str(session.get(Grid, me.grid_id).path)
    mine = next(c.id for c in communities if my_path.startswith(str(c.path) + "."))
    street_officer = login("street", lang="en")
    page = street_officer.get(f"/patrolmodelview/compliance/?week={monday.isoformat()}").get_data(as_text=True)
    summary = page[page.index("gridgov-compliance-areas"):page.index("</table>", page.index("gridgov-compliance-areas"))]
    for community in communities:
        if not staff[community.id]:
            continue
        short = staff[community.id] - (1 if community.id == mine else 0)
        assert re.search(rf'area={community.id}&amp;week={monday.isoformat()}">{community.name}</a></td>\s*'
                         rf'<td class="text-right">{staff[community.id]}</td>\s*<td class="text-right">{short}</td>',
                         summary), community.name
    total = everyone - 1
    assert f"Workers who fell short ({total} of {everyone})" in page
    assert me.name not in page  # he met the rule

    monkeypatch.setattr(patrol_service, "COMPLIANCE_PAGE", 2)
    pages = -(-total // 2)
    first = street_officer.get(f"/patrolmodelview/compliance/?week={monday.isoformat()}").get_data(as_text=True)
    assert len(re.findall(r"/patrolmodelview/days/", first)) == 2
    assert "page=1" in first and "page=-1" not in first
    shown = set()
    for number in range(pages):
        answer = street_officer.get(f"/patrolmodelview/compliance/?week={monday.isoformat()}&page={number}")
        shown |= set(re.findall(r"/patrolmodelview/days/(\d+)", answer.get_data(as_text=True)))
    assert len(shown) == total  # every short worker once, on one page or another
    past = street_officer.get(f"/patrolmodelview/compliance/?week={monday.isoformat()}&page=999")
    assert past.status_code == 302 and f"page={pages - 1}" in past.headers["Location"]
    assert street_officer.get(f"/patrolmodelview/compliance/?week={monday.isoformat()}&page=-3").status_code == 200
    assert street_officer.get(f"/patrolmodelview/compliance/?week={monday.isoformat()}&page=x").status_code == 200


def test_the_compliance_summary_counts_the_areas_own_staff_so_its_rows_add_up(login, session):
    """A street's workers of the street itself belong to none of its communities: their row is
    the street's own, and the rows' workers and shortfalls add up to the page's total."""
    from app.services import patrols as patrol_service

    monday, _ = patrol_service.week_of(local_today() - datetime.timedelta(days=7))
    street = session.get(Grid, session.scalar(select(GridgovUser.grid_id).where(GridgovUser.username == "street")))
    own = session.scalar(select(func.count()).select_from(Worker).where(
        Worker.grid_id == street.id, Worker.role.in_(patrol_service.PATROLLING_ROLES)))
    assert own > 0  # the demo's street has a worker of its own
    page = login("street", lang="en").get(f"/patrolmodelview/compliance/?week={monday.isoformat()}").get_data(as_text=True)
    summary = page[page.index("gridgov-compliance-areas"):page.index("</table>", page.index("gridgov-compliance-areas"))]
    assert re.search(rf'{street.name} \(its own staff\)</td>\s*<td class="text-right">{own}</td>', summary)
    figures = [(int(w), int(s)) for w, s in re.findall(r'<td class="text-right">(\d+)</td>\s*<td class="text-right">(\d+)</td>',
                                                     summary)]
    short, workers = map(int, re.search(r"Workers who fell short \((\d+) of (\d+)\)", page).groups())
    assert sum(w for w, _ in figures) == workers and sum(s for _, s in figures) == short
