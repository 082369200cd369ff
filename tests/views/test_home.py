"""The work bench (工作台) per role over HTTP, the menu bar's to-do badge, urging and supervising
from the incident page, and declaring a response from the menu and the responses list."""
from __future__ import annotations

import re

from sqlalchemy import select, text, update

from app.models import Incident, IncidentCategory, IncidentEvent

from .helpers import grid_id
from .test_incidents import BLOCK, incident_titled


def report(session, login, title="楼道灯坏了"):
    browser = login("worker")
    category = session.scalar(select(IncidentCategory.id).where(IncidentCategory.name == "安全隐患"))
    response = browser.post("/incidentmodelview/report", {"category": category, "title": title,
                                                          "grid": grid_id(session, BLOCK + "-01"), "urgency": "normal"})
    assert response.status_code == 302
    return browser, incident_titled(session, title)


def badge(html: str) -> int:
    match = re.search(r'class="navbar-brand gridgov-todos"[^>]*>.*?(?:<span class="badge gridgov-badge">(\d+)</span>)?</a>',
                      html, re.S)
    assert match, "no to-do badge in the menu bar"
    return int(match.group(1) or 0)


def test_the_badge_is_counted_again_after_the_users_own_change_and_on_the_home_page(app, session, login):
    worker = login("worker")
    before = badge(worker.get("/incidentmodelview/list/").get_data(as_text=True))
    # his own report (a post): the next page counts again
    category = session.scalar(select(IncidentCategory.id).where(IncidentCategory.name == "安全隐患"))

    response = worker.post("/incidentmodelview/report", {"category": category, "title": "井盖松动", "urgency": "normal",
                                                         "grid": grid_id(session, BLOCK + "-01")})
    assert response.status_code == 302
    assert badge(worker.get("/incidentmodelview/list/").get_data(as_text=True)) == before + 1
    # a report from another session: kept for the interval on other pages, counted on the home page
    report(session, login, "窨井异味")
    assert badge(worker.get("/incidentmodelview/list/").get_data(as_text=True)) == before + 1
    assert badge(worker.get("/").get_data(as_text=True)) == before + 2
    assert badge(worker.get("/incidentmodelview/list/").get_data(as_text=True)) == before + 2
    # with no interval, every page counts
    app.config["GRIDGOV_TODO_BADGE_SECONDS"] = 0
    try:
        report(session, login, "垃圾满溢")
        assert badge(worker.get("/incidentmodelview/list/").get_data(as_text=True)) == before + 3
    finally:
        app.config["GRIDGOV_TODO_BADGE_SECONDS"] = 30


def test_the_worker_home_lists_his_new_incident_with_a_large_report_button(session, login):
    browser, incident = report(session, login)
    page = browser.get("/").get_data(as_text=True)
    assert "我的工作台" in page and "btn-lg btn-block" in page and "事件上报" in page
    assert f'href="/incidentmodelview/show/{incident.id}"' in page
    assert badge(page) >= 1
    # the badge is on every page, not only the home page
    assert badge(browser.get("/incidentmodelview/list/").get_data(as_text=True)) == badge(page)


def test_another_community_does_not_see_it(session, login):
    _, incident = report(session, login)
    page = login("secretary2").get("/").get_data(as_text=True)
    assert f'/incidentmodelview/show/{incident.id}"' not in page
    page = login("secretary").get("/").get_data(as_text=True)
    assert f'/incidentmodelview/show/{incident.id}"' in page


def test_the_secretary_sees_her_sections_and_figures(login):
    page = login("secretary").get("/").get_data(as_text=True)
    assert "待我处理的事件" in page
    assert "一览" in page  # her area at a glance
    assert "下达应急响应" not in page  # only dispatchers declare


