"""Tables written as files (app/downloads.py) and a list's values as cells (app/fab/export.py),
without a database: typed cells, local times, no formula, a name for every client."""
from __future__ import annotations

import datetime
import decimal
import io

from markupsafe import Markup
from openpyxl import load_workbook

from app.downloads import Percent, Table, content_disposition, csv_chunks, csv_text, write_xlsx
from app.fab.export import export_cell
from app.fab.rendering import blank_if_none, label_of, yes_no

UTC = datetime.timezone.utc
MOMENT = datetime.datetime(2026, 12, 3, 16, 30, 45, tzinfo=UTC)  # 2026-12-04 00:30 in Shanghai


def workbook(rows, headers=("a", "b", "c", "d", "e", "f")):
    out = io.BytesIO()
    write_xlsx(Table("事件", "incident", list(headers), iter(rows)), out)
    out.seek(0)
    return load_workbook(out).worksheets[0]


def test_xlsx_cells_keep_their_types_and_times_are_local():
    sheet = workbook([[7, 2.5, decimal.Decimal("16.0"), MOMENT, datetime.date(2026, 1, 2), Percent(0.25)]])
    header, row = list(sheet.iter_rows())
    assert [cell.value for cell in header] == list("abcdef") and header[0].font.b
    assert row[0].value == 7 and row[0].data_type == "n"
    assert row[1].value == 2.5 and float(row[2].value) == 16.0
    assert row[3].value == datetime.datetime(2026, 12, 4, 0, 30) and row[3].number_format == "yyyy-mm-dd hh:mm"
    assert row[4].value == datetime.datetime(2026, 1, 2) and row[4].is_date
    assert row[5].value == 0.25 and row[5].number_format == "0.0%"


def test_a_formula_is_written_as_text_and_bad_characters_are_dropped():
    sheet = workbook([["=1+2", "+86 139", "-x", "@SUM(A1)", "ok\x00\x0bbell\x07", "普通"]])
    cells = list(sheet.iter_rows())[1]
    assert [cell.value for cell in cells] == ["=1+2", "+86 139", "-x", "@SUM(A1)", "okbell", "普通"]
    assert all(cell.data_type == "s" for cell in cells)
    assert all(cell.quotePrefix for cell in cells[:4]) and not cells[5].quotePrefix


def test_csv_has_a_bom_local_times_and_no_formula():
    table = Table("x", "x", ["编号", "时间"], iter([[1, MOMENT], ["=cmd|' /C calc'!A0", None], [Percent(0.9958), 2.5]]))
    data = b"".join(csv_chunks(table))
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").splitlines() == [
        "编号,时间", "1,2026-12-04 00:30", "'=cmd|' /C calc'!A0,", "99.6%,2.5"]
    assert csv_text("-1") == "'-1" and csv_text(-1) == "-1" and csv_text(decimal.Decimal("2.50")) == "2.50"


def test_the_file_name_is_utf8_with_an_ascii_fallback():
    header = content_disposition("事件/统计", "incident figures", "xlsx")
    assert header.startswith('attachment; filename="incidentfigures_20')
    assert "filename*=UTF-8''%E4%BA%8B%E4%BB%B6_%E7%BB%9F%E8%AE%A1_20" in header and header.endswith(".xlsx")


def test_a_list_value_becomes_a_cell_without_html():
    status = label_of({"open": "待处理"})
    assert export_cell("open", status) == "待处理"
    assert export_cell(None, status) is None and export_cell("", blank_if_none) is None
    assert export_cell(True) == yes_no(True) and export_cell(False, status) == yes_no(False)  # 是/否 in a request
    assert export_cell(MOMENT, lambda v: "printed") is MOMENT and export_cell(3, str) == 3
    assert export_cell(None, lambda v: Markup('<span class="label">逾期</span>')) == "逾期"
    assert export_cell(["a", "b"]) == "a、b"


def test_an_xlsx_keeps_its_header_in_view_with_filters_and_readable_columns():
    sheet = workbook([[1, "张伟", "410602199001011234"]] * 3, headers=("编号", "姓名", "身份证号"))
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:C4"
    widths = {column.min: (column.max, column.width) for column in sheet.column_dimensions.values() if column.customWidth}
    assert widths[1][0] == 3 and widths[1][1] >= 18  # every column, an 18-digit ID number included
