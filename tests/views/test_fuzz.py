"""A request fuzzer (hypothesis): the arguments every list reads, every add and edit form, the
custom POST endpoints and the API, fed text, huge strings, NUL, emoji, NaN, 1e400, 20-digit
numbers and impossible dates, signed in as the administrator and as scoped roles. Never a 5xx
(the test client raises what would be one), and a post that was not a success wrote nothing.

Each test's examples are bounded and derandomized: the same requests on every run."""
from __future__ import annotations

import re
from decimal import Decimal

import prison
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, text
from wtforms import DateField, DateTimeField, DecimalField, FloatField, IntegerField
from wtforms.fields.core import UnboundField

from app.extensions import appbuilder, db
from app.models import (Department, EmergencyResponse, Incident, PointsAccount, ResponseTask, Whistle,
                        WhistleSummons)
from app.fab.model_view import ScopedModelView


def fuzz(examples: int):
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])


NASTY = ["", " ", "x", "\x00", "a\x00b", "🙂", "𠀀", "NaN", "nan", "Infinity", "-Infinity", "1e400", "-1e400",
         "-1", "0", "1", "1.5", "0.05", "2147483648", "99999999999999999999", "-99999999999999999999",
         "9999-12-31", "0000-00-00", "2026-02-30", "2026-13-01", "9999-12-31T23:59", "2026-01-01T25:61",
         "' OR 1=1 --", "%", "_", "\\", "<script>", "\r\nX: y", "asc", "desc", "true", "y", "None", "[]", "{}"]
VALUE = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=40),
    st.integers(min_value=-10**21, max_value=10**21).map(str),
    st.sampled_from([300, 5_000, 100_000]).map(lambda n: "长" * n),
)
DIRECTION = st.sampled_from(["asc", "desc"])


def scoped_views():
    return sorted((view for view in appbuilder.baseviews if isinstance(view, ScopedModelView)),
                  key=lambda view: type(view).__name__)


def routed(view, method: str) -> bool:
    return view.include_route_methods is None or method in view.include_route_methods


def fingerprint(session) -> tuple:
    """What the app's tables hold (logins and sessions aside): a refused post leaves it as it was."""
    names = [table.name for table in db.metadata.sorted_tables if not table.name.startswith("ab_")]
    session.rollback()
    columns = ", ".join(f"(SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM {name} t)"
                        for name in names)
    return tuple(session.execute(text(f"SELECT {columns}")).one())


def succeeded(browser) -> bool:
    """Whether the last request flashed a success (a redirect keeps it in the session); the
    flashes are taken out either way."""
    with browser.client.session_transaction() as stored:
        flashes = stored.pop("_flashes", [])
    return any(category == "success" for category, _ in flashes)


def token(browser) -> str:
    return browser.token("/resetmypassword/form")


def post_checked(browser, session, url, form, **kwargs):
    """POST ``form``: never a 5xx; unless it flashed a success, nothing in the tables changed."""
    before = fingerprint(session)
    succeeded(browser)
    response = browser.client.post(url, data=form, **kwargs)
    assert response.status_code < 500, (url, form, response.status_code)
    if not succeeded(browser):
        assert fingerprint(session) == before, ("a refused post wrote", url, form)
    return response


# --- lists -------------------------------------------------------------------------------
def list_arguments(view):
    name = type(view).__name__
    columns = list(view.datamodel.get_columns_list()) + list(view.masked_columns) + ["x", "id"]
    filters = [f"_flt_{n}_{column}" for column in view.search_columns for n in (0, 1, 2, 9)]
    return st.lists(st.one_of(
        st.tuples(st.just(f"_oc_{name}"), st.one_of(st.sampled_from(columns), VALUE)),
        st.tuples(st.just(f"_od_{name}"), st.one_of(DIRECTION, VALUE)),
        st.tuples(st.sampled_from([f"page_{name}", f"psize_{name}"]), VALUE),
        st.tuples(st.sampled_from(filters or ["_flt_0_x"]), VALUE),
        st.tuples(st.one_of(st.sampled_from(["_flt_0_", "_flt_x_name", "page_", "psize_", "_oc_", "q", "next"]),
                            st.text(max_size=10)), VALUE),
    ), max_size=6)


def first_shown(browser, view) -> str | None:
    match = re.search(rf"{re.escape(view.route_base)}/show/(\d+)", browser.get(f"{view.route_base}/list/").get_data(as_text=True))
    return match.group(1) if match else None


# A long query string overflows the session cookie (FAB keeps the page history there): noted
# apart, not what this fuzzer looks for.
pytestmark = pytest.mark.filterwarnings("ignore:The 'session' cookie is too large")


