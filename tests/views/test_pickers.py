"""Add and edit forms pick grids, workers, volunteers and logins by typing (app/fab/pickers.py):
the page carries only the chosen row, the picker offers the scope's rows the text names, and a
submitted key outside the scope is refused."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from app.models import Department, Grid, GridgovUser, Worker

from .helpers import JINSHAN, XIANGJIANG, grid_id, volunteer_in, worker_in
from .test_search import SMALL_TABLES


def _select(html: str, name: str) -> str:
    match = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert match, f"no <select name={name}>"
    return match.group(0)


def _options(html: str, name: str) -> list[str]:
    return re.findall(r'<option value="([^"]*)"', _select(html, name))


def _picked(browser, url: str) -> tuple[list[int], list[str], bool]:
    response = browser.get(url)
    assert response.status_code == 200, (url, response.status_code)
    body = response.get_json()
    return ([row["id"] for row in body["results"]], [row["text"] for row in body["results"]],
            body["pagination"]["more"])


def _subtree(session, code: str) -> set[int]:
    top = session.scalar(select(Grid).where(Grid.code == code))
    return set(session.scalars(select(Grid.id).where(Grid.path.descendant_of(top.path))))


def test_no_form_offers_a_drop_down_of_a_large_table(app):
    """Every add and edit form that a route serves: a relation to grids, people or logins is a
    typed picker served by its view; a drop-down of rows is a reference table."""
    from flask_appbuilder.fields import QuerySelectField, QuerySelectMultipleField
    from wtforms.fields.core import UnboundField

    from app.fab.pickers import PickField, PickMultipleField

    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    picked = set()
    for view in app.appbuilder.baseviews:
        for kind in ("add", "edit"):
            form = getattr(view, f"{kind}_form", None)
            if form is None or f"{view.endpoint}.{kind}" not in endpoints:
                continue
            for column in view.datamodel.get_columns_list():
                field = getattr(form, column, None)
                if not isinstance(field, UnboundField):
                    continue
                model = view.datamodel.get_related_model(column).__name__ if view.datamodel.is_relation(column) else None
                if field.field_class in (PickField, PickMultipleField):
                    picked.add(model)
                    assert f"{view.endpoint}.pick" in endpoints, f"{view.endpoint}: no picker route"
                elif field.field_class in (QuerySelectField, QuerySelectMultipleField):
                    assert model in SMALL_TABLES, f"{view.endpoint}.{kind}.{column}: a drop-down of every {model}"
    assert {"Grid", "Worker", "Volunteer", "User"} <= picked  # the check sees the fields it is about


def test_forms_carry_the_chosen_row_only(login, session):
    admin = login("admin")
    for url, column in [("/users/add", "grid"), ("/users/add", "volunteer"), ("/gridmodelview/add", "parent"),
                        ("/workermodelview/add", "grid"), ("/volunteermodelview/add", "community"),
                        ("/servicerecordmodelview/add", "volunteer"), ("/rewarditemmodelview/add", "community"),
                        ("/departmentmodelview/add", "communities"), ("/groups/add", "users")]:
        html = admin.get(url).get_data(as_text=True)
        assert _options(html, column) in ([], [""]), (url, column)
        assert 'class="form-control gridgov-pick"' in _select(html, column)
        assert "data-placeholder=\"输入名称查找\"" in _select(html, column)
    worker = worker_in(session, XIANGJIANG)
    grid = session.get(Grid, worker.grid_id)
    html = admin.get(f"/workermodelview/edit/{worker.id}").get_data(as_text=True)
    assert _options(html, "grid") == [str(grid.id)]
    assert f"{grid.name}（{grid.code}）" in _select(html, "grid")


def test_the_picker_offers_the_scope_rows_the_text_names(login, session):
    secretary = login("secretary")
    own = _subtree(session, XIANGJIANG)
    keys, labels, more = _picked(secretary, "/workermodelview/pick/grid?q=")
    assert set(keys) == own and not more
    keys, labels, _ = _picked(secretary, "/workermodelview/pick/grid?q=" + XIANGJIANG + "-01")  # a code's start
    assert keys and set(keys) <= own and all(XIANGJIANG + "-01" in label for label in labels)
    assert _picked(secretary, "/workermodelview/pick/grid?q=金山")[0] == []
    assert _picked(login("admin"), "/workermodelview/pick/grid?q=金山")[0]
    # the typed text is taken literally: a wildcard matches nothing, NUL is dropped
    assert _picked(secretary, "/workermodelview/pick/grid?q=%25")[0] == []
    assert _picked(secretary, "/workermodelview/pick/grid?q=%00")[0] == sorted(own, key=lambda k: session.get(Grid, k).code)

    # a community field offers communities only
    keys, _, _ = _picked(login("admin"), "/volunteermodelview/pick/community?q=")
    assert keys and {session.get(Grid, key).level for key in keys} == {"community"}

    # people by name, labelled with their grid
    volunteer = volunteer_in(session, XIANGJIANG)
    keys, labels, _ = _picked(secretary, f"/servicerecordmodelview/pick/volunteer?q={volunteer.name}")
    assert volunteer.id in keys and labels[keys.index(volunteer.id)] == f"{volunteer.name}（湘江社区）"
    other = volunteer_in(session, JINSHAN)
    assert other.id not in _picked(secretary, f"/servicerecordmodelview/pick/volunteer?q={other.name}")[0]


def test_the_picker_pages_through_the_rows(login, session):
    admin = login("admin")
    total = session.scalar(select(func.count()).select_from(Grid))
    seen = []
    for page in range(1, 10):
        keys, _, more = _picked(admin, f"/gridmodelview/pick/parent?q=&page={page}")
        seen += keys
        if not more:
            break
    assert page == -(-total // 20) and len(seen) == len(set(seen)) == total
    assert _picked(admin, "/gridmodelview/pick/parent?page=abc")[0] == seen[:20]  # a bad page: the first


def test_the_picker_answers_only_who_may_fill_the_form(login, client):
    assert login("volunteer").get("/workermodelview/pick/grid?q=").status_code == 403
    assert login("leader").get("/workermodelview/pick/grid?q=").status_code == 403  # reads, cannot write
    assert client.get("/workermodelview/pick/grid?q=").status_code == 403
    assert login("admin").get("/workermodelview/pick/name?q=").status_code == 404
    assert login("secretary").get("/users/pick/grid?q=").status_code == 403


def test_a_key_outside_the_scope_or_unknown_is_refused(login, session):
    secretary = login("secretary")
    before = session.scalar(select(func.count()).select_from(Worker))
    form = {"name": "外人", "role": "grid_worker", "phone": "13912345678", "employment": "full_time",
            "start_date": "2024-01-01", "training_hours": "10"}
    for key in (grid_id(session, JINSHAN + "-01"), "999999", "abc", "99999999999999999999"):
        response = secretary.post("/workermodelview/add", {**form, "grid": key})
        assert response.status_code == 200 and "选项无效" in response.get_data(as_text=True), key
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Worker)) == before
    response = secretary.post("/workermodelview/add", {**form, "grid": grid_id(session, XIANGJIANG + "-01")})
    assert response.status_code == 302
    assert session.scalar(select(func.count()).select_from(Worker)) == before + 1


def test_a_multiple_pick_saves_its_rows_and_refuses_an_unknown_one(login, session):
    admin = login("admin")
    form = {"name": "淇滨区水务局", "kind": "functional", "contact_name": "王工", "contact_phone": "13812345678"}
    xiangjiang, jinshan = grid_id(session, XIANGJIANG), grid_id(session, JINSHAN)
    response = admin.post("/departmentmodelview/add", {**form, "communities": [str(xiangjiang), "999999"]})
    assert response.status_code == 200 and "选项无效" in response.get_data(as_text=True)
    assert session.scalar(select(Department).where(Department.name == form["name"])) is None
    response = admin.post("/departmentmodelview/add", {**form, "communities": [str(xiangjiang), str(jinshan)]})
    assert response.status_code == 302
    saved = session.scalar(select(Department).where(Department.name == form["name"]))
    assert {grid.id for grid in saved.communities} == {xiangjiang, jinshan}
    html = admin.get(f"/departmentmodelview/edit/{saved.id}").get_data(as_text=True)
    assert sorted(_options(html, "communities")) == sorted([str(xiangjiang), str(jinshan)])


def test_a_login_is_picked_for_a_group(login, session):
    admin = login("admin")
    secretary = session.scalar(select(GridgovUser).where(GridgovUser.username == "secretary"))
    keys, labels, _ = _picked(admin, "/groups/pick/users?q=secret")
    assert secretary.id in keys and labels[keys.index(secretary.id)].startswith("secretary（")
    response = admin.post("/groups/add", {"name": "湘江专班", "label": "湘江专班", "users": [str(secretary.id)]})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    from flask_appbuilder.security.sqla.models import Group

    group = session.scalar(select(Group).where(Group.name == "湘江专班"))
    assert [user.id for user in group.users] == [secretary.id]



def test_the_report_form_types_the_grid_of_a_large_scope(login, session, monkeypatch):
    from app.models import Incident, IncidentCategory
    from app.views import incidents

    street = login("street")
    assert _options(street.get("/incidentmodelview/report").get_data(as_text=True), "grid")  # 22 grids: listed
    monkeypatch.setattr(incidents, "REPORT_LIST_MOST", 5)
    html = street.get("/incidentmodelview/report").get_data(as_text=True)
    own = str(grid_id(session, "410611001"))
    assert _options(html, "grid") == ["", own] and "gridgov-pick" in _select(html, "grid")  # her own street first
    keys, _, _ = _picked(street, "/incidentmodelview/pick/grid?q=湘江")
    assert keys and set(keys) <= _subtree(session, "410611001")  # the street's
    assert login("leader").get("/incidentmodelview/pick/grid?q=").status_code == 403  # does not report

    category = session.scalar(select(IncidentCategory.id).where(IncidentCategory.name == "安全隐患"))
    before = session.scalar(select(func.count()).select_from(Incident))
    form = {"category": category, "title": "井盖缺失", "grid": grid_id(session, JINSHAN)}
    html = street.post("/incidentmodelview/report", form).get_data(as_text=True)
    assert "只能上报您管辖范围内的事件" in html and _options(html, "grid") == [""]  # 金山 not offered back
    html = street.post("/incidentmodelview/report", {**form, "grid": grid_id(session, XIANGJIANG), "title": ""}).get_data(as_text=True)
    assert _options(html, "grid") == ["", str(grid_id(session, XIANGJIANG))]  # the chosen grid stays chosen
    assert session.scalar(select(func.count()).select_from(Incident)) == before
    response = street.post("/incidentmodelview/report", {**form, "grid": grid_id(session, XIANGJIANG)})
    assert response.status_code == 302
