"""Redirect targets taken from a request (a form's ``next``, the login's ``next=``) stay on this
app: another site, a "//host" or "/\\host" path, a javascript: URL or a path with a control
character falls back to the page's own target; a path of the app is kept."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import EmergencyResponse, Grid, ResponseTask
from tests.conftest import Browser, DEMO_PASSWORD

from .helpers import grid_id

ELSEWHERE = ["https://evil.example/", "//evil.example", "/\\evil.example", "\\\\evil.example",
             "javascript:alert(1)", "/\t/evil.example", "https:/evil.example"]


def location(response) -> str:
    assert response.status_code == 302
    return response.headers["Location"]


def test_check_in_goes_back_only_to_a_page_of_the_app(login, session):
    dispatcher = login("dispatcher")
    dispatcher.post("/emergencyresponsemodelview/declare", {
        "level": "III", "area": grid_id(session, "410611001"), "title": "防汛三级响应", "directive": "排查"})
    declared = session.scalar(select(EmergencyResponse.id).order_by(EmergencyResponse.id.desc()))
    task = session.scalar(select(ResponseTask.id).join(Grid).where(ResponseTask.response_id == declared,
                                                                   Grid.code == "410611001001-01"))
    worker = login("worker")
    token = worker.token("/emergencyresponsemodelview/tasks/")
    url = f"/emergencyresponsemodelview/check_in/{task}"
    for target in ELSEWHERE:
        answer = location(worker.client.post(url, data={"note": "x", "next": target, "csrf_token": token}))
        assert answer == "/emergencyresponsemodelview/tasks/", target
    kept = "/emergencyresponsemodelview/show/%d?tab=1" % declared
    assert location(worker.client.post(url, data={"next": kept, "csrf_token": token})) == kept


@pytest.mark.parametrize("target", ELSEWHERE)
def test_login_next_leads_only_to_a_page_of_the_app(app, target):
    browser = Browser(app.test_client())
    token = browser.token("/login/")
    answer = location(browser.client.post("/login/", query_string={"next": target},
                                          data={"username": "secretary", "password": DEMO_PASSWORD,
                                                "csrf_token": token}))
    assert answer == "/", target
    # signed in already: the login page sends the user on, to the same safe place
    assert location(browser.get("/login/", query_string={"next": target})) == "/"


def test_login_next_keeps_a_path_of_the_app(app):
    browser = Browser(app.test_client())
    token = browser.token("/login/")
    answer = location(browser.client.post("/login/", query_string={"next": "/workermodelview/list/?_flt_0_name=x"},
                                          data={"username": "secretary", "password": DEMO_PASSWORD,
                                                "csrf_token": token}))
    assert answer == "/workermodelview/list/?_flt_0_name=x"


def test_signing_in_from_a_page_leads_back_to_it(app):
    browser = Browser(app.test_client())
    to_login = location(browser.get("/workermodelview/list/?_flt_0_name=x"))
    assert to_login.startswith("/login/?next=")
    answer = location(browser.client.post(to_login, data={"username": "secretary", "password": DEMO_PASSWORD,
                                                          "csrf_token": browser.token("/login/")}))
    assert answer == "/workermodelview/list/?_flt_0_name=x"