@pytest.mark.parametrize("username", ["admin", "secretary", "leader"])
def test_list_arguments_never_fail(login, username):
    browser = login(username)
    views = scoped_views()
    shown = {type(view).__name__: first_shown(browser, view) for view in views if view.related_views}

    @fuzz(30)
    @given(st.data())
    def check(data):
        view = data.draw(st.sampled_from(views))
        arguments = data.draw(list_arguments(view))
        # an export reads the list's arguments as its page does
        urls = [f"{view.route_base}/list/", f"{view.route_base}/export/csv", f"{view.route_base}/export/xlsx"]
        pk = shown.get(type(view).__name__)
        if pk:  # a record page with related lists reads the same arguments
            urls += [f"{view.route_base}/show/{pk}", f"{view.route_base}/edit/{pk}"]
        url = data.draw(st.sampled_from(urls))
        response = browser.client.get(url, query_string=arguments)
        assert response.status_code < 500, (url, arguments)
        response.get_data()  # a streamed file's rows are read as it is sent

    check()


# --- add and edit forms --------------------------------------------------------------------
def form_values(view, item, columns) -> dict:
    """The form an editor would post for ``item`` unchanged."""
    form = {}
    for column in columns:
        value = getattr(item, column, None)
        if view.datamodel.is_relation(column):
            related = value if not isinstance(value, list) else (value[0] if value else None)
            form[column] = "" if related is None else str(sa_inspect(related).identity[0])
        elif isinstance(value, bool):
            if value:
                form[column] = "y"
        elif hasattr(value, "isoformat"):
            form[column] = value.isoformat()
        elif isinstance(value, Decimal):
            form[column] = format(value, "f")
        else:
            form[column] = "" if value is None else str(value)
    return form


def form_fields(columns, extra) -> list:
    return list(dict.fromkeys([*columns, *(extra or {})]))


@pytest.mark.parametrize("username", ["admin", "secretary"])
def test_forms_never_fail_and_refusals_write_nothing(login, session, username):
    browser = login(username)
    csrf = token(browser)
    editable = []
    for view in scoped_views():
        if not (routed(view, "add") or routed(view, "edit")) or not view.add_columns:
            continue
        pk = first_shown(browser, view)
        if pk is not None:
            editable.append((view, pk))

    @fuzz(30)
    @given(st.data())
    def check(data):
        view, pk = data.draw(st.sampled_from(editable))
        action = data.draw(st.sampled_from(["add", "edit"]))
        columns = view.add_columns if action == "add" else view.edit_columns
        fields = form_fields(columns, view.add_form_extra_fields if action == "add" else view.edit_form_extra_fields)
        form = form_values(view, session.get(view.datamodel.obj, int(pk)), columns)
        session.rollback()
        for field in data.draw(st.lists(st.sampled_from(fields), min_size=1, max_size=3, unique=True)):
            form[field] = data.draw(VALUE)
        url = f"{view.route_base}/add" if action == "add" else f"{view.route_base}/edit/{pk}"
        post_checked(browser, session, url, {**form, "csrf_token": csrf})

    check()


# Every typed field of every add form gets each of these (random mutations seldom meet NaN in
# the one numeric field of one form among a dozen).
TYPED = {
    "number": ["NaN", "sNaN", "Infinity", "-Infinity", "1e400", "-1", "99999999999999999999", "0.05", "1_0"],
    "date": ["9999-12-31", "0000-00-00", "2026-02-30", "0001-01-01", "2026-01-01T25:61"],
}


def typed_fields(form) -> dict:
    """{field name: "number" or "date"} of a form class."""
    kinds = {}
    for name in dir(form):
        unbound = getattr(form, name, None)
        if isinstance(unbound, UnboundField):
            if issubclass(unbound.field_class, (IntegerField, DecimalField, FloatField)):
                kinds[name] = "number"
            elif issubclass(unbound.field_class, (DateField, DateTimeField)):
                kinds[name] = "date"
    return kinds


def test_every_typed_field_takes_every_nasty_value(login, session):
    browser = login("admin")
    csrf = token(browser)
    for view in scoped_views():
        if not routed(view, "add") or not view.add_columns:
            continue
        pk = first_shown(browser, view)
        if pk is None:
            continue
        baseline = form_values(view, session.get(view.datamodel.obj, int(pk)), view.add_columns)
        session.rollback()
        for field, kind in typed_fields(view.add_form).items():
            for value in TYPED[kind]:
                post_checked(browser, session, f"{view.route_base}/add", {**baseline, field: value, "csrf_token": csrf})


# --- the custom POST endpoints ---------------------------------------------------------------
def some_ids(session, model) -> list[str]:
    ids = session.scalars(select(model.id).order_by(model.id).limit(3)).all()
    return [str(pk) for pk in ids]


KEY = st.one_of(st.sampled_from(["0", "-1", "2147483648", "99999999999999999999", "x"]), VALUE)


