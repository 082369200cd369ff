"""Error pages: each refusal is a page of the app (its menu bar when signed in) in the user's
language, with a sentence, a way back and a way home; under /api/ a JSON message with the same
status; a 500 shows nothing of the exception."""
from __future__ import annotations

import io

import pytest
from flask import abort

from tests.conftest import Browser, DEMO_PASSWORD, csrf_token

from .helpers import JINSHAN, worker_in

ZH = {400: "无法处理", 403: "无权", 404: "页面不存在", 405: "不能以这种方式", 413: "超过 4 MB", 429: "尝试次数过多",
      500: "出错了"}
EN = {400: "could not be understood", 403: "not allowed to open", 404: "does not exist", 405: "cannot be opened this way",
      413: "larger than 4 MB", 429: "too many attempts", 500: "could not finish"}


def assert_error_page(response, status, sentence, signed_in=True):
    assert response.status_code == status
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert sentence in html, html[-1500:]
    assert "data-gridgov-back" in html and 'href="/"' in html  # back, and home
    assert ('href="/logout/"' in html) is signed_in  # the app's menu bar
    assert "Werkzeug" not in html and "Traceback" not in html
    return html


def test_refusals_are_pages_of_the_app_in_chinese(login, session, app, monkeypatch):
    browser = login("secretary")
    # 400: a form sent without its token (flask_wtf's CSRFError)
    assert_error_page(browser.client.post("/workermodelview/add", data={"name": "x"}), 400, "表单已过期")
    # 403: a page the role may not open
    assert_error_page(browser.get("/emergencyresponsemodelview/declare"), 403, ZH[403])
    # 404: no such page, and a record outside the user's area
    assert_error_page(browser.get("/no/such/page"), 404, ZH[404])
    assert_error_page(browser.get(f"/workermodelview/show/{worker_in(session, JINSHAN).id}"), 404, ZH[404])
    # 405: a GET where only POST is answered
    response = browser.get("/emergencyresponsemodelview/end/1")
    assert_error_page(response, 405, ZH[405])
    assert "POST" in response.headers["Allow"]
    # 413: a body over MAX_CONTENT_LENGTH
    token = csrf_token(browser.get("/incidentmodelview/report").get_data(as_text=True))
    photo = (io.BytesIO(b"\xff" * (4 * 1024 * 1024 + 1)), "big.jpg")
    big = browser.client.post("/incidentmodelview/report", data={"csrf_token": token, "title": "x", "photo": photo},
                              content_type="multipart/form-data")
    assert_error_page(big, 413, ZH[413])
    # 400 of a view and 500: a failing view says nothing of what failed
    monkeypatch.setitem(app.view_functions, "HomeView.index", lambda: abort(400))
    assert_error_page(browser.get("/"), 400, ZH[400])
    monkeypatch.setitem(app.view_functions, "HomeView.index", lambda: 1 / 0)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    html = assert_error_page(browser.get("/"), 500, ZH[500])
    assert "ZeroDivisionError" not in html and "division" not in html


def test_too_many_sign_ins_is_said_on_the_login_page_and_429_is_a_page(client, app, monkeypatch):
    """The login limit (services/logins.py) answers on the login page itself, in Chinese; any other
    429 is a page of the app."""
    for _ in range(6):
        token = csrf_token(client.get("/login/").get_data(as_text=True))
        response = client.post("/login/", data={"username": "secretary", "password": "wrong", "csrf_token": token},
                               follow_redirects=True)
        assert response.status_code == 200
    assert "登录失败次数过多" in response.get_data(as_text=True)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setitem(app.view_functions, "HomeView.index", lambda: abort(429))
    assert_error_page(client.get("/"), 429, ZH[429], signed_in=False)


def test_error_pages_follow_the_language(login, app, monkeypatch):
    browser = login("secretary", lang="en")
    assert_error_page(browser.get("/no/such/page"), 404, EN[404])
    assert_error_page(browser.get("/emergencyresponsemodelview/declare"), 403, EN[403])
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    for status in (400, 405, 413, 429, 500):
        monkeypatch.setitem(app.view_functions, "HomeView.index", lambda status=status: abort(status))
        assert_error_page(browser.get("/"), status, EN[status])
    anonymous = Browser(app.test_client())
    anonymous.get("/lang/en")
    assert_error_page(anonymous.get("/no/such/page"), 404, EN[404], signed_in=False)


@pytest.mark.parametrize("status", [400, 403, 404, 405, 413, 429, 500])
def test_api_answers_json_with_the_same_status(login, app, monkeypatch, status):
    browser = login("secretary")
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    if status == 500:
        monkeypatch.setitem(app.view_functions, "GridApi.get_list", lambda **kw: 1 / 0)
    else:
        monkeypatch.setitem(app.view_functions, "GridApi.get_list", lambda **kw: abort(status))
    response = browser.get("/api/v1/grids/")
    assert response.status_code == status
    assert response.is_json and response.get_json()["message"]
    assert "ZeroDivisionError" not in response.get_data(as_text=True)


def test_api_errors_from_routing_are_json(login):
    browser = login("secretary")
    response = browser.get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and response.is_json and response.get_json()["message"]
    response = browser.client.delete("/api/v1/grids/")
    assert response.status_code in (400, 405) and response.is_json and response.get_json()["message"]


def test_an_error_page_that_cannot_be_drawn_is_still_a_sentence_and_a_way_home(login, monkeypatch):
    from app.views import errors

    def broken(*args, **kwargs):
        raise RuntimeError("the database is down")

    monkeypatch.setattr(errors, "render_template", broken)
    response = login("secretary").get("/no/such/page")
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and ZH[404] in html and 'href="/"' in html
    assert "database is down" not in html
