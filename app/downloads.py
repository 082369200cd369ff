"""Tables sent as files: .xlsx written by XlsxWriter's constant-memory mode into a temporary
file (then sent), .csv streamed in UTF-8 with a BOM (Excel in China opens it in
the right encoding). A cell keeps its type — a time a local date and time, a number a number —
and a text never runs as a formula (CSV/Excel formula injection)."""
from __future__ import annotations

import csv
import datetime
import decimal
import io
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from flask import Response, current_app, request, send_file, stream_with_context
import xlsxwriter

from .services.local_time import TIMEZONE

FORMATS = ("xlsx", "csv")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A text starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_FIRST = frozenset(FORMULA_STARTS)  # the same, looked up by a cell's first character
# The cookie a download answer sets, which app/static/gridgov/export.js waits for.
DOWNLOAD_COOKIE = "gridgov_download"
_TOKEN = re.compile(r"[A-Za-z0-9]{1,32}")
_NOT_IN_NAMES = re.compile(r'[\\/:*?"<>|\[\]\x00-\x1f]')
CSV_ROWS_PER_CHUNK = 500
DATE_TIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
XLSX_MAX_TEXT = 32767
COLUMN_WIDTH = 20  # characters: an ID number, a date-time, a grid's name


class Percent(float):
    """A share (0.25) shown as a percentage: 25.0% in a spreadsheet's cell and in CSV."""


@dataclass
class Table:
    """What a file holds: its name (``title``, the sheet's too, and ``ascii_name`` for clients
    that cannot read a UTF-8 file name), the header row, and the rows of values (read once:
    None, str, int, float, Decimal, Percent, date or datetime)."""

    title: str
    ascii_name: str
    headers: Sequence[str]
    rows: Iterable[Sequence]


def local(moment: datetime.datetime) -> datetime.datetime:
    """A stored time as the lists show it: in Asia/Shanghai, without a zone (spreadsheets have none)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(TIMEZONE).replace(tzinfo=None)
    return moment.replace(second=0, microsecond=0)


def is_formula(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


# --- .xlsx ---------------------------------------------------------------------------------
# Characters an .xlsx cannot hold (XML 1.0's control characters): dropped.
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010\013\014\016-\037]")


def write_xlsx(table: Table, out) -> None:
    """The table as an .xlsx workbook of one sheet into the binary file ``out``, by XlsxWriter in
    constant-memory mode: each row goes to a temporary file as it is written, so memory does not
    grow with the rows; it writes a district's cells about twice as fast as openpyxl's write-only
    mode (bench/RESULTS.md). A text is always written as a text, never as a formula, a number or
    a link, and one a spreadsheet would take for a formula is marked with a quote prefix."""
    workbook = xlsxwriter.Workbook(out, {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
        "strings_to_urls": False, "tmpdir": tempfile.gettempdir()})
    try:
        sheet = workbook.add_worksheet(_NOT_IN_NAMES.sub("_", table.title)[:31] or "Sheet1")
        bold = workbook.add_format({"bold": True})
        quoted = workbook.add_format({"quote_prefix": True})
        moment = workbook.add_format({"num_format": DATE_TIME_FORMAT})
        day = workbook.add_format({"num_format": DATE_FORMAT})
        share = workbook.add_format({"num_format": "0.0%"})
        # as a 台账 is kept: the header frozen above the rows, columns wide enough for a name or
        # an 18-digit ID number (set before any row: constant-memory mode writes rows at once)
        sheet.set_column(0, max(len(table.headers) - 1, 0), COLUMN_WIDTH)
        sheet.freeze_panes(1, 0)
        for column, text in enumerate(table.headers):
            sheet.write_string(0, column, ILLEGAL_CHARACTERS_RE.sub("", str(text)), bold)
        last_row = 0
        write_string, write_number, write_datetime = sheet.write_string, sheet.write_number, sheet.write_datetime
        for row, values in enumerate(table.rows, start=1):
            last_row = row
            for column, value in enumerate(values):
                if value is None:
                    continue
                if type(value) is str:
                    text = value if value.isprintable() else ILLEGAL_CHARACTERS_RE.sub("", value)
                    if len(text) > XLSX_MAX_TEXT:
                        text = text[:XLSX_MAX_TEXT]
                    if text[:1] in FORMULA_FIRST:
                        write_string(row, column, text, quoted)
                    else:
                        write_string(row, column, text)
                elif isinstance(value, bool):
                    sheet.write_boolean(row, column, value)
                elif isinstance(value, Percent):
                    write_number(row, column, float(value), share)
                elif isinstance(value, (int, float, decimal.Decimal)):
                    write_number(row, column, value)
                elif isinstance(value, datetime.datetime):
                    write_datetime(row, column, local(value), moment)
                elif isinstance(value, datetime.date):
                    write_datetime(row, column, value, day)
                else:
                    write_string(row, column, ILLEGAL_CHARACTERS_RE.sub("", str(value))[:XLSX_MAX_TEXT])
        if table.headers:
            sheet.autofilter(0, 0, last_row, len(table.headers) - 1)  # each column's filter in Excel
    finally:
        workbook.close()


# --- .csv ----------------------------------------------------------------------------------

def csv_text(value) -> str:
    """A value as a CSV cell: times as the lists print them, a text that Excel would run as a
    formula behind an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if is_formula(value) else value
    if isinstance(value, datetime.datetime):
        return local(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Percent):
        return f"{value * 100:.1f}%"
    if isinstance(value, float):
        return repr(round(value, 6))
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    return str(value)


