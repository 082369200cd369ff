"""Every list and the figures page out to .xlsx and .csv, per role over HTTP: exactly the rows the
list shows (scope, search, order), headers in the user's language, masked columns masked for who
sees them masked, typed cells, no formula, the cap refused before anything is written, the
permission its own."""
from __future__ import annotations

import csv
import datetime
import io
import re
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from app.models import Worker
from app.views.incidents import IncidentModelView
from app.views.people import WorkerModelView

from .helpers import FULL_MOBILE_RE, XIANGJIANG, record_count, worker_in

def xlsx_rows(response) -> list[list]:
    assert response.status_code == 200, response.headers.get("Location")
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def xlsx_cells(response) -> list:
    sheet = load_workbook(io.BytesIO(response.get_data())).worksheets[0]
    return list(sheet.iter_rows())


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.headers.get("Location")
    assert response.mimetype == "text/csv"
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def page_ids(html: str) -> list[int]:
    """The incident numbers of a list page's rows, in order."""
    return [int(n) for n in re.findall(r'<td data-label="(?:编号|No\.)">(\d+)</td>', html)]


def page_names(html: str) -> list[str]:
    return re.findall(r'<td data-label="(?:姓名|Name)">([^<]*)</td>', html)


def labels(app, view, language: str) -> list[str]:
    """A view's list column labels in ``language``."""
    from flask_babel import force_locale

    with app.test_request_context(), force_locale(language):
        return [str(view.label_columns[column]) for column in view.export_columns or view.list_columns]


def test_a_secretarys_worker_export_holds_her_list_in_clear_with_chinese_headers(login, app):
    secretary = login("secretary")
    html = secretary.get("/workermodelview/list/?psize_WorkerModelView=100").get_data(as_text=True)
    assert "导出 Excel" in html and "导出 CSV" in html
    rows = xlsx_rows(secretary.get("/workermodelview/export/xlsx"))
    assert rows[0][0] == "姓名" and rows[0][3] == "手机号" and rows[0] == labels(app, WorkerModelView, "zh")
    assert len(rows) - 1 == record_count(html) > 0
    assert sorted(row[0] for row in rows[1:]) == sorted(page_names(html))
    phones = [row[3] for row in rows[1:] if row[3]]
    assert phones and all(FULL_MOBILE_RE.fullmatch(phone) for phone in phones)  # she manages them: in clear
    # the whole record, so that it imports back (tests/views/test_imports.py): the ID number too
    assert rows[0][4] == "身份证号" and rows[0][7] == "入职日期"
    assert all(row[6] in ("是", "否") for row in rows[1:])
    assert all(isinstance(row[7], datetime.datetime) for row in rows[1:])  # a date cell
    assert all(isinstance(row[8], (int, float)) for row in rows[1:] if row[8] is not None)


def test_a_grid_worker_gets_the_phones_masked_as_his_list_shows_them(login):
    rows = xlsx_rows(login("worker").get("/workermodelview/export/xlsx"))
    phones = [row[3] for row in rows[1:] if row[3]]
    assert phones and not any(FULL_MOBILE_RE.search(phone) for phone in phones)
    assert all("*" in phone for phone in phones)
    text = "\n".join(",".join(row) for row in csv_rows(login("worker").get("/workermodelview/export/csv")))
    assert not FULL_MOBILE_RE.search(text)


def test_the_personal_data_hook_hears_of_columns_in_clear_only(login, monkeypatch):
    from app.fab.model_view import ScopedModelView

    heard = []
    monkeypatch.setattr(ScopedModelView, "log_personal_data",
                        lambda self, ids, columns, place: heard.append((list(ids), list(columns), place)))
    rows = xlsx_rows(login("secretary").get("/workermodelview/export/xlsx"))
    assert heard and len({i for ids, _, _ in heard for i in ids}) == len(rows) - 1
    assert all(columns == ["phone", "id_number"] and "/workermodelview/export/xlsx" in place
               for _, columns, place in heard)
    heard.clear()
    xlsx_rows(login("worker").get("/workermodelview/export/xlsx"))
    assert heard == []


def test_incident_export_keeps_the_search_and_order_and_types_its_cells(login):
    street = login("street")
    query = "_flt_1_status=closed&_oc_IncidentModelView=deadline&_od_IncidentModelView=asc"  # not closed
    html = street.get(f"/incidentmodelview/list/?{query}&psize_IncidentModelView=100").get_data(as_text=True)
    listed = page_ids(html)
    assert listed and record_count(html) == len(listed)
    assert "/incidentmodelview/export/xlsx?" in html
    rows = xlsx_rows(street.get(f"/incidentmodelview/export/xlsx?{query}"))
    assert rows[0][:2] == ["编号", "标题"] and rows[0] == labels(street.client.application, IncidentModelView, "zh")
    assert [row[0] for row in rows[1:]] == listed
    assert all(isinstance(row[0], int) for row in rows[1:])
    deadlines = [row[7] for row in rows[1:]]
    assert all(isinstance(moment, datetime.datetime) for moment in deadlines)
    assert deadlines == sorted(deadlines)
    assert "已办结" not in {row[4] for row in rows[1:]} and all(row[4] for row in rows[1:])
    csv_body = csv_rows(street.get(f"/incidentmodelview/export/csv?{query}"))
    assert [int(row[0]) for row in csv_body[1:]] == listed
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", csv_body[1][7])