def test_an_overdue_incident_is_red_for_the_holder_and_the_street_urges_it(session, login):
    worker, incident = report(session, login, "消防通道被占")
    session.execute(update(Incident).where(Incident.id == incident.id).values(
        deadline_from=text("now() - interval '80 hours'"), deadline=text("now() - interval '1 hour'")))
    session.commit()
    page = worker.get("/").get_data(as_text=True)
    assert re.search(rf'gridgov-todo-urgent">\s*<a href="/incidentmodelview/show/{incident.id}"', page)
    street = login("street")
    assert f'/incidentmodelview/show/{incident.id}"' in street.get("/").get_data(as_text=True)  # overdue below
    show = street.get(f"/incidentmodelview/show/{incident.id}").get_data(as_text=True)
    assert "催办" in show and "督办" in show
    # the holder does not see the oversight forms
    assert "/incidentmodelview/oversee/" not in worker.get(f"/incidentmodelview/show/{incident.id}").get_data(as_text=True)
    token_from = f"/incidentmodelview/show/{incident.id}"
    response = street.post(f"/incidentmodelview/oversee/{incident.id}", {"action": "urge", "note": ""}, token_from=token_from)
    assert response.status_code == 302
    session.refresh(incident)
    assert incident.urged_at is None  # a note is required
    response = street.post(f"/incidentmodelview/oversee/{incident.id}", {"action": "urge", "note": "请今天处理完"},
                           token_from=token_from)
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Incident, incident.id).urged_at is not None
    home = worker.get("/").get_data(as_text=True)
    assert "被催办" in home
    event = session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident.id)
                            .order_by(IncidentEvent.id.desc())).first()
    assert (event.action, event.note) == ("urge", "请今天处理完")
    # the worker cannot urge (no permission, and he holds it)
    response = worker.post(f"/incidentmodelview/oversee/{incident.id}", {"action": "supervise", "note": "x"},
                           token_from=token_from)
    assert response.status_code in (302, 403)
    session.expire_all()
    assert session.get(Incident, incident.id).supervised_at is None


def test_another_street_cannot_oversee(session, login):
    _, incident = report(session, login, "路灯不亮")
    from .helpers import JINSHAN  # noqa: F401

    secretary2 = login("secretary2")
    response = secretary2.post(f"/incidentmodelview/oversee/{incident.id}", {"action": "supervise", "note": "督办"},
                               token_from="/")
    assert response.status_code in (302, 404)
    session.expire_all()
    assert session.get(Incident, incident.id).supervised_at is None


def test_the_dispatcher_declares_from_the_home_page_the_menu_and_the_list(login):
    dispatcher = login("dispatcher")
    home = dispatcher.get("/").get_data(as_text=True)
    assert 'href="/emergencyresponsemodelview/declare"' in home
    listing = dispatcher.get("/emergencyresponsemodelview/list/").get_data(as_text=True)
    assert listing.count('href="/emergencyresponsemodelview/declare"') >= 2  # the menu and the button
    street = login("street").get("/emergencyresponsemodelview/list/").get_data(as_text=True)
    assert 'href="/emergencyresponsemodelview/declare"' not in street


def test_every_role_home_answers(login):
    for username in ("admin", "dispatcher", "street", "secretary", "worker", "department"):
        response = login(username).get("/")
        assert response.status_code == 200, username
        assert "我的工作台" in response.get_data(as_text=True)
    assert login("volunteer").get("/").headers["Location"].endswith("/points/me/")
    assert login("leader").get("/").headers["Location"].endswith("/dashboard/")


def test_english_home(login):
    page = login("secretary", lang="en").get("/").get_data(as_text=True)
    assert "My work bench" in page and "Report an incident" in page


def test_a_department_officer_home_lists_the_whistles_to_report_in(session, login):
    from ..services.test_whistles import blow, street_incident

    whistle = blow(session, street_incident(session))
    response = login("department").get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'href="/whistlemodelview/show/{whistle.id}"' in page and "待报到" in page


def test_see_all_lists_every_item_of_a_section_a_page_at_a_time(session, login, monkeypatch):
    from app.services import todos
    from app.views import home

    titles = [f"井盖松动{number}" for number in range(4)]
    for title in titles:
        worker, _ = report(session, login, title)
    monkeypatch.setattr(todos, "SHOWN", 2)  # the work bench shows two of each section
    monkeypatch.setattr(home, "SECTION_PAGE", 3)
    home_page = worker.get("/").get_data(as_text=True)
    held = re.search(r'id="todo-held".*?</section>', home_page, re.S).group(0)
    assert held.count('class="list-group-item gridgov-todo') == 2
    count = int(re.search(r'<span class="badge">(\d+)</span>', held).group(1))
    assert count >= len(titles)
    assert 'href="/todos/held/"' in held  # "see all" opens the whole section, not a bare list
    pages = [worker.get(f"/todos/held/?page={page}").get_data(as_text=True) for page in range(-(-count // 3))]
    links = [link for page in pages for link in re.findall(r'gridgov-todo[^"]*">\s*<a href="([^"]+)"', page)]
    assert len(links) == count == len(set(links))  # every item once over the pages
    assert all(any(title in page for page in pages) for title in titles)
    assert worker.get(f"/todos/held/?page={len(pages) + 5}").status_code == 302  # past the last page: back to it
    assert worker.get("/todos/held/?page=-1").status_code == 200
    assert worker.get("/todos/redemptions/").status_code == 404  # a section the worker has not
    assert worker.get("/todos/nonsense/").status_code == 404
    # another community's secretary does not see them there either
    other = login("secretary2").get("/todos/held/").get_data(as_text=True)
    assert not any(title in other for title in titles)