def endpoints(session) -> list:
    """(URL pattern, the ids to put in it, the form's fields and their likely values)."""
    incidents = some_ids(session, Incident)
    departments = some_ids(session, Department)
    summonses = some_ids(session, WhistleSummons)
    words = lambda *values: st.one_of(st.sampled_from(values), VALUE)  # noqa: E731
    return [
        ("/incidentmodelview/act/{}", incidents, {
            "action": words("accept", "reject", "handle", "assign", "dispatch", "start", "escalate", "return",
                            "resolve", "rate"),
            "note": VALUE, "worker": VALUE, "department": words(*departments), "rating": words("1", "3", "5")}),
        ("/incidentmodelview/report", [], {
            "grid": KEY, "category": KEY, "title": VALUE, "source": VALUE, "urgency": words("normal", "urgent"),
            "description": VALUE, "address": VALUE, "latitude": VALUE, "longitude": VALUE, "reporter_name": VALUE,
            "reporter_phone": words("13800138000"), "photo": st.just("")}),
        ("/whistlemodelview/blow", [], {
            "incidents": words(*incidents), "reason": VALUE, "level": words("street", "district"),
            "departments": words(*departments), "deadline": words("2030-01-01T09:30")}),
        ("/whistlemodelview/report_in/{}", summonses, {"whistle": VALUE}),
        ("/whistlemodelview/result/{}", summonses, {"result": VALUE, "whistle": VALUE}),
        ("/whistlemodelview/close/{}", some_ids(session, Whistle),
         {f"rating-{pk}": words("1", "5") for pk in departments} | {"rating-x": VALUE}),
        ("/points/redeem/{}", some_ids(session, PointsAccount), {
            "qty-1": VALUE, "qty-2": words("1"), "qty-x": VALUE, "step": words("confirm", "quote"),
            "request_key": VALUE}),
        ("/points/adjust/{}", some_ids(session, PointsAccount), {"amount": VALUE, "reason": VALUE}),
        ("/emergencyresponsemodelview/check_in/{}", some_ids(session, ResponseTask), {"note": VALUE, "next": VALUE}),
        ("/emergencyresponsemodelview/declare", [], {
            "area": KEY, "level": words("I", "II", "III", "IV"), "title": VALUE, "directive": VALUE}),
        ("/emergencyresponsemodelview/end/{}", some_ids(session, EmergencyResponse), {}),
        ("/workermodelview/import/", [], {"step": words("upload", "confirm", "cancel"), "token": VALUE, "file": VALUE}),
        ("/gridmodelview/import/", [], {"step": words("upload", "confirm", "cancel"), "token": VALUE}),
    ]


@pytest.mark.parametrize("username", ["admin", "street", "department", "worker"])
def test_custom_posts_never_fail_and_refusals_write_nothing(login, session, username):
    browser = login(username)
    csrf = token(browser)
    targets = endpoints(session)

    @fuzz(25)
    @given(st.data())
    def check(data):
        pattern, ids, fields = data.draw(st.sampled_from(targets))
        url = pattern.format(data.draw(st.one_of(st.sampled_from(ids), KEY) if ids else KEY))
        form = {"csrf_token": csrf}
        for name in data.draw(st.lists(st.sampled_from(sorted(fields)), max_size=len(fields), unique=True)) \
                if fields else []:
            form[name] = data.draw(fields[name])
        post_checked(browser, session, url, form)

    check()


# --- the API -----------------------------------------------------------------------------
RISON_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-10**21, max_value=10**21),
              st.sampled_from(NASTY), st.text(max_size=10)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6)
FILTER = st.fixed_dictionaries({
    "col": st.one_of(st.sampled_from(["code", "name", "level", "parent_id", "id", "x"]), RISON_VALUE),
    "opr": st.one_of(st.sampled_from(["eq", "neq", "sw", "ew", "ct", "nct", "gt", "lt", "rel_o_m", "x"]), RISON_VALUE),
    "value": RISON_VALUE})
RISON = st.fixed_dictionaries({}, optional={
    "page": st.one_of(st.integers(min_value=-10**21, max_value=10**21), RISON_VALUE),
    "page_size": st.one_of(st.integers(min_value=-10**21, max_value=10**21), RISON_VALUE),
    "order_column": st.one_of(st.sampled_from(["code", "name", "level", "id", "x"]), RISON_VALUE),
    "order_direction": st.one_of(DIRECTION, RISON_VALUE),
    "filters": st.one_of(st.lists(FILTER, max_size=2), RISON_VALUE),
    "columns": st.one_of(st.lists(st.sampled_from(["id", "code", "name", "x", "parent.name"]), max_size=3), RISON_VALUE),
    "keys": st.one_of(st.lists(st.sampled_from(["list_columns", "order_columns", "x"]), max_size=2), RISON_VALUE),
    "select_columns": st.lists(st.sampled_from(["id", "x"]), max_size=2),
})


@pytest.mark.parametrize("username", ["admin", "secretary"])
def test_the_api_never_fails(login, username):
    browser = login(username)

    @fuzz(30)
    @given(st.sampled_from(["/api/v1/grids/", "/api/v1/grids/_info", "/api/v1/grids/1"]),
           st.one_of(RISON.map(prison.dumps), st.text(max_size=30), st.sampled_from(NASTY)))
    def check(url, query):
        response = browser.client.get(url, query_string={"q": query})
        assert response.status_code < 500, (url, query, response.get_data(as_text=True)[:200])

    check()
