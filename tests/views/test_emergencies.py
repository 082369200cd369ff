"""平急结合 over HTTP: a dispatcher declares, a grid worker checks in from a phone, progress shows."""
from __future__ import annotations

from sqlalchemy import func, select

from app.models import EmergencyResponse, Grid, ResponseTask

from .helpers import grid_id


def test_declare_check_in_and_progress(login, session):
    dispatcher = login("dispatcher")
    response = dispatcher.post("/emergencyresponsemodelview/declare", {
        "level": "III", "area": grid_id(session, "410611001"), "title": "防汛三级响应",
        "directive": "立即排查地下车库和低洼地带"})
    assert response.status_code == 302
    declared = session.scalar(select(EmergencyResponse).order_by(EmergencyResponse.id.desc()))
    street = session.scalar(select(Grid).where(Grid.code == "410611001"))
    expected = session.scalar(select(func.count()).select_from(Grid).where(Grid.path.descendant_of(street.path)))
    assert session.scalar(select(func.count()).select_from(ResponseTask).where(ResponseTask.response_id == declared.id)) == expected

    worker = login("worker")
    tasks_page = worker.get("/emergencyresponsemodelview/tasks/").get_data(as_text=True)
    assert "立即排查地下车库和低洼地带" in tasks_page
    mine = session.scalar(select(ResponseTask.id).join(Grid).where(ResponseTask.response_id == declared.id,
                                                                   Grid.code == "410611001001-01"))
    assert worker.post(f"/emergencyresponsemodelview/check_in/{mine}", {"note": "已排查"},
                       token_from="/emergencyresponsemodelview/tasks/").status_code == 302
    page = dispatcher.get(f"/emergencyresponsemodelview/show/{declared.id}").get_data(as_text=True)
    assert f"1 / {expected}" in page
    assert "湘江社区" in page and "尚未报告的网格" in page
    other = session.scalar(select(ResponseTask.id).join(Grid).where(ResponseTask.response_id == declared.id,
                                                                    Grid.code == "410611001002"))
    assert worker.post(f"/emergencyresponsemodelview/check_in/{other}", {"note": "x"},
                       token_from="/emergencyresponsemodelview/tasks/").status_code == 404


def test_only_dispatchers_declare(login, session):
    before = session.scalar(select(func.count()).select_from(EmergencyResponse))
    assert login("street").get("/emergencyresponsemodelview/declare").status_code == 403
    html = login("dispatcher").post("/emergencyresponsemodelview/declare", {
        "level": "IV", "area": grid_id(session, "410611001"), "title": "x", "directive": "y"}).get_data(as_text=True)
    assert "请选择响应级别" in html
    assert session.scalar(select(func.count()).select_from(EmergencyResponse)) == before


def test_check_in_goes_back_only_to_a_page_of_this_site(login, session):
    login("dispatcher").post("/emergencyresponsemodelview/declare", {
        "level": "III", "area": grid_id(session, "410611001"), "title": "防汛", "directive": "排查"})
    declared = session.scalar(select(EmergencyResponse).order_by(EmergencyResponse.id.desc()))
    mine = session.scalar(select(ResponseTask.id).join(Grid).where(ResponseTask.response_id == declared.id,
                                                                   Grid.code == "410611001001-01"))
    worker = login("worker")
    url = f"/emergencyresponsemodelview/check_in/{mine}"
    for given, back in (("/emergencyresponsemodelview/tasks/?x=1", "/emergencyresponsemodelview/tasks/?x=1"),
                        ("/tasks\r\nSet-Cookie: x=y", "/emergencyresponsemodelview/tasks/"),  # was a 500
                        ("https://evil.example/", "/emergencyresponsemodelview/tasks/"),
                        ("//evil.example/", "/emergencyresponsemodelview/tasks/"),
                        ("/\\evil.example/", "/emergencyresponsemodelview/tasks/")):
        response = worker.post(url, {"note": "已排查", "next": given}, token_from="/emergencyresponsemodelview/tasks/")
        assert response.status_code == 302, given
        assert response.headers["Location"] == back, given