def test_the_times_are_the_local_times_the_list_prints(login):
    admin = login("admin")
    html = admin.get("/incidentmodelview/list/").get_data(as_text=True)
    first = page_ids(html)[0]
    shown = re.search(rf'<td data-label="编号">{first}</td>.*?<td data-label="处置时限">([^<]+)</td>', html, re.S).group(1)
    rows = xlsx_rows(admin.get("/incidentmodelview/export/xlsx"))
    assert rows[1][0] == first and rows[1][7].strftime("%Y-%m-%d %H:%M") == shown


def test_english_headers_and_file_name(login, app):
    response = login("street", lang="en").get("/incidentmodelview/export/csv")
    rows = csv_rows(response)
    assert rows[0][:2] == ["No.", "Title"] and rows[0] == labels(app, IncidentModelView, "en")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="incident_') and "filename*=UTF-8''Incidents_" in disposition
    zh = login("street").get("/incidentmodelview/export/xlsx").headers["Content-Disposition"]
    name = unquote(zh.split("filename*=UTF-8''")[1])
    assert re.fullmatch(r"事件_\d{4}-\d\d-\d\d\.xlsx", name)


def test_a_formula_typed_into_a_name_stays_text(login, session):
    worker = worker_in(session, XIANGJIANG)
    session.execute(update(Worker).where(Worker.id == worker.id).values(name='=HYPERLINK("http://x","y")'))
    session.commit()
    secretary = login("secretary")
    cells = xlsx_cells(secretary.get("/workermodelview/export/xlsx"))
    (cell,) = [row[0] for row in cells[1:] if str(row[0].value).startswith("=")]
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://x","y")'
    rows = csv_rows(secretary.get("/workermodelview/export/csv"))
    assert ["'=HYPERLINK(\"http://x\",\"y\")"] == [row[0] for row in rows if "HYPERLINK" in row[0]]


def test_an_export_past_the_cap_is_refused_with_a_message_and_no_file(login, monkeypatch):
    import app.fab.export as export

    secretary = login("secretary")
    listed = record_count(secretary.get("/incidentmodelview/list/?_flt_1_status=closed").get_data(as_text=True))
    assert listed > 1
    monkeypatch.setattr(export, "EXPORT_CAP", listed)  # at the cap: exported
    assert len(xlsx_rows(secretary.get("/incidentmodelview/export/xlsx?_flt_1_status=closed"))) == listed + 1
    monkeypatch.setattr(export, "EXPORT_CAP", listed - 1)  # one past it: refused
    response = secretary.get("/incidentmodelview/export/xlsx?_flt_1_status=closed")
    assert response.status_code == 302 and "Content-Disposition" not in response.headers
    assert response.headers["Location"].startswith("/incidentmodelview/list/?_flt_1_status=closed")
    page = secretary.get(response.headers["Location"]).get_data(as_text=True)
    assert f"至多 {listed - 1} 行" in page and "缩小" in page
    assert "Content-Disposition" not in secretary.get("/incidentmodelview/export/csv").headers


def test_no_export_without_the_permission(login, app):
    volunteer = login("volunteer")
    response = volunteer.get("/workermodelview/export/xlsx")
    assert response.status_code in (302, 403) and "Content-Disposition" not in response.headers
    from app.extensions import appbuilder, db

    with app.app_context():
        sm = appbuilder.sm
        role = sm.find_role("Community secretary")
        sm.del_permission_role(role, sm.find_permission_view_menu("can_export", "WorkerModelView"))
        db.session.commit()
    secretary = login("secretary")
    html = secretary.get("/workermodelview/list/").get_data(as_text=True)
    assert record_count(html) > 0 and "导出 Excel" not in html
    response = secretary.get("/workermodelview/export/csv")
    assert response.status_code in (302, 403) and "Content-Disposition" not in response.headers
    assert csv_rows(secretary.get("/incidentmodelview/export/csv"))[0][0] == "编号"  # her other lists still export


@pytest.mark.parametrize("query", [
    "_oc_IncidentModelView=reporter_phone&_od_IncidentModelView=asc",
    "_oc_IncidentModelView=nope&_od_IncidentModelView=sideways",
    "_flt_9_status=x&_flt_0_nothing=1&_flt_0_grid=%00",
    "_flt_0_deadline=not-a-date&_flt_1_id=abc",
    "_flt_0_status=" + "x" * 5000,
])
def test_a_tampered_argument_is_never_a_server_error(login, query):
    secretary = login("secretary")
    for fmt in ("xlsx", "csv"):
        response = secretary.get(f"/incidentmodelview/export/{fmt}?{query}")
        assert response.status_code in (200, 302), (fmt, query, response.status_code)
        response.get_data()
    assert secretary.get("/incidentmodelview/export/pdf").status_code == 404


