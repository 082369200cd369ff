"""Searching large lists: a grid, worker or volunteer is typed, never picked from a drop-down of
every row in scope, and a typed grid brings its sub-grids; the scope still applies."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from app.models import Grid, Incident, Worker

from .helpers import JINSHAN, XIANGJIANG, record_count, search_fields_html


def _count(session, model, condition):
    return session.scalar(select(func.count()).select_from(model).where(condition))


def test_search_forms_hold_no_list_of_grids(login):
    for url in ("/incidentmodelview/list/", "/workermodelview/list/", "/gridmodelview/list/"):
        page = search_fields_html(login("dispatcher").get(url).get_data(as_text=True))
        options = re.findall(r"<option[^>]*>([^<]*)</option>", page)
        assert options and not [text for text in options if "湘江花园" in text], url


# Reference tables of tens of rows, which a search form may offer as a drop-down.
SMALL_TABLES = {"IncidentCategory", "Department", "PointsRule", "RewardItem", "Role", "Permission", "ViewMenu",
                "PermissionView", "Group"}


def test_no_search_form_offers_a_drop_down_of_a_large_table(app):
    """Every view's search form: a relation offered as a list of rows is a reference table
    (categories, departments, rules…), never grids, people, logins or incidents."""
    from flask_appbuilder.fields import QuerySelectField, QuerySelectMultipleField
    from wtforms.fields.core import UnboundField

    offered = set()
    for view in app.appbuilder.baseviews:
        form = getattr(view, "search_form", None)
        if form is None:
            continue
        for column in view.search_columns:
            field = getattr(form, column, None)
            if isinstance(field, UnboundField) and field.field_class in (QuerySelectField, QuerySelectMultipleField):
                model = view.datamodel.get_related_model(column).__name__
                offered.add(model)
                assert model in SMALL_TABLES, f"{type(view).__name__}.{column}: a drop-down of every {model}"
    assert {"IncidentCategory", "Department"} <= offered  # the check sees the fields it is about


def test_users_are_searched_by_a_typed_grid(login, session):
    from app.models import GridgovUser

    xiangjiang = session.scalar(select(Grid).where(Grid.code == XIANGJIANG))
    under = select(Grid.id).where(Grid.path.descendant_of(xiangjiang.path))
    expected = _count(session, GridgovUser, GridgovUser.grid_id.in_(under))
    admin = login("admin")
    page = admin.get("/users/list/?_flt_0_grid=湘江社区").get_data(as_text=True)
    assert expected and record_count(page) == expected
    assert "secretary" in page and "secretary2" not in page
    assert record_count(admin.get("/users/list/?_flt_0_grid=没有这个网格").get_data(as_text=True)) == 0
    assert admin.get("/users/list/?_flt_0_grid=%00%25_").status_code == 200


def test_roles_and_groups_are_searched_without_a_list_of_logins(login):
    admin = login("admin")
    for url in ("/roles/list/", "/groups/list/"):
        response = admin.get(url)
        assert response.status_code == 200, url
        fields = search_fields_html(response.get_data(as_text=True))
        assert 'name="name"' in fields and 'name="user' not in fields, url


def test_the_timeline_is_searched_by_action_not_by_a_list_of_incidents(login, session):
    from app.models import IncidentEvent

    expected = _count(session, IncidentEvent, IncidentEvent.action == "resolve")
    page = login("admin").get("/incidenteventmodelview/list/?_flt_0_action=resolve").get_data(as_text=True)
    assert expected and record_count(page) == expected
    fields = search_fields_html(page)
    assert '<option value="resolve">' in fields and 'name="incident"' not in fields
    # a time no column can hold: a message, not a failure
    assert login("admin").get("/incidenteventmodelview/list/?_flt_0_created_at=abc").status_code == 200


def test_a_typed_grid_name_or_code_selects_its_subtree(login, session):
    xiangjiang = session.scalar(select(Grid).where(Grid.code == XIANGJIANG))
    under = select(Grid.id).where(Grid.path.descendant_of(xiangjiang.path))
    expected = _count(session, Worker, Worker.grid_id.in_(under))
    dispatcher = login("dispatcher")
    assert record_count(dispatcher.get("/workermodelview/list/?_flt_0_grid=湘江社区").get_data(as_text=True)) == expected
    assert record_count(dispatcher.get(f"/workermodelview/list/?_flt_0_grid={XIANGJIANG}").get_data(as_text=True)) == expected
    incidents = _count(session, Incident, Incident.grid_id.in_(under))
    assert incidents and record_count(
        dispatcher.get("/incidentmodelview/list/?_flt_0_grid=湘江").get_data(as_text=True)) == incidents
    assert record_count(dispatcher.get("/workermodelview/list/?_flt_0_grid=%25").get_data(as_text=True)) == 0


def test_a_typed_grid_outside_the_scope_finds_nothing(login):
    secretary = login("secretary")  # 湘江社区
    assert record_count(secretary.get(f"/workermodelview/list/?_flt_0_grid={JINSHAN}").get_data(as_text=True)) == 0
    assert record_count(secretary.get("/workermodelview/list/?_flt_0_grid=金山社区").get_data(as_text=True)) == 0


def test_odd_typed_text_is_harmless(login):
    dispatcher = login("dispatcher")
    for url in ("/workermodelview/list/?_flt_0_grid=%00", "/incidentmodelview/list/?_flt_0_title=%00%E6%BC%8F",
                "/incidentmodelview/list/?_flt_0_grid=" + "长" * 500, "/volunteermodelview/list/?_flt_0_community=_"):
        assert dispatcher.get(url).status_code == 200, url


def test_odd_values_in_any_list_filter_never_break_a_list(app, login):
    """Every search column of every scoped list, given text no column holds (letters for a key,
    NUL, empty, out of range): the list answers, it does not fail."""
    from app.fab.model_view import ScopedModelView

    admin = login("admin")
    checked = 0
    for view in app.appbuilder.baseviews:
        if not isinstance(view, ScopedModelView) or "list" not in (view.include_route_methods or {"list"}):
            continue
        endpoint = f"/{view.route_base.strip('/')}/list/"
        for column in view.search_columns:
            for value in ("abc", "%00", "", "99999999999", "1%002"):
                response = admin.get(f"{endpoint}?_flt_0_{column}={value}")
                assert response.status_code == 200, (endpoint, column, value)
                checked += 1
    assert checked > 100


def test_a_value_that_does_not_fit_its_field_says_so(login):
    page = login("admin").get("/workermodelview/list/?_flt_0_party_member=abc").get_data(as_text=True)
    assert "搜索值与字段类型不符" in page


def test_search_fields_follow_the_language_and_new_categories(login, app):
    """The search fields are made once per view and language: closed lists speak the user's
    language, and a category added since shows at once."""
    from app.extensions import db
    from app.models import IncidentCategory

    def fields(browser):
        html = browser.get("/incidentmodelview/list/").get_data(as_text=True)
        script = html[html.index("new AdminFilters"):]
        script = script[:script.index("</script>")]
        return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), script)  # JSON escapes

    assert "已办结" in fields(login("street")) and "Closed" not in fields(login("street"))
    assert "Closed" in fields(login("street", lang="en"))
    with app.app_context():
        db.session.add(IncidentCategory(name="新设类别", active=True))
        db.session.commit()
        db.session.remove()
    try:
        assert "新设类别" in fields(login("street"))
    finally:
        with app.app_context():
            db.session.query(IncidentCategory).filter_by(name="新设类别").delete()
            db.session.commit()
            db.session.remove()