def csv_chunks(table: Table):
    """The table as UTF-8 CSV with a BOM, in pieces of ``CSV_ROWS_PER_CHUNK`` rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([str(text) for text in table.headers])
    waiting = 0
    for values in table.rows:
        writer.writerow([csv_text(value) for value in values])
        waiting += 1
        if waiting == CSV_ROWS_PER_CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            waiting = 0
    yield buffer.getvalue().encode("utf-8")


# --- the answer ------------------------------------------------------------------------------

def file_name(title: str, extension: str) -> str:
    """``事件_2026-12-03.xlsx``: the title and today's local date."""
    today = datetime.datetime.now(TIMEZONE).date().isoformat()
    return f"{_NOT_IN_NAMES.sub('_', title).strip() or 'export'}_{today}.{extension}"


def content_disposition(title: str, ascii_name: str, extension: str) -> str:
    """An attachment named in UTF-8 (RFC 5987 ``filename*``) with an ASCII name for old clients."""
    fallback = file_name(re.sub(r"[^A-Za-z0-9_-]", "", ascii_name) or "export", extension)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name(title, extension), safe='')}"


def _mark_started(response: Response) -> Response:
    """The cookie the page's export button waits for to stop showing that the file is being made."""
    token = request.args.get("download", "")
    if _TOKEN.fullmatch(token):
        response.set_cookie(DOWNLOAD_COOKIE, token, max_age=120, path="/", samesite="Lax", httponly=False,
                            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    response.headers["Cache-Control"] = "no-store"
    return response


def send(table: Table, extension: str) -> Response:
    """The answer carrying ``table`` as a file: .xlsx made whole in a temporary file first (a
    workbook is a zip), .csv streamed as its rows are read."""
    if extension == "xlsx":
        out = tempfile.TemporaryFile(suffix=".xlsx")  # gone when the answer closes it
        try:
            write_xlsx(table, out)
            out.seek(0)
        except BaseException:
            out.close()
            raise
        response = send_file(out, mimetype=XLSX_TYPE, as_attachment=True, download_name="export.xlsx",
                             etag=False, conditional=False)
    elif extension == "csv":
        response = Response(stream_with_context(csv_chunks(table)), content_type="text/csv; charset=utf-8")
    else:
        raise ValueError(extension)
    response.headers["Content-Disposition"] = content_disposition(table.title, table.ascii_name, extension)
    return _mark_started(response)