def test_the_figures_export_holds_the_figures_table_typed(login):
    dispatcher = login("dispatcher")
    html = dispatcher.get("/incidentmodelview/figures/?by=street").get_data(as_text=True)
    assert "/incidentmodelview/figures/export/xlsx?by=street" in html
    rows = xlsx_rows(dispatcher.get("/incidentmodelview/figures/export/xlsx?by=street"))
    assert rows[0] == ["街道", "受理数", rows[0][2], "办结率", rows[0][4], rows[0][5], rows[0][6]]
    assert len(rows) == 1 + html.count("<tr><td>")
    for label, received, resolved, rate, on_time, rating, whistles in rows[1:]:
        assert isinstance(label, str) and isinstance(received, int) and isinstance(resolved, int)
        assert rate is None or isinstance(rate, float) and 0 <= rate <= 1
        assert isinstance(whistles, int)
    cells = xlsx_cells(dispatcher.get("/incidentmodelview/figures/export/xlsx?by=street"))
    assert cells[1][3].number_format == "0.0%"
    text = csv_rows(dispatcher.get("/incidentmodelview/figures/export/csv?by=month&since=2020-01-01"))
    assert text[0][0] == "月份" or text[0][0]
    assert all(re.fullmatch(r"\d+(\.\d)?%|", row[3]) for row in text[1:])


def test_the_figures_export_needs_the_figures(login):
    response = login("volunteer").get("/incidentmodelview/figures/export/csv")
    assert response.status_code in (302, 403) and "Content-Disposition" not in response.headers


def test_the_administrator_exports_the_users_and_a_secretary_cannot(login):
    admin = login("admin")
    html = admin.get("/users/list/?psize_GridgovUserDBModelView=100").get_data(as_text=True)
    assert "导出 Excel" in html
    rows = xlsx_rows(admin.get("/users/export/xlsx"))
    assert len(rows) - 1 == record_count(html)
    assert "admin" in [row[2] for row in rows] and all(row[4] in ("是", "否") for row in rows[1:])
    response = login("secretary").get("/users/export/xlsx")
    assert "Content-Disposition" not in response.headers


def test_the_download_cookie_tells_the_page_the_file_is_coming(login):
    worker = login("worker")
    response = worker.get("/incidentmodelview/export/csv?download=abc123")
    csv_rows(response)
    assert "gridgov_download=abc123" in response.headers.get("Set-Cookie", "")
    response = worker.get("/incidentmodelview/export/xlsx?download=%3Cscript%3E")
    xlsx_rows(response)
    assert "gridgov_download" not in response.headers.get("Set-Cookie", "")


def test_every_list_exports_its_rows_for_the_administrator(login, app):
    from app.extensions import appbuilder
    from app.fab.model_view import ScopedModelView

    admin = login("admin")
    views = [view for view in appbuilder.baseviews if isinstance(view, ScopedModelView)]
    assert len(views) >= 15
    for view in views:
        name = type(view).__name__
        html = admin.get(f"{view.route_base}/list/?psize_{name}=100").get_data(as_text=True)
        assert f"{view.route_base}/export/xlsx" in html, name
        rows = xlsx_rows(admin.get(f"{view.route_base}/export/xlsx"))
        assert len(rows) - 1 == record_count(html), name
        assert not any("<" in str(cell) and ">" in str(cell) for row in rows for cell in row), name  # no HTML
        assert len(csv_rows(admin.get(f"{view.route_base}/export/csv"))) == len(rows), name


@pytest.mark.parametrize("kept", [1, 20_000])
def test_columns_read_as_tuples_make_the_same_file_as_whole_rows(login, app, monkeypatch, kept):
    """An export of plain columns and many-to-one relations reads tuples and each related row once
    (kept: how many related cells are kept; 1 drops them at every new one); whole rows, read
    when the shortcut is off, make the same file for every list."""
    from app.extensions import appbuilder
    from app.fab import export
    from app.fab.model_view import ScopedModelView

    monkeypatch.setattr(export, "RELATED_KEPT", kept)
    monkeypatch.setattr(export, "CHUNK_ROWS", 7)  # several chunks even in the test data
    admin = login("admin")
    shortcut = 0
    for view in [view for view in appbuilder.baseviews if isinstance(view, ScopedModelView)]:
        columns = list(view.export_columns or view.list_columns)
        reads = export.column_reads(view.datamodel.obj, columns)
        shortcut += reads is not None
        url = f"{view.route_base}/export/csv"
        by_tuples = admin.get(url).data
        with monkeypatch.context() as off:
            off.setattr(export, "column_reads", lambda *args: None)
            by_rows = admin.get(url).data
        assert by_tuples == by_rows, type(view).__name__
    assert shortcut >= 10  # the shortcut is the common case
